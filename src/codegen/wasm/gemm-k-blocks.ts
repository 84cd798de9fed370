/**
 * K blocking of the broadcast form's gemms whose operands outgrow the caches. The panel loops
 * (gemm-simd.ts packedPanels) re-read one operand many times: with M ≤ N a K×8 panel of B (32·K bytes)
 * per row block of A, and all of A (M·K floats) once per panel; with M > N all of B (K·N floats) once per
 * row block. Past the caches each re-read streams from the next level (256×192×K on an Intel Xeon: 0.77×
 * the GFLOP/s at K = 2304 of K = 256). A gemm split into blocks of K rows runs each block with its
 * operands cached. C starts as the bias plus the residual (or zeros) in a pass before the blocks, every
 * block adds into C (its residual is C itself: the epilogue reads C[m,n] and stores C[m,n], the same
 * element), and the activation is a pass over C after them; so the blocks of one length are one gemm in a
 * loop, one copy of the gemm's code (a first block with the bias and a last one with the activation were
 * two more copies: resnet50's relaxed module grew 117 → 205 KiB with them, 146 KiB with one). The passes
 * read or write each element of C four times against the blocks' 2·K > 1536 flops per element.
 */
import type { Expr, Extent, GemmStmt, MatView, Stmt } from '../../kernels/ir.js';
import { add, f32, i32, load, loop, mul, v } from '../../kernels/build.js';
import { at } from '../../kernels/rewrite/epilogue.js';
import { MIN_PANEL_N } from '../../kernels/b-panels.js';
import { flatMapGemms } from '../../kernels/walk.js';
import type { Rewrite } from '../../kernels/rewrite/pipeline.js';
import { simdGemmForm } from './gemm-simd.js';
import { activationPass, passOverC } from './gemm.js';

/**
 * Most K rows per block: the K×8 columns of B a SIMD128 tile streams then take 16 KiB, half of Zen 4's
 * 32 KiB L1 (Intel's: 48), relaxed SIMD's K×12 24 KiB.
 */
const MAX_BLOCK_ROWS = 512;
/**
 * Floats of the operand a block streams once per panel (A, M ≤ N) or per row block (B, M > N): 512 KiB,
 * half of Zen 4's 1 MiB L2 (Intel's: 2 MiB), so it stays there between sweeps.
 */
const L2_FLOATS = 128 * 1024;
/**
 * The largest K that stays whole: a K×8 panel of B of up to 24 KiB still fits L1, and splitting K = 576 in
 * two measured nothing (64×3136×576, relaxed, Intel Xeon) while 128×784×1152 in three gained 5–8 % and
 * 256×196×2304 in five 12–14 %.
 */
const WHOLE_K = 768;
/** Fewest K rows per block: each block reads and stores all of C again, once per this many multiply-adds. */
const MIN_BLOCK_ROWS = 256;
/** Block sizes are multiples of this: a packed B block then starts 16-byte aligned (k0·N floats in). */
const BLOCK_ALIGN = 8;

/**
 * K rows per block of `g` (a last block the rest), or undefined where it stays whole: int8 gemms, forms
 * other than the broadcast one, gemms too small for panels (M < 8 or N < 8), an A, B or bias in C's
 * buffer (a later block would read what an earlier one stored), and K up to WHOLE_K. Depends only on
 * what compile-time packing sees too (not `packedB`), so a B packed in blocks and its gemms agree.
 */
export function kBlockRows(g: GemmStmt): number | undefined {
  if (g.K <= WHOLE_K || g.int8 || simdGemmForm(g) !== 'broadcast' || g.M < 8 || g.N < MIN_PANEL_N)
    return undefined;
  if ([g.a, g.b, g.bias].some((view) => view?.buf.id === g.c.buf.id)) return undefined;
  const streamed = g.streamB ? g.M : Math.min(g.M, g.N);
  const most = Math.max(MIN_BLOCK_ROWS, Math.min(MAX_BLOCK_ROWS, Math.floor(L2_FLOATS / streamed)));
  const count = Math.ceil(g.K / most);
  if (count < 2) return undefined;
  // blocks all as long where K allows it (K = 2304: 6 × 384, not 5 × 464 and a 448 rest), so that no
  // shorter last block needs a second copy of the gemm's code
  for (let c = count; g.K / c >= MIN_BLOCK_ROWS; c++) if (g.K % (c * BLOCK_ALIGN) === 0) return g.K / c;
  return Math.ceil(g.K / count / BLOCK_ALIGN) * BLOCK_ALIGN;
}

/** Where the blocks of `rows` K rows start, and K last. */
export const blockBounds = (K: number, rows: number): number[] => [
  ...Array.from({ length: Math.ceil(K / rows) }, (_, i) => i * rows),
  K,
];

/** element `start` rows (a number or an i32 expression) of row stride `stride` further */
const rowsOffset = (offset: Expr, start: number | Expr, stride: Extent): Expr =>
  typeof start === 'number' && typeof stride === 'number'
    ? add(offset, i32(start * stride))
    : add(
        offset,
        mul(
          typeof start === 'number' ? i32(start) : start,
          typeof stride === 'number' ? i32(stride) : stride,
        ),
      );

/**
 * `g` in blocks of `rows` K rows: a pass that starts C at beta·bias + residual (or zeros), the blocks of
 * `rows` rows as one gemm in a loop named `loopVar` (one copy of the gemm's code), the rest of K (if
 * any) as one more, each adding into C, then the activation as a pass over C. A packed B
 * (GemmStmt.packedB) must hold each block packed on its own at element k0·N
 * (compiler/packed-weights.ts): a block's view is then B's rows k0..k0 + rows, read as a packed B of those
 * rows.
 */
export function splitK(g: GemmStmt, rows: number, loopVar: string): Stmt[] {
  const { bias, residual, act, ...whole } = g;
  const block = (start: number | Expr, K: number): GemmStmt => ({
    ...whole,
    K,
    a: { ...g.a, offset: rowsOffset(g.a.offset, start, g.a.cs) },
    b: { ...g.b, offset: rowsOffset(g.b.offset, start, g.b.rs) },
    residual: g.c,
  });
  const full = Math.floor(g.K / rows);
  const rest = g.K - full * rows;
  const start = passOverC(g, `${loopVar}.c.`, (m, n) => {
    const read = (view: MatView) => load(view.buf, at(view, m, n));
    const terms = [
      ...(bias ? [g.beta === 1 ? read(bias) : mul(f32(g.beta), read(bias))] : []),
      ...(residual ? [read(residual)] : []),
    ];
    return terms.length ? terms.reduce((x, y) => add(x, y)) : f32(0);
  });
  return [
    start,
    full === 1 ? block(0, rows) : loop(loopVar, full, [block(mul(v(loopVar), i32(rows)), rows)]),
    ...(rest > 0 ? [block(full * rows, rest)] : []),
    ...(act ? [activationPass(g, act, `${loopVar}.act.`)] : []),
  ];
}

/**
 * The gemms worth blocking, split (a wasm rewrite). A B packed at compile time is left as it is: the
 * packing chose its blocks and split its gemms (compiler/packed-weights.ts).
 */
export const gemmKBlocks: Rewrite = (body) => {
  let count = 0;
  return flatMapGemms(body, (g) => {
    const rows = g.packedB ? undefined : kBlockRows(g);
    return rows ? splitK(g, rows, `kblocks${count++}`) : [g];
  });
};
