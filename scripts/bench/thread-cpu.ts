/** CPU time of another process's main thread, for the serving benches (Linux; undefined elsewhere). */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Nanoseconds a process's main thread has run so far, from the scheduler's own accounting
 * (/proc/PID/task/PID/schedstat); undefined where there is none. The serving rows read their server's,
 * the direct loop this process's: CPU per request counts the work a request costs the server — parsing,
 * checks, the model, syscalls — and leaves out what latency adds on top of it: wake-ups and the
 * client's side of the socket.
 */
export function threadCpuNs(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

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
