/**
 * Scalar building blocks that work for every compute type. The Kernel IR's min/max/abs/neg are only
 * relied on for floats; integers get explicit compare-and-select so signedness is always honoured.
 */
import type { CmpOp, Expr, Scalar } from '../../kernels/ir.js';
import { bin, cast, cmp, cnst, div, select, sub, un } from '../../kernels/build.js';

export const isFloatScalar = (t: Scalar): boolean => t === 'f32' || t === 'f64';
export const k = (t: Scalar, value: number): Expr => cnst(t, value);

/** Ordered comparison, unsigned for uint inputs (uint32/uint64 do not fit their signed compute type). */
export function compare(op: 'lt' | 'le' | 'gt' | 'ge', a: Expr, b: Expr, unsigned: boolean): Expr {
  return cmp((unsigned && !isFloatScalar(a.t) ? `${op}_u` : op) as CmpOp, a, b);
}

export function minOf(a: Expr, b: Expr, unsigned: boolean): Expr {
  return isFloatScalar(a.t) ? bin('min', a, b) : select(compare('lt', a, b, unsigned), a, b);
}

export function maxOf(a: Expr, b: Expr, unsigned: boolean): Expr {
  return isFloatScalar(a.t) ? bin('max', a, b) : select(compare('gt', a, b, unsigned), a, b);
}

export function negOf(a: Expr): Expr {
  return isFloatScalar(a.t) ? un('neg', a) : sub(k(a.t, 0), a);
}

export function absOf(a: Expr, unsigned: boolean): Expr {
  if (isFloatScalar(a.t)) return un('abs', a);
  return unsigned ? a : select(cmp('lt', a, k(a.t, 0)), sub(k(a.t, 0), a), a);
}

/** x != 0 as i32 0/1: the meaning of a value as bool (NaN counts as true, like C and NumPy). */
export function truthy(a: Expr): Expr {
  return cmp('ne', a, k(a.t, 0));
}

/** Integer division or remainder with a divisor of 0 replaced by 1, because wasm traps on it. */
export function safeDivisor(b: Expr): Expr {
  return select(cmp('eq', b, k(b.t, 0)), k(b.t, 1), b);
}

/** Convert to a float compute type, reading integer sources as unsigned where they are. */
export function toFloat(t: 'f32' | 'f64', a: Expr, unsigned: boolean): Expr {
  return cast(t, a, unsigned && !isFloatScalar(a.t));
}

/** a / b; integer division truncates (unsigned where the dtype is) and yields 0 for a zero divisor. */
export function divide(a: Expr, b: Expr, unsigned: boolean): Expr {
  if (isFloatScalar(a.t)) return div(a, b);
  // ONNX leaves integer division by zero undefined; yield 0 instead of letting wasm trap.
  const q = bin(unsigned ? 'div_u' : 'div', a, safeDivisor(b));
  return select(cmp('eq', b, k(b.t, 0)), k(a.t, 0), q);
}
