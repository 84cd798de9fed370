/** Small builders for Kernel IR so op lowerings read like the math they express. */
import type { BinOp, BufRef, CmpOp, Expr, Extent, Scalar, Stmt, UnOp } from './ir.js';
import { scalarOf } from './ir.js';

export const f32 = (v: number): Expr => ({ k: 'const', t: 'f32', v });
export const f64 = (v: number): Expr => ({ k: 'const', t: 'f64', v });
export const i32 = (v: number): Expr => ({ k: 'const', t: 'i32', v });
export const i64 = (v: number | bigint): Expr => ({ k: 'const', t: 'i64', v: BigInt(v) });
export const cnst = (t: Scalar, v: number | bigint): Expr =>
  t === 'i64' ? { k: 'const', t, v: BigInt(v) } : { k: 'const', t, v: Number(v) };
export const v = (name: string, t: Scalar = 'i32'): Expr => ({ k: 'var', t, name });
/** A shape symbol's run-time value (see Program.dims). */
export const dim = (name: string): Expr => ({ k: 'dim', t: 'i32', name });

export const load = (buf: BufRef, index: Expr): Expr => ({ k: 'load', t: scalarOf(buf.dtype), buf, index });
export const store = (buf: BufRef, index: Expr, value: Expr): Stmt => ({ k: 'store', buf, index, value });

export const bin = (op: BinOp, a: Expr, b: Expr): Expr => {
  if (a.t !== b.t) throw new Error(`kernel IR: ${op} of ${a.t} and ${b.t}`);
  return { k: 'bin', t: a.t, op, a, b };
};
export const add = (a: Expr, b: Expr) => bin('add', a, b);
export const sub = (a: Expr, b: Expr) => bin('sub', a, b);
export const mul = (a: Expr, b: Expr) => bin('mul', a, b);
export const div = (a: Expr, b: Expr) => bin('div', a, b);
export const min = (a: Expr, b: Expr) => bin('min', a, b);
export const max = (a: Expr, b: Expr) => bin('max', a, b);

export const cmp = (op: CmpOp, a: Expr, b: Expr): Expr => {
  if (a.t !== b.t) throw new Error(`kernel IR: ${op} of ${a.t} and ${b.t}`);
  return { k: 'cmp', t: 'i32', op, a, b };
};
export const un = (op: UnOp, a: Expr): Expr => ({
  k: 'un',
  t: op === 'isnan' || op === 'isinf_pos' || op === 'isinf_neg' ? 'i32' : a.t,
  op,
  a,
});
export const cast = (t: Scalar, a: Expr, unsigned = false): Expr =>
  a.t === t ? a : { k: 'cast', t, a, ...(unsigned ? { unsigned } : {}) };
export const select = (cond: Expr, a: Expr, b: Expr): Expr => {
  if (a.t !== b.t) throw new Error(`kernel IR: select of ${a.t} and ${b.t}`);
  return { k: 'select', t: a.t, cond, a, b };
};

export const loop = (name: string, n: Extent, body: Stmt[]): Stmt => ({ k: 'loop', v: name, n, body });
/** A loop whose iterations share nothing (see the loop statement's `parallel`). */
export const parallelLoop = (name: string, n: Extent, body: Stmt[]): Stmt => ({
  k: 'loop',
  v: name,
  n,
  body,
  parallel: true,
});
export const local = (name: string, t: Scalar, init: Expr): Stmt => ({ k: 'local', name, t, init });
export const set = (name: string, value: Expr): Stmt => ({ k: 'set', name, value });
export const when = (cond: Expr, then: Stmt[], otherwise?: Stmt[]): Stmt => ({
  k: 'if',
  cond,
  then,
  ...(otherwise ? { else: otherwise } : {}),
});

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Σ idx[i]*strides[i] as an i32 expression, skipping zero strides and folding constants. */
export function linearIndex(idx: Expr[], strides: readonly number[]): Expr {
  let e: Expr | undefined;
  for (let i = 0; i < idx.length; i++) {
    if (strides[i] === 0) continue;
    const term = strides[i] === 1 ? idx[i] : mul(idx[i], i32(strides[i]));
    e = e ? add(e, term) : term;
  }
  return e ?? i32(0);
}

/**
 * Nest loops over `shape` (outermost first), naming vars `${prefix}0..`, and call `body` with the
 * index expressions. A 0-d shape yields the body once. `parallel`: the caller knows every index's body
 * touches elements no other index's does (the loops are declared parallel).
 */
export function forEachIndex(
  shape: readonly Extent[],
  prefix: string,
  body: (idx: Expr[]) => Stmt[],
  { parallel = false } = {},
): Stmt[] {
  const idx = shape.map((_, i) => v(`${prefix}${i}`));
  let stmts = body(idx);
  const nest = parallel ? parallelLoop : loop;
  for (let i = shape.length - 1; i >= 0; i--) stmts = [nest(`${prefix}${i}`, shape[i], stmts)];
  return stmts;
}
