/**
 * Floating-point operations a kernel performs per run, read off its Kernel IR (the profiler's
 * GFLOP/s). The rule, the same for built-in and user kernels:
 *   - a gemm statement counts 2·M·N·K (one multiply and one add per term; its bias and activation
 *     epilogue are not counted), so a Conv, ConvTranspose, MatMul or Gemm counts its multiply-adds × 2
 *     whether it lowers to gemm (through im2col or not) or to direct loops;
 *   - elsewhere every float (f32/f64) arithmetic operation — binary (add, mul, max, pow, …) and unary
 *     (sqrt, exp, neg, …) — counts 1; loads, stores, casts, comparisons, selects and all integer
 *     (index) arithmetic count 0. So a direct convolution's `acc + x·w` counts 2 per tap, an Add or
 *     Relu 1 per element, a pure data movement (Reshape copy, im2col, Transpose) 0;
 *   - a loop multiplies its body by its trip count (a run-time extent: its upper bound over the shape
 *     symbols' ranges); an `if` counts its costlier branch, as if taken (a padded convolution counts
 *     its padding taps, like the usual 2·MACs formula).
 * A statement kind this file does not know counts 0.
 */
import type { Expr, Kernel, ShapeSymbol, Stmt } from './ir.js';
import { extentRange, rangesOf, type SymbolRanges } from './extent.js';
import { visitExpr } from './walk.js';

export function kernelFlops(kernel: Kernel, symbols: readonly ShapeSymbol[] = []): number {
  return stmtsFlops(kernel.body, rangesOf(symbols));
}

function stmtsFlops(stmts: Stmt[], ranges: SymbolRanges): number {
  let total = 0;
  for (const s of stmts) total += stmtFlops(s, ranges);
  return total;
}

function stmtFlops(s: Stmt, ranges: SymbolRanges): number {
  switch (s.k) {
    case 'loop':
      return extentRange(s.n, ranges).max * stmtsFlops(s.body, ranges);
    case 'local':
      return exprFlops(s.init);
    case 'set':
      return exprFlops(s.value);
    case 'store':
      return exprFlops(s.value);
    case 'if':
      return exprFlops(s.cond) + Math.max(stmtsFlops(s.then, ranges), stmtsFlops(s.else ?? [], ranges));
    case 'gemm':
      return 2 * s.M * s.N * s.K;
    default:
      return 0;
  }
}

/** Float arithmetic nodes of `e` (comparisons, casts and selects count nothing). */
function exprFlops(e: Expr): number {
  let flops = 0;
  visitExpr(e, (x) => (x.k === 'bin' || x.k === 'un') && isFloat(x.t) && flops++);
  return flops;
}

const isFloat = (t: string) => t === 'f32' || t === 'f64';
