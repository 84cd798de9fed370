/**
 * The panel layout of a gemm's B that the wasm broadcast form's microkernel reads (GemmStmt.packedB):
 * B's columns in panels of B_PANEL, each panel's K rows stored one after another, and the last N % B_PANEL
 * columns in one more panel of that width, so the layout takes exactly K·N floats. A B split into blocks of
 * K rows (codegen/wasm/gemm-k-blocks.ts) holds each block in this layout on its own, from its first
 * row's element k0·N on. The gemm packs a B
 * into this layout at run time (codegen/wasm/gemm-simd.ts, with the tail panel zero-padded to 4 or 8
 * columns there); a constant B is stored so at compile time (compiler/packed-weights.ts).
 */

/** Columns per panel: the width of the broadcast form's micro-tile. */
export const B_PANEL = 8;

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
