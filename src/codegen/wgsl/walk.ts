/** Generic Kernel IR traversals the WGSL rewrites share: rebuilding expressions and statements, and reading names. */
import type { Expr, MatView, Stmt } from '../../kernels/ir.js';

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
      };
  }
}

/** Calls `visit` on every expression node in `s` (nested statements included). */
export function forEachExpr(s: Stmt, visit: (e: Expr) => void): void {
  mapStmtExprs(s, (e) => (visit(e), e));
}

/** Calls `visit` on `s` and on every statement nested in it. */
export function forEachStmt(s: Stmt, visit: (s: Stmt) => void): void {
  visit(s);
  if (s.k === 'loop') for (const b of s.body) forEachStmt(b, visit);
  if (s.k === 'if') for (const b of [...s.then, ...(s.else ?? [])]) forEachStmt(b, visit);
}

/** `s` with every read of variable `name` replaced by `value`. */
export function substStmt(s: Stmt, name: string, value: Expr): Stmt {
  return mapStmtExprs(s, (e) => (e.k === 'var' && e.name === name ? value : e));
}

/** Names of the variables `e` reads. */
export function exprVars(e: Expr, out = new Set<string>()): Set<string> {
  mapExpr(e, (x) => (x.k === 'var' && out.add(x.name), x));
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
