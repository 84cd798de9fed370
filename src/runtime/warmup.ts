/**
 * Warm-up at load: run the model before the first real request, so that request runs in V8's optimized
 * code instead of its baseline tier.
 *
 * V8 starts every wasm function in Liftoff (3–6× slower for Kiln's kernels) and compiles a function with
 * TurboFan on a background thread once it has spent its tiering budget; the function switches on its next
 * call. Kernels called once per run spend their budget over several runs, one by one, so a small model's
 * first run after load is all baseline code (measured 14× its steady time for a 1 ms classifier) and it
 * takes 10–20 runs to reach steady state; a large model gets there within a run or two. Warm-up therefore
 * runs for a time budget rather than a count. (The optimized code is installed by the background thread
 * itself, so the runs need not yield to the event loop in between.)
 */

/** Most warm-up runs, whatever the clock says (a Worker's clock does not advance during compute). */
export const MAX_WARMUP_RUNS = 32;

/**
 * The speed a run is estimated at from its flops: the low end of what Kiln's optimized code reaches on
 * one core (25–47 GFLOP/s on the bench models, README "Performance"), so the estimate errs long.
 */
export const ESTIMATE_GFLOPS = 20;

export interface WarmupResult {
  runs: number;
  ms: number;
}

/** A run's estimated time in ms from the flops the manifest's kernel table counts (0 without one). */
export function estimatedRunMs(kernels: readonly { flops: number }[] | undefined): number {
  const flops = (kernels ?? []).reduce((sum, k) => sum + k.flops, 0);
  return flops / (ESTIMATE_GFLOPS * 1e6);
}

/**
 * Call `run` until `budgetMs` is spent or MAX_WARMUP_RUNS runs are done, at least once; not at all when
 * one run is estimated to take longer than the whole budget (`estimatedRunMs`). Such a model's kernels
 * are split into chunks called many times per run (src/codegen/wasm/chunks.ts), so its first run tiers
 * itself up, and a host that compiles optimized code up front (src/runtime-node/v8-tiers.ts) has nothing left to
 * warm but a few ms of one-off costs, which a long run dwarfs: a warm-up run would only double the cold
 * start.
 */
export function warmUp(
  run: () => void,
  budgetMs: number,
  { now = () => performance.now(), estimatedRunMs = 0 }: { now?: () => number; estimatedRunMs?: number } = {},
): WarmupResult {
  if (estimatedRunMs > budgetMs) return { runs: 0, ms: 0 };
  const start = now();
  for (let runs = 1; ; runs++) {
    run();
    const spent = now() - start;
    if (spent >= budgetMs || runs >= MAX_WARMUP_RUNS) return { runs, ms: spent };
  }
}
