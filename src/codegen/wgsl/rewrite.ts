/**
 * Kernel IR rewrites before WGSL emission: loops of one iteration dissolve into their body (so the loop
 * nests that remain can be spread over invocations), a kernel splits into one dispatch per independent
 * top-level statement (dispatches run in order, so this keeps its meaning), and a gemm that is not a whole
 * dispatch becomes plain loops.
 */
import type { Activation, Expr, GemmStmt, MatView, Stmt } from '../../kernels/ir.js';
import { add, f32, i32, load, local, loop, max, min, mul, set, store, v } from '../../kernels/build.js';

function substExpr(e: Expr, name: string, value: Expr): Expr {
  switch (e.k) {
    case 'const':
      return e;
    case 'var':
      return e.name === name ? value : e;
    case 'load':
      return { ...e, index: substExpr(e.index, name, value) };
    case 'bin':
    case 'cmp':
      return { ...e, a: substExpr(e.a, name, value), b: substExpr(e.b, name, value) } as Expr;
    case 'un':
    case 'cast':
      return { ...e, a: substExpr(e.a, name, value) } as Expr;
    case 'select':
      return {
        ...e,
        cond: substExpr(e.cond, name, value),
        a: substExpr(e.a, name, value),
        b: substExpr(e.b, name, value),
      };
  }
}

function substView(view: MatView, name: string, value: Expr): MatView {
  return { ...view, offset: substExpr(view.offset, name, value) };
}

function substStmt(s: Stmt, name: string, value: Expr): Stmt {
  const e = (x: Expr) => substExpr(x, name, value);
  switch (s.k) {
    case 'loop':
      return { ...s, body: s.body.map((b) => substStmt(b, name, value)) };
    case 'local':
      return { ...s, init: e(s.init) };
    case 'set':
      return { ...s, value: e(s.value) };
    case 'store':
      return { ...s, index: e(s.index), value: e(s.value) };
    case 'if':
      return {
        ...s,
        cond: e(s.cond),
        then: s.then.map((b) => substStmt(b, name, value)),
        ...(s.else ? { else: s.else.map((b) => substStmt(b, name, value)) } : {}),
      };
    case 'gemm':
      return {
        ...s,
        a: substView(s.a, name, value),
        b: substView(s.b, name, value),
        c: substView(s.c, name, value),
        ...(s.bias ? { bias: substView(s.bias, name, value) } : {}),
      };
  }
}

/** Loops of one iteration become their body with the counter 0; loops of none disappear. */
export function dissolveTrivialLoops(body: Stmt[]): Stmt[] {
  return body.flatMap((s): Stmt[] => {
    switch (s.k) {
      case 'loop': {
        if (s.n <= 0) return [];
        const inner = dissolveTrivialLoops(s.body);
        if (s.n > 1) return [{ ...s, body: inner }];
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

function exprVars(e: Expr, out: Set<string>): void {
  switch (e.k) {
    case 'const':
      return;
    case 'var':
      out.add(e.name);
      return;
    case 'load':
      return exprVars(e.index, out);
    case 'bin':
    case 'cmp':
      exprVars(e.a, out);
      return exprVars(e.b, out);
    case 'un':
    case 'cast':
      return exprVars(e.a, out);
    case 'select':
      exprVars(e.cond, out);
      exprVars(e.a, out);
      return exprVars(e.b, out);
  }
}

/** Names a statement declares (loop counters, locals) and names it reads or sets. */
function names(s: Stmt, declared: Set<string>, used: Set<string>): void {
  switch (s.k) {
    case 'loop':
      declared.add(s.v);
      for (const b of s.body) names(b, declared, used);
      return;
    case 'local':
      declared.add(s.name);
      return exprVars(s.init, used);
    case 'set':
      used.add(s.name);
      return exprVars(s.value, used);
    case 'store':
      exprVars(s.index, used);
      return exprVars(s.value, used);
    case 'if':
      exprVars(s.cond, used);
      for (const b of [...s.then, ...(s.else ?? [])]) names(b, declared, used);
      return;
    case 'gemm':
      for (const view of [s.a, s.b, s.c, s.bias]) if (view) exprVars(view.offset, used);
  }
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
