/**
 * The Kiln runtime as Node imports it (`kiln/runtime` resolves here under the "node" condition): the same
 * API, with two Node defaults. `loadModel` compiles a bundle's wasm with V8's optimizing tier up front
 * (`compileOptimized`, src/runtime-node/v8-tiers.ts) unless `compileWasm` says otherwise, so a model's first
 * run is optimized code rather than V8's baseline tier (a first run 1.2–9.4× the steady time, measured
 * with the engine's default lazy compile); and it warms a small model up for `LIBRARY_WARMUP_MS` unless
 * `warmup` says otherwise. Workers and browsers resolve src/runtime/index.ts, where the engine's default
 * compile stays (V8 flags cannot be set there) and nothing runs at load.
 */
import { loadModel as loadWithOptions } from '../runtime/load.js';
import type { BundleSource, LoadOptions, Model } from '../runtime/types.js';
import { compileOptimized } from './v8-tiers.js';

export * from '../runtime/index.js';
export { compileOptimized } from './v8-tiers.js';

/**
 * The warm-up budget of a library's `loadModel` on Node (LoadOptions.warmup): a model whose one run is
 * estimated from its flops to fit it runs on zeros for this long, so that its first real run finds its
 * code and weights in the CPU's caches and predictors. Optimized code up front still left the first run
 * of a 0.75 ms classifier (mobilenetv3-cls) 1.3–1.6× its steady time: all of its kernels slower, the
 * weight-streaming squeeze-excite convs 2.5× in its first two runs, no GC, page fault or V8 compile in
 * it (scripts/perf/first-run.ts). Small enough that a larger model is not run (crnn-rec, a 2.5 ms run
 * estimated at 4.2 ms, has a first run within 1.07× of steady without one), and that the cold start grows
 * by a few ms. `kiln serve` warms up for 100 ms.
 */
export const LIBRARY_WARMUP_MS = 3;

/**
 * `loadModel` of src/runtime/index.ts, with `compileWasm` defaulting to `compileOptimized` and `warmup`
 * to `LIBRARY_WARMUP_MS` on Node.
 */
export function loadModel(source: BundleSource, options: LoadOptions = {}): Promise<Model> {
  return loadWithOptions(source, { compileWasm: compileOptimized, warmup: LIBRARY_WARMUP_MS, ...options });
}
