/** The CPU time of one inference, for `kiln bench --cost`. */

type CpuUsage = () => { user: number; system: number };

/**
 * A CPU clock in ms: the calling thread's (the one running JavaScript and the model's wasm) where Node
 * has `process.threadCpuUsage` (22.15 and 23.9 on), else the whole process's, V8's background threads included (garbage
 * collection, compiling to faster tiers): for a model that runs in microseconds, those are most of it.
 */
export function cpuClockMs(): number {
  const usage = (process as { threadCpuUsage?: CpuUsage }).threadCpuUsage?.() ?? process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * The CPU time of one inference from the timed runs: what the CPU clock counted per run, but never more
 * than their mean wall time, since one thread cannot spend more CPU than that (where the clock counts
 * the whole process, each of the two over-counts: the lesser is the closer bound).
 */
export function cpuMsPerInference(cpuMsPerRun: number, runMs: number[]): number {
  const meanMs = runMs.reduce((a, b) => a + b, 0) / runMs.length;
  return Math.min(cpuMsPerRun, meanMs);
}
