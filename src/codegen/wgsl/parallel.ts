/**
 * Which loops of a dispatch may run as separate invocations. A dispatch whose body is one loop nest
 * spreads its outer d loops over invocations when that provably changes nothing:
 * - every store's index is affine in the loop counters, its buffer at least 4 bytes per element (narrower
 *   stores rewrite whole words, which neighbours share);
 * - per stored buffer, all stores move with the same coefficients of the parallel counters, and these
 *   coefficients spread distinct invocations further apart than the span the other terms reach (so
 *   invocations write disjoint bands);
 * - a load from memory that some store writes reads the same buffer view, affinely, inside its own band.
 * Locals live inside the nest, so each invocation has its own. Anything else runs as one invocation.
 */
import type { BufRef, Expr, PlacedBuffer, Stmt } from '../../kernels/ir.js';
import { DTYPES } from '../../ir/dtype.js';

type LoopStmt = Extract<Stmt, { k: 'loop' }>;

/** const + Σ coef·counter */
interface Affine {
  c: number;
  coef: Map<string, number>;
}

function affine(e: Expr, counters: ReadonlyMap<string, number>): Affine | undefined {
  switch (e.k) {
    case 'const':
      return e.t === 'i32' ? { c: Number(e.v), coef: new Map() } : undefined;
    case 'var':
      return counters.has(e.name) ? { c: 0, coef: new Map([[e.name, 1]]) } : undefined;
    case 'bin': {
      const a = affine(e.a, counters);
      const b = affine(e.b, counters);
      if (!a || !b) return undefined;
      if (e.op === 'add' || e.op === 'sub') {
        const sign = e.op === 'add' ? 1 : -1;
        const coef = new Map(a.coef);
        for (const [name, x] of b.coef) coef.set(name, (coef.get(name) ?? 0) + sign * x);
        return { c: a.c + sign * b.c, coef };
      }
      if (e.op === 'mul') {
        const [scale, term] = a.coef.size === 0 ? [a.c, b] : b.coef.size === 0 ? [b.c, a] : [];
        if (!term || scale === undefined) return undefined;
        return { c: term.c * scale, coef: new Map([...term.coef].map(([n, x]) => [n, x * scale])) };
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** An access found in the nest, with the extents of the counters in scope there. */
interface Access {
  buf: BufRef;
  /** undefined: an access this analysis does not model */
  index?: Expr;
  counters: Map<string, number>;
}

function collect(stmts: Stmt[], counters: Map<string, number>, stores: Access[], loads: Access[]): void {
  const expr = (e: Expr): void => {
    switch (e.k) {
      case 'load':
        loads.push({ buf: e.buf, index: e.index, counters });
        return expr(e.index);
      case 'bin':
      case 'cmp':
        expr(e.a);
        return expr(e.b);
      case 'un':
      case 'cast':
        return expr(e.a);
      case 'select':
        expr(e.cond);
        expr(e.a);
        return expr(e.b);
    }
  };
  for (const s of stmts)
    switch (s.k) {
      case 'loop':
        collect(s.body, new Map([...counters, [s.v, s.n]]), stores, loads);
        break;
      case 'local':
        expr(s.init);
        break;
      case 'set':
        expr(s.value);
        break;
      case 'store':
        stores.push({ buf: s.buf, index: s.index, counters });
        expr(s.index);
        expr(s.value);
        break;
      case 'if':
        expr(s.cond);
        collect([...s.then, ...(s.else ?? [])], counters, stores, loads);
        break;
      case 'gemm':
        // gemms inside a nest were lowered to loops before; one here keeps the nest in one invocation
        stores.push({ buf: s.c.buf, counters });
    }
}

/** The element band an access reaches for fixed parallel counters: [lo, hi] around Σ coef·p. */
function band(
  access: Access,
  parallel: ReadonlySet<string>,
): { lo: number; hi: number; key: string } | undefined {
  const a = access.index && affine(access.index, access.counters);
  if (!a) return undefined;
  let lo = a.c;
  let hi = a.c;
  const outer: [string, number][] = [];
  for (const [name, x] of a.coef) {
    if (x === 0) continue;
    if (parallel.has(name)) outer.push([name, x]);
    else {
      const reach = x * (access.counters.get(name)! - 1);
      lo += Math.min(0, reach);
      hi += Math.max(0, reach);
    }
  }
  const key = outer
    .sort(([m], [n]) => (m < n ? -1 : 1))
    .map(([n, x]) => `${n}*${x}`)
    .join('+');
  return { lo, hi, key };
}

export interface ParallelNest {
  /** the spread loops, outermost first */
  loops: { v: string; n: number }[];
  /** the body of the innermost spread loop */
  body: Stmt[];
  /** invocations: the product of the spread loops' extents */
  count: number;
}

/** The deepest prefix of the dispatch's loop nest that is safe to spread, if any. */
export function parallelNest(
  body: Stmt[],
  placed: ReadonlyMap<number, PlacedBuffer>,
): ParallelNest | undefined {
  if (body.length !== 1 || body[0].k !== 'loop') return undefined;
  const nest: LoopStmt[] = [body[0]];
  for (let inner = body[0].body; inner.length === 1 && inner[0].k === 'loop'; inner = inner[0].body)
    nest.push(inner[0]);
  for (let d = nest.length; d >= 1; d--) {
    const loops = nest.slice(0, d);
    if (spreadable(loops, placed))
      return {
        loops: loops.map((l) => ({ v: l.v, n: l.n })),
        body: loops[d - 1].body,
        count: loops.reduce((p, l) => p * l.n, 1),
      };
  }
  return undefined;
}

function spreadable(loops: LoopStmt[], placed: ReadonlyMap<number, PlacedBuffer>): boolean {
  const counters = new Map(loops.map((l) => [l.v, l.n]));
  const parallel = new Set(counters.keys());
  const stores: Access[] = [];
  const loads: Access[] = [];
  collect(loops[loops.length - 1].body, counters, stores, loads);
  const bytesOf = (buf: BufRef) => (buf.dtype === 'string' ? 0 : DTYPES[buf.dtype].bytes);
  const view = (buf: BufRef) => `${placed.get(buf.id)?.offset}:${buf.dtype}`;

  // per stored view: the parallel coefficients and the union of the bands
  const groups = new Map<string, { key: string; lo: number; hi: number; coef: Map<string, number> }>();
  for (const st of stores) {
    if (bytesOf(st.buf) < 4) return false;
    const b = band(st, parallel);
    if (!b) return false;
    const g = groups.get(view(st.buf));
    if (g && g.key !== b.key) return false;
    const coef = affine(st.index!, st.counters)!.coef;
    groups.set(view(st.buf), {
      key: b.key,
      lo: Math.min(g?.lo ?? b.lo, b.lo),
      hi: Math.max(g?.hi ?? b.hi, b.hi),
      coef,
    });
  }
  for (const g of groups.values()) {
    // mixed radix: each parallel coefficient exceeds everything the smaller ones and the band can reach
    let reach = g.hi - g.lo;
    const spread = loops
      .map((l) => ({ x: Math.abs(g.coef.get(l.v) ?? 0), n: l.n }))
      .sort((p, q) => p.x - q.x);
    for (const { x, n } of spread) {
      if (x <= reach) return false;
      reach += x * (n - 1);
    }
  }

  const region = (buf: BufRef): [number, number] => {
    const start = placed.get(buf.id)?.offset ?? NaN;
    return [start, start + buf.length * bytesOf(buf)];
  };
  const storedViews = stores.map((s) => s.buf);
  for (const ld of loads) {
    const [s0, e0] = region(ld.buf);
    const overlaps = storedViews.some((buf) => {
      const [s1, e1] = region(buf);
      return !(e0 <= s1 || e1 <= s0);
    });
    if (!overlaps) continue;
    const g = groups.get(view(ld.buf));
    const b = band(ld, parallel);
    if (!g || !b || b.key !== g.key || b.lo < g.lo || b.hi > g.hi) return false;
  }
  return true;
}
