/**
 * CPU clocks: the calling thread's, for `kiln bench --cost` (and the benchmark scripts' in-process
 * rows), the whole process's, for `--profile --clock cpu`, and another process's main thread's, for the
 * serving benches.
 */
import { readFileSync } from 'node:fs';

type CpuUsage = () => { user: number; system: number };

/**
 * 'thread': the calling thread's CPU time (the thread running JavaScript and the model's wasm);
 * 'process': the whole process's, V8's background threads included (garbage collection, compiling to
 * faster tiers) — for a model that runs in microseconds, those are most of it.
 */
export type CpuClockKind = 'thread' | 'process';

export interface CpuClock {
  kind: CpuClockKind;
  /** CPU milliseconds so far */
  ms: () => number;
}

/** What a bench prints under its CPU figures when the clock counts the whole process. */
export const PROCESS_CLOCK_NOTE =
  "CPU time from the whole process's clock (this Node has no process.threadCpuUsage and /proc no " +
  "thread-self/schedstat): V8's background threads count too, so it may overstate an inference's";

/**
 * The calling thread's CPU clock: Node's `process.threadCpuUsage` (22.15 and 23.9 on), else the
 * scheduler's count in `schedstat` (Linux: /proc/thread-self/schedstat), else the whole process's
 * (`process.cpuUsage`, kind 'process').
 */
export function cpuClockOf(sources: { threadCpuUsage?: CpuUsage; schedstat: string }): CpuClock {
  const { threadCpuUsage, schedstat } = sources;
  if (threadCpuUsage) return { kind: 'thread', ms: () => (settle(), usageMs(threadCpuUsage())) };
  if (schedstatMs(schedstat) !== undefined)
    return { kind: 'thread', ms: () => (settle(), schedstatMs(schedstat) ?? NaN) };
  return processCpuClock;
}

/**
 * The whole process's CPU clock: exact and cheap (a few µs a call), what `--profile --clock cpu` reads
 * around every kernel call, where reading /proc would cost more than many kernels.
 */
export const processCpuClock: CpuClock = { kind: 'process', ms: () => usageMs(process.cpuUsage()) };

/**
 * Linux counts a running thread's CPU time at each scheduler tick (4 ms at 250 Hz) or switch, and a
 * thread's clocks read that count — except when the thread group's time is asked for, which first adds
 * the calling thread's time since (thread_group_cputime): ask for it, and the thread's clock is exact.
 */
const settle = () => process.cpuUsage();

export const cpuClock: CpuClock = cpuClockOf({
  threadCpuUsage: (process as { threadCpuUsage?: CpuUsage }).threadCpuUsage?.bind(process),
  schedstat: '/proc/thread-self/schedstat',
});

/**
 * The CPU milliseconds a process's main thread has run so far: this process's by `cpuClock` (call it
 * from the main thread), another's (a server timed from its client) from /proc/PID/task/PID/schedstat,
 * counted up to that thread's last tick or switch (a server waiting for each request is switched out
 * each time); undefined where /proc has none.
 */
export function mainThreadCpuMs(pid: number): number | undefined {
  return pid === process.pid ? cpuClock.ms() : schedstatMs(`/proc/${pid}/task/${pid}/schedstat`);
}

/** The first field of a /proc schedstat file: nanoseconds on the CPU, as the scheduler counts them. */
function schedstatMs(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

const usageMs = (usage: { user: number; system: number }) => (usage.user + usage.system) / 1000;

/**
 * The CPU time of one inference from the timed runs: what the CPU clock counted per run, but never more
 * than their mean wall time, since one thread cannot spend more CPU than that (where the clock counts
 * the whole process, each of the two over-counts: the lesser is the closer bound).
 */
export function cpuMsPerInference(cpuMsPerRun: number, runMs: number[]): number {
  const meanMs = runMs.reduce((a, b) => a + b, 0) / runMs.length;
  return Math.min(cpuMsPerRun, meanMs);
}
