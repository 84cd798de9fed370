/** This process's peak resident memory, for `kiln bench` and `npm run bench`. */
import { readFileSync } from 'node:fs';

/**
 * Peak RSS in MB. Not `process.resourceUsage().maxRSS` alone: on Linux getrusage keeps the high-water
 * mark across exec, so a process spawned by a big parent reports the parent's RSS at fork.
 * /proc/self/status's VmHWM belongs to this address space alone.
 */
export function peakRssMb(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (kb) return Number(kb[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}
