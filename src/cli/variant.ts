/** What runs a loaded model, as the CLI names it: shared by run, bench and serve (the GPU server bundles serve, so this stays import-free). */

/** which wasm module runs (loadModel's `variant`) */
export const VARIANTS = ['auto', 'simd128', 'relaxed'] as const;

/** `wasm (relaxed SIMD)`, `wasm (SIMD128)` or `webgpu`. */
export function describeBackend(model: { backend: string; variant?: string }): string {
  if (model.variant === undefined) return model.backend;
  return `${model.backend} (${model.variant === 'relaxed' ? 'relaxed SIMD' : 'SIMD128'})`;
}

/** `, relaxed SIMD` or `, SIMD128` after a line about a model on wasm; nothing on webgpu. */
export function variantNote(model: { variant?: string }): string {
  if (model.variant === undefined) return '';
  return model.variant === 'relaxed' ? ', relaxed SIMD' : ', SIMD128';
}
