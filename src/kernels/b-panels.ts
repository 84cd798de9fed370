/**
 * The panel layout of a gemm's B that the wasm broadcast form's microkernel reads (GemmStmt.packedB):
 * B's columns in panels of B_PANEL, each panel's K rows stored one after another, and the last N % B_PANEL
 * columns in one more panel of that width, so the layout takes exactly K·N floats. A micro-tile's
 * 4-column vectors come from consecutive panels, so one layout serves every tile width (SIMD128's 8
 * columns, relaxed SIMD's 12) and each vector streams contiguously in k. A constant B is stored so at
 * compile time (compiler/packed-weights.ts), for both modules alike; a B split into blocks of K rows
 * (codegen/wasm/gemm-k-blocks.ts) holds each block in this layout on its own, from its first row's element
 * k0·N on. A B packed at run time is in panels of the module's own tile width (codegen/wasm/gemm-simd.ts,
 * the tail panel zero-padded there).
 */

/** Columns per panel: one f32x4 vector. */
export const B_PANEL = 4;

/** Fewest columns N for which a gemm's B is worth panels (SIMD128's tile width): narrower B stay whole. */
export const MIN_PANEL_N = 8;

/** Where element (k, n) of a K×N B lies in its panels. */
export function panelIndex(K: number, N: number, k: number, n: number): number {
  const first = n - (n % B_PANEL);
  return K * first + k * Math.min(B_PANEL, N - first) + (n - first);
}

/** A row-major K×N B in panels. */
export function packBPanels(b: Float32Array, K: number, N: number): Float32Array {
  const out = new Float32Array(K * N);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) out[panelIndex(K, N, k, n)] = b[k * N + n];
  return out;
}

/** A row-major K×N B in panels, each block of rows (`bounds`: where blocks start, K last) on its own. */
export function packBPanelBlocks(b: Float32Array, N: number, bounds: readonly number[]): Float32Array {
  const out = new Float32Array(b.length);
  bounds.slice(1).forEach((end, i) => {
    const start = bounds[i];
    out.set(packBPanels(b.subarray(start * N, end * N), end - start, N), start * N);
  });
  return out;
}
