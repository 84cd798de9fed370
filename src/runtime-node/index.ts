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
 * estimated from its flops to fit it runs on zeros for this long (at most 32 runs), so that its first real
 * run does not find the CPU cold. Optimized code up front still left the first run of a 0.75 ms classifier
 * (mobilenetv3-cls) 1.3–1.6× its steady time: all of its kernels slower, the weight-streaming
 * squeeze-excite convs 2.5× in its first two runs, no GC, page fault or V8 compile in it
 * (scripts/perf/first-run.ts). A few runs (3–5 ms) did not help it on a loaded machine; `kiln serve`'s
 * 32 runs (24 ms) took its first run from 1.57× to 1.19× steady in the quiet bench (wall clock), and
 * this budget lets it run them. Larger models (squeezenet, bert-enc, dbnet-det) are not run; their first
 * runs are within 1.08× of steady.
 */
export const LIBRARY_WARMUP_MS = 30;

/**
 * `loadModel` of src/runtime/index.ts, with `compileWasm` defaulting to `compileOptimized` and `warmup`
 * to `LIBRARY_WARMUP_MS` on Node.
 */
export function loadModel(source: BundleSource, options: LoadOptions = {}): Promise<Model> {
  return loadWithOptions(source, { compileWasm: compileOptimized, warmup: LIBRARY_WARMUP_MS, ...options });
}
