/** Viewing a tensor as [outer, D, inner] around one axis: the layout ArgMax, Softmax and CumSum walk. */
import { sizeOf } from '../../ir/tensor.js';
import type { Expr, Extent } from '../../kernels/ir.js';
import { add, i32, mul } from '../../kernels/build.js';
import { extentExpr } from '../../kernels/extent.js';

export interface AxisSplit {
  outer: number;
  /** extent of the walked axis (or of all trailing axes, for opset < 13 Softmax's 2-D coercion) */
  d: number;
  inner: number;
}

/** The same view with extents that may be known only at run time (shape expressions). */
export interface ExtentSplit {
  outer: Extent;
  d: Extent;
  inner: Extent;
}

export function splitAt(shape: readonly number[], axis: number, coerce2d = false): AxisSplit {
  return coerce2d
    ? { outer: sizeOf(shape.slice(0, axis)), d: sizeOf(shape.slice(axis)), inner: 1 }
    : { outer: sizeOf(shape.slice(0, axis)), d: shape[axis], inner: sizeOf(shape.slice(axis + 1)) };
}

/** Linear index of (o, r, i) in the [outer, D, inner] view. */
export function splitIndex(s: ExtentSplit, o: Expr, r: Expr, i: Expr): Expr {
  const row =
    typeof s.d === 'number' && typeof s.inner === 'number'
      ? i32(s.d * s.inner)
      : mul(extentExpr(s.d), extentExpr(s.inner));
  return add(add(mul(o, row), mul(r, extentExpr(s.inner))), i);
}
