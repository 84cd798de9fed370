/** The gemm epilogue as Kernel IR: C = act(alpha·acc + beta·bias), and element (r, c) of a matrix view. */
import type { Activation, Expr, GemmStmt, MatView } from '../ir.js';
import { add, f32, i32, max, min, mul } from '../build.js';

/** `value` through a fused activation (none: unchanged). */
export function activate(act: Activation | undefined, value: Expr): Expr {
  if (!act) return value;
  if (act.op === 'relu') return max(value, f32(0));
  return min(max(value, f32(act.min)), f32(act.max));
}

/** The index of element (r, c) of `view`, starting from `offset` (the view's own, or a local bound to it). */
export function at(view: MatView, r: Expr, c: Expr, offset: Expr = view.offset): Expr {
  let index = offset;
  if (view.rs !== 0) index = add(index, view.rs === 1 ? r : mul(r, i32(view.rs)));
  if (view.cs !== 0) index = add(index, view.cs === 1 ? c : mul(c, i32(view.cs)));
  return index;
}

/** act(alpha·acc + beta·bias) for one output element (bias: its loaded value, when the gemm has one). */
export function epilogue(g: GemmStmt, acc: Expr, bias: Expr | undefined): Expr {
  let value = g.alpha === 1 ? acc : mul(acc, f32(g.alpha));
  if (bias) value = add(value, g.beta === 1 ? bias : mul(bias, f32(g.beta)));
  return activate(g.act, value);
}
