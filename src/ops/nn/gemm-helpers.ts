/** Helpers for lowering to the float32 `gemm` Kernel IR statement and to plain multiply-accumulate loops. */
import type { BufRef, Expr, Extent, GemmStmt, MatView, Scalar, Stmt } from '../../kernels/ir.js';
import { extentExpr } from '../../kernels/extent.js';
import { add, i32, load, local, loop, mul, set, store, v } from '../../kernels/build.js';
import { scalarOf } from '../../kernels/ir.js';
import { cnst } from '../../kernels/build.js';
import { at as viewIndex } from '../../kernels/rewrite/epilogue.js';

export const view = (buf: BufRef, offset: Expr, rs: Extent, cs: number): MatView => ({ buf, offset, rs, cs });

export function gemm(
  M: number,
  N: number,
  K: number,
  a: MatView,
  b: MatView,
  c: MatView,
  opts: { alpha?: number; bias?: MatView; beta?: number; streamB?: boolean } = {},
): GemmStmt {
  const stmt: GemmStmt = { k: 'gemm', M, N, K, a, b, c, alpha: opts.alpha ?? 1, beta: opts.beta ?? 1 };
  if (opts.bias) stmt.bias = opts.bias;
  if (opts.streamB) stmt.streamB = true;
  return stmt;
}

/**
 * Copying a strided B into a unit-column-stride scratch matrix (the SIMD path needs b.cs === 1) costs
 * about K·N strided moves; it pays for itself once A has this many rows. Fewer rows (GEMV-like
 * products, batch-1 fully connected layers) read B's rows contiguously in the scalar path instead.
 */
const TRANSPOSE_MIN_ROWS = 8;

/**
 * Make a K×N view of B with unit column stride when that is worth it: returns the view to use and
 * the statements (a copy loop into `scratch()`) to run before the gemm.
 */
export function unitColumnB(
  b: MatView,
  M: number,
  K: number,
  N: number,
  scratch: (n: number) => BufRef,
  loopPrefix: string,
): { view: MatView; prep: Stmt[] } {
  if (b.cs === 1 || N === 1 || M < TRANSPOSE_MIN_ROWS)
    return { view: N === 1 ? { ...b, cs: 1 } : b, prep: [] };
  const buf = scratch(K * N);
  const r = v(`${loopPrefix}r`);
  const c = v(`${loopPrefix}c`);
  const src = add(add(b.offset, mul(r, extentExpr(b.rs))), mul(c, i32(b.cs)));
  const prep = [
    loop(`${loopPrefix}r`, K, [
      loop(`${loopPrefix}c`, N, [store(buf, add(mul(r, i32(N)), c), load(b.buf, src))]),
    ]),
  ];
  return { view: view(buf, i32(0), N, 1), prep };
}

/** Element (r, c) of a view, loaded. */
export const at = (m: MatView, r: Expr, c: Expr): Expr => load(m.buf, viewIndex(m, r, c));

/**
 * Plain loops computing C[m, n] = epilogue(Σ_k A[m, k]·B[k, n]) in the compute type of C's dtype:
 * the path for dtypes the gemm statement does not cover. Loop names get `prefix`.
 */
export function matmulLoops(
  M: number,
  N: number,
  K: number,
  a: MatView,
  b: MatView,
  c: MatView,
  prefix: string,
  epilogue: (acc: Expr, m: Expr, n: Expr) => Expr = (acc) => acc,
): Stmt[] {
  const t: Scalar = scalarOf(c.buf.dtype);
  const [m, n, k] = [v(`${prefix}m`), v(`${prefix}n`), v(`${prefix}k`)];
  const acc = `${prefix}acc`;
  return [
    loop(`${prefix}m`, M, [
      loop(`${prefix}n`, N, [
        local(acc, t, cnst(t, 0)),
        loop(`${prefix}k`, K, [set(acc, add(v(acc, t), mul(at(a, m, k), at(b, k, n))))]),
        store(c.buf, add(c.offset, add(mul(m, extentExpr(c.rs)), n)), epilogue(v(acc, t), m, n)),
      ]),
    ]),
  ];
}
