/**
 * The Kiln runtime as Node imports it (`kiln/runtime` resolves here under the "node" condition): the same
 * API, with one Node default. `loadModel` compiles a bundle's wasm with V8's optimizing tier up front
 * (`compileOptimized`, src/runtime-node/v8-tiers.ts) unless `compileWasm` says otherwise, so a model's first
 * run is optimized code rather than V8's baseline tier (a first run 1.2–9.4× the steady time, measured
 * with the engine's default lazy compile). Workers and browsers resolve src/runtime/index.ts, where the
 * engine's default compile stays (V8 flags cannot be set there).
 */
import { loadModel as loadWithOptions } from '../runtime/load.js';
import type { BundleSource, LoadOptions, Model } from '../runtime/types.js';
import { compileOptimized } from './v8-tiers.js';

export * from '../runtime/index.js';
export { compileOptimized } from './v8-tiers.js';

/** `loadModel` of src/runtime/index.ts, with `compileWasm` defaulting to `compileOptimized` on Node. */
export function loadModel(source: BundleSource, options: LoadOptions = {}): Promise<Model> {
  return loadWithOptions(source, { compileWasm: compileOptimized, ...options });
}
