/**
 * A 2-D Conv lowering as a producer of output rows, so that a consumer can take the output band by band
 * (conv-pool.ts) instead of whole. Both the panel lowering (conv-panels.ts) and the im2col + gemm one
 * (conv.ts, float32 and int8) are producers; their own whole-output lowerings call `rows` once.
 */
import type { BufRef, Expr, Stmt } from '../../kernels/ir.js';
import { add } from '../../kernels/build.js';

/** Where rows go: output channel m's row `first + j`, column x, at buf[at + m·ld + j·OW + x]. */
export interface RowsTarget {
  buf: BufRef;
  at: Expr;
  ld: number;
}

export interface ConvRows {
  /**
   * statements computing output rows [first, first + height) of image n, every output channel, into
   * `to`; their loop names are fixed, so one call per kernel
   */
  rows(n: Expr, first: Expr, height: number, to: RowsTarget): Stmt[];
}

/** a + b, or b alone when a is the constant 0 (the whole-output lowerings start at row 0) */
export const offsetBy = (a: Expr, b: Expr): Expr => (a.k === 'const' && a.v === 0 ? b : add(a, b));
