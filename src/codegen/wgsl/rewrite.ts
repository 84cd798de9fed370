/**
 * Kernel IR rewrites before WGSL emission: f64 math demotes to f32 where it only buys accumulation
 * precision, loops of one iteration dissolve into their body (so the loop nests that remain can be spread
 * over invocations), a kernel splits into one dispatch per independent top-level statement (dispatches run
 * in order, so this keeps its meaning), and a gemm that is not a whole dispatch becomes plain loops.
 *
 * WGSL has no f64, so the webgpu target accumulates in f32 where the wasm target uses f64 (the statistics
 * of BatchNormalization, LayerNormalization, reductions, pools), as GPUs and onnxruntime's WebGPU provider
 * do: results agree within float tolerance, not bit for bit.
 */
import type { Activation, BufRef, Expr, GemmStmt, MatView, Stmt } from '../../kernels/ir.js';
import { add, f32, i32, load, local, loop, max, min, mul, set, store, v } from '../../kernels/build.js';
import { unsupported } from './types.js';
import { forEachExpr, forEachStmt, mapExpr, mapStmtExprs, names, substStmt } from './walk.js';

/** Buffers f32 can stand in for f64 next to: their values are f32-exact already. */
const F32_EXACT_DTYPES = new Set(['float32', 'float16']);
const WIDE_DTYPES = new Set(['float64', 'int64', 'uint64']);

function buffersOf(s: Stmt, out: BufRef[]): void {
  forEachExpr(s, (e) => e.k === 'load' && out.push(e.buf));
  forEachStmt(s, (x) => {
    if (x.k === 'store') out.push(x.buf);
    if (x.k === 'gemm') for (const view of [x.a, x.b, x.c, x.bias]) if (view) out.push(view.buf);
  });
}

/** (an f64 local always has an f64 initial value, so looking at expressions finds it) */
function usesF64(s: Stmt): boolean {
  let found = false;
  forEachExpr(s, (e) => (found ||= e.t === 'f64'));
  return found;
}

const demoteExpr = (e: Expr): Expr => {
  const demoted = e.t === 'f64' ? ({ ...e, t: 'f32' } as Expr) : e;
  // a widening cast of an f32 value (loadAs('f64', ...)) has nothing left to do
  return demoted.k === 'cast' && demoted.a.t === demoted.t ? demoted.a : demoted;
};

function demoteStmt(s: Stmt): Stmt {
  switch (s.k) {
    case 'local':
      return { ...s, t: s.t === 'f64' ? 'f32' : s.t, init: mapExpr(s.init, demoteExpr) };
    case 'loop':
      return { ...s, body: s.body.map(demoteStmt) };
    case 'if':
      return {
        ...s,
        cond: mapExpr(s.cond, demoteExpr),
        then: s.then.map(demoteStmt),
        ...(s.else ? { else: s.else.map(demoteStmt) } : {}),
      };
    default:
      return mapStmtExprs(s, demoteExpr);
  }
}

/**
 * The kernel with its f64 math in f32, when every buffer it loads or stores is float32 or float16: there
 * f64 only accumulates more precisely. Next to integer or 64-bit buffers f64 may be keeping integers
 * exact (an int32 sum, a float64 tensor), so such a kernel is refused rather than answered wrongly.
 */
export function demoteF64(body: Stmt[]): Stmt[] {
  if (!body.some(usesF64)) return body;
  const buffers: BufRef[] = [];
  for (const s of body) buffersOf(s, buffers);
  // 64-bit buffers are refused when emitted, naming the buffer: that is the more basic problem
  if (buffers.some((b) => WIDE_DTYPES.has(b.dtype))) return body;
  const integer = buffers.find((b) => !F32_EXACT_DTYPES.has(b.dtype));
  if (integer)
    throw unsupported(
      `f64 values are not supported with the ${integer.dtype} buffer #${integer.id}: f32 stands in for f64 only ` +
        'in kernels whose buffers are all float32/float16, as f64 may keep integers exact here',
    );
  return body.map(demoteStmt);
}

/** Loops of one iteration become their body with the counter 0; loops of none disappear. */
export function dissolveTrivialLoops(body: Stmt[]): Stmt[] {
  return body.flatMap((s): Stmt[] => {
    switch (s.k) {
      case 'loop': {
        if (typeof s.n === 'number' && s.n <= 0) return [];
        const inner = dissolveTrivialLoops(s.body);
        if (typeof s.n !== 'number' || s.n > 1) return [{ ...s, body: inner }];
        return inner.map((b) => substStmt(b, s.v, i32(0)));
      }
      case 'if':
        return [
          {
            ...s,
            then: dissolveTrivialLoops(s.then),
            ...(s.else ? { else: dissolveTrivialLoops(s.else) } : {}),
          },
        ];
      default:
        return [s];
    }
  });
}

/**
 * Splits a kernel body into runs of top-level statements that share no variables: each run can be its own
 * dispatch. A statement that uses a name an earlier one declares stays in the same run.
 */
export function splitIndependent(body: Stmt[]): Stmt[][] {
  const info = body.map((s) => {
    const declared = new Set<string>();
    const used = new Set<string>();
    names(s, declared, used);
    return { declared, used };
  });
  // joined[t]: statements t and t+1 must stay together
  const joined = new Array<boolean>(body.length).fill(false);
  for (let j = 0; j < body.length; j++)
    for (let i = 0; i < j; i++)
      if ([...info[j].used].some((n) => info[i].declared.has(n)))
        for (let t = i; t < j; t++) joined[t] = true;
  const runs: Stmt[][] = [];
  let current: Stmt[] = [];
  body.forEach((s, t) => {
    current.push(s);
    if (!joined[t]) {
      runs.push(current);
      current = [];
    }
  });
  return runs;
}

function activate(act: Activation | undefined, value: Expr): Expr {
  if (!act) return value;
  if (act.op === 'relu') return max(value, f32(0));
  return min(max(value, f32(act.min)), f32(act.max));
}

/** Element (r, c) of a view. */
function at(view: MatView, r: Expr, c: Expr): Expr {
  let index = view.offset;
  if (view.rs !== 0) index = add(index, view.rs === 1 ? r : mul(r, i32(view.rs)));
  if (view.cs !== 0) index = add(index, view.cs === 1 ? c : mul(c, i32(view.cs)));
  return index;
}

/** C = act(alpha·A·B + beta·bias) as loops: one dot product per output element. */
export function gemmAsLoops(g: GemmStmt, prefix: string): Stmt {
  const [m, n, k] = ['m', 'n', 'k'].map((x) => v(prefix + x));
  const acc = prefix + 'acc';
  let value = g.alpha === 1 ? v(acc, 'f32') : mul(v(acc, 'f32'), f32(g.alpha));
  if (g.bias) {
    const bias = load(g.bias.buf, at(g.bias, m, n));
    value = add(value, g.beta === 1 ? bias : mul(bias, f32(g.beta)));
  }
  return loop(prefix + 'm', g.M, [
    loop(prefix + 'n', g.N, [
      local(acc, 'f32', f32(0)),
      loop(prefix + 'k', g.K, [
        set(acc, add(v(acc, 'f32'), mul(load(g.a.buf, at(g.a, m, k)), load(g.b.buf, at(g.b, k, n))))),
      ]),
      store(g.c.buf, at(g.c, m, n), activate(g.act, value)),
    ]),
  ]);
}

/** Every gemm nested inside other statements, as loops. */
export function lowerNestedGemms(body: Stmt[], counter = { n: 0 }): Stmt[] {
  return body.map((s): Stmt => {
    switch (s.k) {
      case 'gemm':
        return gemmAsLoops(s, `gemm${counter.n++}.`);
      case 'loop':
        return { ...s, body: lowerNestedGemms(s.body, counter) };
      case 'if':
        return {
          ...s,
          then: lowerNestedGemms(s.then, counter),
          ...(s.else ? { else: lowerNestedGemms(s.else, counter) } : {}),
        };
      default:
        return s;
    }
  });
}
