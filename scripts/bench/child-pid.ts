/** Finds a benchmark's server process (its CPU time: mainThreadCpuMs in src/cli/cpu-time.ts). Linux. */
import { readdirSync, readFileSync } from 'node:fs';

/** The pid of this process's child named `command` (its /proc/PID/stat comm), where /proc lists one. */
export function childPid(command: string): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // it exited
    }
    // "PID (comm) state PPID ...": comm may hold spaces and parentheses, so split at the last ')'
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    if (comm === command && ppid === process.pid) return Number(pid);
  }
  return undefined;
}
