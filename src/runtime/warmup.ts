/**
 * Warm-up at load: run the model a few times before the first real request, so that request runs in
 * V8's optimized code instead of its baseline tier.
 *
 * V8 starts every wasm function in Liftoff (3–6× slower for Kiln's kernels) and compiles the ones that
 * run hot with TurboFan on a background thread; a function switches on its next call. A small model's
 * first run after load is therefore all baseline code (measured up to 20× its steady time), and the
 * next few runs a mix. Warm-up runs the model until a run is no longer clearly faster than the one
 * before (the code it calls is optimized), yielding to the event loop between runs so the background
 * compiler gets the CPU on a single core, within a time budget.
 */

/** Most warm-up runs, whatever the clock says (a Worker's clock does not advance during compute). */
export const MAX_WARMUP_RUNS = 16;
/** A run this much faster than the one before means the engine is still switching to optimized code. */
const STILL_IMPROVING = 0.9;

export interface WarmupResult {
  runs: number;
  ms: number;
}

/**
 * Call `run` until a run is not faster than `STILL_IMPROVING` × the previous one, `budgetMs` is spent,
 * or MAX_WARMUP_RUNS runs are done; at least one run.
 */
export async function warmUp(
  run: () => void,
  budgetMs: number,
  now: () => number = () => performance.now(),
): Promise<WarmupResult> {
  const start = now();
  let previous = Infinity;
  let runs = 0;
  for (;;) {
    const t0 = now();
    run();
    const t = now() - t0;
    runs++;
    const spent = now() - start;
    if (t > STILL_IMPROVING * previous || spent >= budgetMs || runs >= MAX_WARMUP_RUNS)
      return { runs, ms: spent };
    previous = t;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
