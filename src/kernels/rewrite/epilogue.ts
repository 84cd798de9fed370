/**
 * The gemm epilogue as Kernel IR: C = act(alpha·acc + beta·bias + residual), and element (r, c) of a
 * matrix view.
 */
import {
  EPILOGUE_INPUT,
  type Activation,
  type BufRef,
  type Expr,
  type GemmStmt,
  type Kernel,
  type MatView,
  type Stmt,
} from '../ir.js';
import { add, f32, forEachIndex, i32, load, max, min, mul, store } from '../build.js';
import { mapExpr, someExpr } from '../walk.js';
import { extentExpr } from '../extent.js';

/** `value` through a fused activation (none: unchanged). */
export function activate(act: Activation | undefined, value: Expr): Expr {
  if (!act) return value;
  if (act.op === 'relu') return max(value, f32(0));
  if (act.op === 'map')
    return mapExpr(act.value, (e) => (e.k === 'var' && e.name === EPILOGUE_INPUT ? value : e));
  return min(max(value, f32(act.min)), f32(act.max));
}

const LANE_WISE_BIN = new Set(['add', 'sub', 'mul', 'div', 'min', 'max']);
const LANE_WISE_UN = new Set([
  'neg',
  'abs',
  'sqrt',
  'floor',
  'ceil',
  'trunc',
  'nearest',
  'exp',
  'log',
  'erf',
  'tanh',
]);

/**
 * Whether a `map` activation's expression is one every code generator renders in a gemm's epilogue: f32
 * constants, the input, and lane-wise f32 math (the wasm generator's f32x4 ops and math helpers), with
 * selects on comparisons of such values.
 */
export function isMappable(e: Expr): boolean {
  if (e.t !== 'f32') return false;
  switch (e.k) {
    case 'const':
      return true;
    case 'var':
      return e.name === EPILOGUE_INPUT;
    case 'bin':
      return LANE_WISE_BIN.has(e.op) && isMappable(e.a) && isMappable(e.b);
    case 'un':
      return LANE_WISE_UN.has(e.op) && isMappable(e.a);
    case 'select':
      return (
        e.cond.k === 'cmp' &&
        ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(e.cond.op) &&
        isMappable(e.cond.a) &&
        isMappable(e.cond.b) &&
        isMappable(e.a) &&
        isMappable(e.b)
      );
    default:
      return false;
  }
}

/** The index of element (r, c) of `view`, starting from `offset` (the view's own, or a local bound to it). */
export function at(view: MatView, r: Expr, c: Expr, offset: Expr = view.offset): Expr {
  let index = offset;
  if (view.rs !== 0) index = add(index, view.rs === 1 ? r : mul(r, extentExpr(view.rs)));
  if (view.cs !== 0) index = add(index, view.cs === 1 ? c : mul(c, i32(view.cs)));
  return index;
}

/**
 * act(alpha·acc + beta·bias + residual) for one output element (bias, residual: their loaded values, when
 * the gemm has them).
 */
export function epilogue(g: GemmStmt, acc: Expr, bias: Expr | undefined, residual?: Expr): Expr {
  let value = g.alpha === 1 ? acc : mul(acc, f32(g.alpha));
  if (bias) value = add(value, g.beta === 1 ? bias : mul(bias, f32(g.beta)));
  if (residual) value = add(value, residual);
  return activate(g.act, value);
}

/**
 * `kernels` (writing `out`) followed by a fused activation, after the addition of `residual` (a buffer of
 * out's shape) when given. When no kernel reads `out` and every write to it is a float32 GEMM or a store,
 * both go into those writes (a GEMM's epilogue, a store's value: a shifted conv's copy out of its band,
 * say); otherwise (a gemm accumulating into `out`, a depthwise Conv's direct loops) an in-place loop
 * follows, so the result is right either way.
 */
export function applyActivation(
  kernels: Kernel[],
  out: BufRef,
  act: Activation | undefined,
  residual?: BufRef,
): Kernel[] {
  const gemms: Extract<Stmt, { k: 'gemm' }>[] = [];
  const stores: Extract<Stmt, { k: 'store' }>[] = [];
  let owned = true;
  const reads = (e: Expr) => someExpr(e, (x) => x.k === 'load' && x.buf.id === out.id);
  const walk = (stmts: Stmt[]) => {
    for (const s of stmts) {
      if (s.k === 'loop') walk(s.body);
      else if (s.k === 'if') {
        if (reads(s.cond)) owned = false;
        walk(s.then);
        walk(s.else ?? []);
      } else if (s.k === 'gemm') {
        if ([s.a, s.b, s.bias].some((m) => m?.buf.id === out.id) || s.act || s.residual) owned = false;
        if (residual && s.int8) owned = false;
        if (s.c.buf.id === out.id) gemms.push(s);
      } else if (s.k === 'store') {
        if (reads(s.value) || reads(s.index)) owned = false;
        if (s.buf.id === out.id) stores.push(s);
      } else if (reads(s.k === 'set' ? s.value : s.init)) owned = false;
    }
  };
  for (const k of kernels) walk(k.body);
  if (owned && gemms.length + stores.length > 0) {
    for (const g of gemms) {
      if (act) g.act = act;
      if (residual) g.residual = { ...g.c, buf: residual };
    }
    for (const s of stores)
      s.value = activate(act, residual ? add(s.value, load(residual, s.index)) : s.value);
    return kernels;
  }
  return [...kernels, { name: 'activation', body: activationLoop(out, act, residual) }];
}

/** An in-place pass of `act` over `out`, after adding `residual` (of out's length) when given. */
export const activationLoop = (out: BufRef, act: Activation | undefined, residual?: BufRef): Stmt[] =>
  forEachIndex(
    [out.length],
    'act',
    ([i]) => [store(out, i, activate(act, residual ? add(load(out, i), load(residual, i)) : load(out, i)))],
    { parallel: true },
  );
