/**
 * How `kiln bench` times a model, shared with the deploy's CPU estimate: the first run, a warm-up, then
 * `runs` timed runs. Not part of the runtime's entry point (index.ts), so it adds nothing to its size.
 */
import type { Feed, Model } from './types.js';

export interface RunTimes {
  /** the first run pays for lazy compilation tiers */
  firstMs: number;
  /** the timed runs, ascending */
  sorted: number[];
  /** with a `cpuClock`: the CPU time it counted over the timed runs, divided by their number */
  cpuMsPerRun?: number;
}

export async function timeRuns(
  model: Model,
  feeds: Record<string, Feed>,
  options: {
    runs: number;
    warmup: number;
    /** also warm by time, at least this long after the first run (V8 tiers wasm up in the background) */
    warmupMs?: number;
    progress?: (text: string) => void;
    /** a clock of CPU time in ms (in Node, the process's user + system time), read around the timed runs */
    cpuClock?: () => number;
  },
): Promise<RunTimes> {
  const timeRun = async (): Promise<number> => {
    const start = performance.now();
    await model.run(feeds);
    return performance.now() - start;
  };
  const firstMs = await timeRun();
  await warmFor(model, feeds, options.warmupMs ?? 0, options.progress);
  for (let i = 0; i < options.warmup; i++) {
    options.progress?.(`warmup ${i + 1}/${options.warmup}`);
    await timeRun();
  }
  const sorted: number[] = [];
  const cpuStart = options.cpuClock?.();
  for (let i = 0; i < options.runs; i++) {
    options.progress?.(`run ${i + 1}/${options.runs}`);
    sorted.push(await timeRun());
  }
  const cpuEnd = options.cpuClock?.();
  return {
    firstMs,
    sorted: sorted.sort((a, b) => a - b),
    ...(cpuStart !== undefined &&
      cpuEnd !== undefined && { cpuMsPerRun: (cpuEnd - cpuStart) / options.runs }),
  };
}

/** Run the model again and again for `ms` milliseconds (none when `ms` is 0). */
export async function warmFor(
  model: Model,
  feeds: Record<string, Feed>,
  ms: number,
  progress?: (text: string) => void,
): Promise<void> {
  const start = performance.now();
  for (let elapsed = 0; elapsed < ms; elapsed = performance.now() - start) {
    progress?.(`warming up ${(elapsed / 1000).toFixed(1)}/${(ms / 1000).toFixed(1)} s`);
    await model.run(feeds);
  }
}

/** Nearest-rank quantile of ascending values. */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
