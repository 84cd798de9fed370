/**
 * The one Kernel IR traversal: rebuilding expressions and statements, visiting their nodes, and reading
 * names. Rewrites, analyses and code generators use it instead of switching over every node kind.
 */
import type { BufRef, Expr, GemmStmt, MatView, Stmt } from './ir.js';

/** The operands of an expression node. */
export function operands(e: Expr): Expr[] {
  switch (e.k) {
    case 'const':
    case 'var':
    case 'dim':
      return [];
    case 'load':
      return [e.index];
    case 'bin':
    case 'cmp':
      return [e.a, e.b];
    case 'un':
    case 'cast':
      return [e.a];
    case 'select':
      return [e.cond, e.a, e.b];
  }
}

/** Calls `visit` on `e` and on every node below it, parents first. */
export function visitExpr(e: Expr, visit: (e: Expr) => void): void {
  visit(e);
  for (const x of operands(e)) visitExpr(x, visit);
}

/** Whether some node of `e` (itself included) satisfies `test`. */
export function someExpr(e: Expr, test: (e: Expr) => boolean): boolean {
  return test(e) || operands(e).some((x) => someExpr(x, test));
}

/** `e` rebuilt bottom-up: `f` sees each node after its operands were rebuilt. */
export function mapExpr(e: Expr, f: (e: Expr) => Expr): Expr {
  const m = (x: Expr) => mapExpr(x, f);
  switch (e.k) {
    case 'const':
    case 'var':
    case 'dim':
      return f(e);
    case 'load':
      return f({ ...e, index: m(e.index) });
    case 'bin':
    case 'cmp':
      return f({ ...e, a: m(e.a), b: m(e.b) } as Expr);
    case 'un':
    case 'cast':
      return f({ ...e, a: m(e.a) } as Expr);
    case 'select':
      return f({ ...e, cond: m(e.cond), a: m(e.a), b: m(e.b) });
  }
}

const mapView = (view: MatView, f: (e: Expr) => Expr): MatView => ({
  ...view,
  offset: mapExpr(view.offset, f),
});

/** `s` with every expression in it (nested statements included) rebuilt by mapExpr(·, f). */
export function mapStmtExprs(s: Stmt, f: (e: Expr) => Expr): Stmt {
  const e = (x: Expr) => mapExpr(x, f);
  const list = (xs: Stmt[]) => xs.map((x) => mapStmtExprs(x, f));
  switch (s.k) {
    case 'loop':
      return { ...s, body: list(s.body) };
    case 'local':
      return { ...s, init: e(s.init) };
    case 'set':
      return { ...s, value: e(s.value) };
    case 'store':
      return { ...s, index: e(s.index), value: e(s.value) };
    case 'if':
      return { ...s, cond: e(s.cond), then: list(s.then), ...(s.else ? { else: list(s.else) } : {}) };
    case 'gemm':
      return {
        ...s,
        a: mapView(s.a, f),
        b: mapView(s.b, f),
        c: mapView(s.c, f),
        ...(s.bias ? { bias: mapView(s.bias, f) } : {}),
        ...(s.residual ? { residual: mapView(s.residual, f) } : {}),
        ...(s.int8 ? { int8: { ...s.int8, scales: mapView(s.int8.scales, f) } } : {}),
      };
  }
}

/**
 * The matrices a gemm reads or writes: A, B, C, and the bias, residual and int8 weight scales where it
 * has them.
 */
export const gemmViews = (g: GemmStmt): MatView[] =>
  [g.a, g.b, g.c, g.bias, g.residual, g.int8?.scales].filter((view): view is MatView => view !== undefined);

/** The expressions a statement holds itself (not those of the statements nested in it). */
export function ownExprs(s: Stmt): Expr[] {
  switch (s.k) {
    case 'loop':
      return typeof s.n === 'number' ? [] : [s.n];
    case 'local':
      return [s.init];
    case 'set':
      return [s.value];
    case 'store':
      return [s.index, s.value];
    case 'if':
      return [s.cond];
    case 'gemm':
      return gemmViews(s).map((view) => view.offset);
  }
}

/** Calls `visit` on every expression node in `s` (nested statements included). */
export function forEachExpr(s: Stmt, visit: (e: Expr) => void): void {
  forEachStmt(s, (x) => ownExprs(x).forEach((e) => visitExpr(e, visit)));
}

/** Calls `visit` on `s` and on every statement nested in it. */
export function forEachStmt(s: Stmt, visit: (s: Stmt) => void): void {
  visit(s);
  if (s.k === 'loop') for (const b of s.body) forEachStmt(b, visit);
  if (s.k === 'if') for (const b of [...s.then, ...(s.else ?? [])]) forEachStmt(b, visit);
}

/** `body` with every gemm (nested ones included) replaced by the statements `f` gives for it. */
export function flatMapGemms(body: Stmt[], f: (g: GemmStmt) => Stmt[]): Stmt[] {
  return body.flatMap((s): Stmt[] => {
    if (s.k === 'gemm') return f(s);
    if (s.k === 'loop') return [{ ...s, body: flatMapGemms(s.body, f) }];
    if (s.k === 'if')
      return [{ ...s, then: flatMapGemms(s.then, f), ...(s.else ? { else: flatMapGemms(s.else, f) } : {}) }];
    return [s];
  });
}

/** Every buffer `s` loads, stores or hands to a gemm, in the order met (repeats included). */
export function buffersOf(s: Stmt): BufRef[] {
  const out: BufRef[] = [];
  forEachStmt(s, (x) => {
    if (x.k === 'store') out.push(x.buf);
    if (x.k === 'gemm') for (const view of gemmViews(x)) out.push(view.buf);
    for (const e of ownExprs(x)) visitExpr(e, (y) => y.k === 'load' && out.push(y.buf));
  });
  return out;
}

/** `s` with every read of variable `name` replaced by `value`. */
export function substStmt(s: Stmt, name: string, value: Expr): Stmt {
  return mapStmtExprs(s, (e) => (e.k === 'var' && e.name === name ? value : e));
}

/** Names of the variables `e` reads. */
export function exprVars(e: Expr, out = new Set<string>()): Set<string> {
  visitExpr(e, (x) => x.k === 'var' && out.add(x.name));
  return out;
}

/** Names a statement declares (loop counters, locals) and names it reads or sets. */
export function names(s: Stmt, declared: Set<string>, used: Set<string>): void {
  switch (s.k) {
    case 'loop':
      declared.add(s.v);
      for (const b of s.body) names(b, declared, used);
      return;
    case 'local':
      declared.add(s.name);
      exprVars(s.init, used);
      return;
    case 'set':
      used.add(s.name);
      exprVars(s.value, used);
      return;
    case 'if':
      exprVars(s.cond, used);
      for (const b of [...s.then, ...(s.else ?? [])]) names(b, declared, used);
      return;
    default:
      forEachExpr(s, (e) => e.k === 'var' && used.add(e.name));
  }
}

/** Whether statement `s` mentions variable `name` anywhere (declares, reads or sets it). */
export function mentions(s: Stmt, name: string): boolean {
  const declared = new Set<string>();
  const used = new Set<string>();
  names(s, declared, used);
  return declared.has(name) || used.has(name);
}
