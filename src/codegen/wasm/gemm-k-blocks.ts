/**
 * K blocking of the broadcast form's gemms whose operands outgrow the caches. The panel loops
 * (gemm-simd.ts packedPanels) re-read one operand many times: with M ≤ N a K×8 panel of B (32·K bytes)
 * per row block of A, and all of A (M·K floats) once per panel; with M > N all of B (K·N floats) once per
 * row block. Past the caches each re-read streams from the next level (256×192×K on an Intel Xeon: 0.77×
 * the GFLOP/s at K = 2304 of K = 256). A gemm split into blocks of K rows runs each block with its
 * operands cached: the first block with the bias and the residual, each later one adding into C (its
 * residual is C itself: the epilogue reads C[m,n] and stores C[m,n], the same element), the activation
 * only on the last.
 */
import type { GemmStmt, MatView } from '../../kernels/ir.js';
import { add, i32, mul } from '../../kernels/build.js';
import { B_PANEL } from '../../kernels/b-panels.js';
import { flatMapGemms } from '../../kernels/walk.js';
import type { Rewrite } from '../../kernels/rewrite/pipeline.js';
import { simdGemmForm } from './gemm-simd.js';

/** Most K rows per block: a K×8 panel of B then takes 16 KiB, half of Zen 4's 32 KiB L1 (Intel's: 48). */
const MAX_BLOCK_ROWS = 512;
/**
 * Floats of the operand a block streams once per panel (A, M ≤ N) or per row block (B, M > N): 512 KiB,
 * half of Zen 4's 1 MiB L2 (Intel's: 2 MiB), so it stays there between sweeps.
 */
const L2_FLOATS = 128 * 1024;
/** Fewest K rows per block: each block reads and stores all of C again, once per this many multiply-adds. */
const MIN_BLOCK_ROWS = 256;
/** Block sizes are multiples of this: a packed B block then starts 16-byte aligned (k0·N floats in). */
const BLOCK_ALIGN = 8;

/**
 * Where `g`'s K blocks start, K last ([0, k1, …, K]), or undefined where it stays whole: int8 gemms, forms
 * other than the broadcast one, gemms too small for panels (M < 8 or N < 8), an A, B or bias in C's
 * buffer (a later block would read what an earlier one stored), and K within one block. Depends only on
 * what compile-time packing sees too (not `packedB`), so a B packed in blocks and its gemms agree.
 */
export function kBlocks(g: GemmStmt): number[] | undefined {
  if (g.int8 || simdGemmForm(g) !== 'broadcast' || g.M < 8 || g.N < B_PANEL) return undefined;
  if ([g.a, g.b, g.bias].some((view) => view?.buf.id === g.c.buf.id)) return undefined;
  const streamed = g.streamB ? g.M : Math.min(g.M, g.N);
  const most = Math.max(MIN_BLOCK_ROWS, Math.min(MAX_BLOCK_ROWS, Math.floor(L2_FLOATS / streamed)));
  const count = Math.ceil(g.K / most);
  if (count < 2) return undefined;
  const size = Math.ceil(g.K / count / BLOCK_ALIGN) * BLOCK_ALIGN;
  const starts = Array.from({ length: Math.ceil(g.K / size) }, (_, i) => i * size);
  return [...starts, g.K];
}

/** `view` from `rows` rows (of row stride rs) further on. */
const rowsOn = (view: MatView, rows: number): MatView => ({
  ...view,
  offset: add(view.offset, typeof view.rs === 'number' ? i32(rows * view.rs) : mul(i32(rows), view.rs)),
});

/**
 * `g` as one gemm per K block (`bounds` as kBlocks gives them). A packed B (GemmStmt.packedB) must hold
 * each block packed on its own at element k0·N (compiler/packed-weights.ts): a block's view is then B's
 * rows k0..k1, read as a packed B of those rows.
 */
export function splitK(g: GemmStmt, bounds: readonly number[]): GemmStmt[] {
  const { bias, residual, act, ...whole } = g;
  return bounds.slice(1).map((end, i) => {
    const start = bounds[i];
    return {
      ...whole,
      K: end - start,
      a: { ...g.a, offset: add(g.a.offset, i32(start * g.a.cs)) },
      b: rowsOn(g.b, start),
      ...(i === 0 ? { ...(bias && { bias }), ...(residual && { residual }) } : { residual: g.c }),
      ...(end === g.K && act ? { act } : {}),
    };
  });
}

/**
 * The gemms worth blocking, split (a wasm rewrite). A B packed at compile time is left as it is: the
 * packing chose its blocks and split its gemms (compiler/packed-weights.ts).
 */
export const gemmKBlocks: Rewrite = (body) =>
  flatMapGemms(body, (g) => {
    const bounds = g.packedB ? undefined : kBlocks(g);
    return bounds ? splitK(g, bounds) : [g];
  });
