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

export interface WarmupResult {
  runs: number;
  ms: number;
}

/** Call `run` until `budgetMs` is spent or MAX_WARMUP_RUNS runs are done; at least once. */
export function warmUp(
  run: () => void,
  budgetMs: number,
  now: () => number = () => performance.now(),
): WarmupResult {
  const start = now();
  for (let runs = 1; ; runs++) {
    run();
    const spent = now() - start;
    if (spent >= budgetMs || runs >= MAX_WARMUP_RUNS) return { runs, ms: spent };
  }
}
