/**
 * Which loops of a dispatch may run as separate invocations. A dispatch whose body is one loop nest
 * spreads its outer d loops over invocations when that provably changes nothing:
 * - every store's index is affine in the loop counters (seen through i32 locals that are never set);
 * - per stored buffer, all stores move with the same coefficients of the parallel counters, and these
 *   coefficients spread distinct invocations further apart than the span the other terms reach (so
 *   invocations write disjoint bands); or, where the bands interleave (a softmax or scan along a middle
 *   axis: invocation i writes i, i + inner, i + 2·inner, …), all stores of the buffer reach the same
 *   lattice (lowest element, and step and count of each other counter), and the parallel and lattice
 *   steps together form a mixed radix (each exceeds all the smaller ones can reach), so no element is
 *   reached twice;
 * - narrow stores (under 4 bytes an element) rewrite the whole u32 word that holds the element, so there
 *   the bands are of words: each invocation runs `perWord` iterations of the innermost spread loop (its
 *   extent a number), the elements of whole words when the store index moves by one per iteration, and
 *   the check above runs on byte bands widened to whole words (numbers only, word-aligned starts and
 *   coefficients), so no two invocations write one word;
 * - a load from memory that some store writes reads the same buffer view, affinely, inside its own band
 *   (for interleaved bands: the very lattice its stores reach).
 * Locals live inside the nest, so each invocation has its own. Locals declared just before the next loop
 * of the nest (BatchNormalization's per-channel scale) move into it when neither they nor what they read
 * are ever set, so that loop can be spread too; each invocation then computes them itself.
 * Where the lowering declared the outer loops parallel (the loop's `parallel`), exactly those are spread,
 * once the same checks pass (a target limit, such as narrow stores, may still keep them in one
 * invocation); elsewhere the deepest prefix that passes is. Anything else runs as one invocation. With run-time sizes, extents, coefficients and bands are shape
 * expressions, and each comparison must hold for every value the symbols' bounds allow.
 */
import type { BufRef, Expr, Extent, PlacedBuffer, Stmt } from '../ir.js';
import { extentRange, shapeExprOf, type SymbolRanges } from '../extent.js';
import * as shape from '../../ir/symbolic.js';
import type { SymExpr } from '../../ir/symbolic.js';
import { DTYPES } from '../../ir/dtype.js';
import { exprVars, forEachStmt, mapExpr, visitExpr } from '../walk.js';
import { add, cmp, i32, local, loop, mul, v, when } from '../build.js';

type LoopStmt = Extract<Stmt, { k: 'loop' }>;

/**
 * const + Σ coef·counter, the constant and coefficients shape expressions (numbers, or over the dims:
 * a transpose's `j·h + i` with a run-time h is affine with coefficient h).
 */
interface Affine {
  c: SymExpr;
  coef: Map<string, SymExpr>;
}

function affine(e: Expr, counters: ReadonlyMap<string, SymExpr>, ranges: SymbolRanges): Affine | undefined {
  if (e.t !== 'i32') return undefined;
  if (e.k === 'var')
    return counters.has(e.name)
      ? { c: shape.constant(0), coef: new Map([[e.name, shape.constant(1)]]) }
      : undefined;
  if (e.k === 'bin' && (e.op === 'add' || e.op === 'sub' || e.op === 'mul')) {
    const a = affine(e.a, counters, ranges);
    const b = affine(e.b, counters, ranges);
    if (!a || !b) return undefined;
    if (e.op === 'mul') {
      const [scale, term] = a.coef.size === 0 ? [a.c, b] : b.coef.size === 0 ? [b.c, a] : [];
      if (!term || scale === undefined) return undefined;
      return {
        c: shape.mul(term.c, scale),
        coef: new Map([...term.coef].map(([n, x]) => [n, shape.mul(x, scale)])),
      };
    }
    const join = e.op === 'add' ? shape.add : shape.sub;
    const coef = new Map(a.coef);
    for (const [name, x] of b.coef) coef.set(name, join(coef.get(name) ?? 0, x));
    return { c: join(a.c, b.c), coef };
  }
  // anything else is affine only as a constant: a shape expression (numbers, dims) reading no counter
  const fixed = shapeExprOf(e, ranges);
  return typeof fixed === 'string' ? undefined : { c: fixed, coef: new Map() };
}

/** An access found in the nest, with the extents of the counters in scope there. */
interface Access {
  buf: BufRef;
  /** undefined: an access this analysis does not model */
  index?: Expr;
  counters: Map<string, SymExpr>;
}

/** A loop extent as a shape expression (a verified kernel's extents all are). */
function extentExpr(n: Extent, ranges: SymbolRanges): SymExpr {
  if (typeof n === 'number') return shape.constant(n);
  const e = shapeExprOf(n, ranges);
  if (typeof e === 'string') throw new Error(`internal: loop extent: ${e}`);
  return e;
}

/** Whether `e` ≥ `least` for every value the symbols' bounds allow. */
const atLeast = (e: SymExpr, least: number, ranges: SymbolRanges) => shape.bounds(e, ranges).min >= least;

/** Names some `set` statement in `stmts` assigns. */
function assigned(stmts: Stmt[]): Set<string> {
  const out = new Set<string>();
  for (const s of stmts) forEachStmt(s, (x) => x.k === 'set' && out.add(x.name));
  return out;
}

/**
 * Loads and stores of `stmts`; `lets` maps i32 locals that are never set to their initial values (in
 * terms of counters), so indices computed through them stay affine.
 */
function collect(
  stmts: Stmt[],
  counters: Map<string, SymExpr>,
  stores: Access[],
  loads: Access[],
  lets: Map<string, Expr>,
  setNames: ReadonlySet<string>,
  ranges: SymbolRanges,
): void {
  const inline = (e: Expr) => mapExpr(e, (x) => (x.k === 'var' && lets.get(x.name)) || x);
  const expr = (e: Expr): void =>
    visitExpr(e, (x) => x.k === 'load' && loads.push({ buf: x.buf, index: inline(x.index), counters }));
  for (const s of stmts)
    switch (s.k) {
      case 'loop':
        collect(
          s.body,
          new Map([...counters, [s.v, extentExpr(s.n, ranges)]]),
          stores,
          loads,
          lets,
          setNames,
          ranges,
        );
        break;
      case 'local':
        expr(s.init);
        if (s.t === 'i32' && !setNames.has(s.name)) lets.set(s.name, inline(s.init));
        break;
      case 'set':
        expr(s.value);
        break;
      case 'store':
        stores.push({ buf: s.buf, index: inline(s.index), counters });
        expr(s.index);
        expr(s.value);
        break;
      case 'if':
        expr(s.cond);
        collect([...s.then, ...(s.else ?? [])], counters, stores, loads, lets, setNames, ranges);
        break;
      case 'gemm':
        // gemms inside a nest were lowered to loops before; one here keeps the nest in one invocation
        stores.push({ buf: s.c.buf, counters });
    }
}

/** A step of a mixed radix: a counter's coefficient (≥ 0) and its extent. */
interface Step {
  x: SymExpr;
  n: SymExpr;
}

/** Whether Σ xᵢ·cᵢ (0 ≤ cᵢ < nᵢ) is one-to-one, starting with `reach` already taken below the first step. */
function mixedRadix(steps: Step[], reach: SymExpr, ranges: SymbolRanges): boolean {
  const sorted = [...steps].sort((p, q) => shape.bounds(p.x, ranges).max - shape.bounds(q.x, ranges).max);
  for (const { x, n } of sorted) {
    if (!atLeast(shape.sub(x, reach), 1, ranges)) return false;
    reach = shape.add(reach, shape.mul(x, shape.sub(n, 1)));
  }
  return true;
}

/**
 * The element band an access reaches for fixed parallel counters: [lo, hi] around Σ coef·p; `steps`,
 * the other counters' (|coefficient|, extent), and `lattice`, a key of lo and those steps.
 */
function band(
  access: Access,
  parallel: ReadonlySet<string>,
  ranges: SymbolRanges,
): { lo: SymExpr; hi: SymExpr; key: string; steps: Step[]; lattice: string } | undefined {
  const a = access.index && affine(access.index, access.counters, ranges);
  if (!a) return undefined;
  let lo = a.c;
  let hi = a.c;
  const outer: [string, SymExpr][] = [];
  const steps: Step[] = [];
  for (const [name, x] of a.coef) {
    if (shape.constValue(x) === 0) continue;
    if (parallel.has(name)) outer.push([name, x]);
    else {
      const n = access.counters.get(name)!;
      const reach = shape.mul(x, shape.sub(n, 1));
      if (atLeast(x, 0, ranges)) {
        hi = shape.add(hi, reach);
        steps.push({ x, n });
      } else if (atLeast(shape.mul(x, -1), 0, ranges)) {
        lo = shape.add(lo, reach);
        steps.push({ x: shape.mul(x, -1), n });
      } else return undefined;
    }
  }
  const key = outer
    .sort(([m], [n]) => (m < n ? -1 : 1))
    .map(([n, x]) => `${n}*(${x.key})`)
    .join('+');
  const lattice = [lo.key, ...steps.map(({ x, n }) => `${x.key}x${n.key}`).sort()].join('|');
  return { lo, hi, key, steps, lattice };
}

export interface ParallelNest {
  /** the spread loops, outermost first */
  loops: { v: string; n: Extent }[];
  /** the body of the innermost spread loop */
  body: Stmt[];
  /** invocations dispatched: the product of the spread loops' extents (upper bounds of run-time ones) */
  count: number;
}

const bytesOf = (buf: BufRef) => (buf.dtype === 'string' ? 0 : DTYPES[buf.dtype].bytes);

/** Whether two buffers share memory (views of one region overlap; an unplaced buffer overlaps anything). */
function overlap(x: BufRef, y: BufRef, placed: ReadonlyMap<number, PlacedBuffer>): boolean {
  const start = (buf: BufRef) => placed.get(buf.id)?.offset ?? NaN;
  const [s0, s1] = [start(x), start(y)];
  const [e0, e1] = [s0 + x.length * bytesOf(x), s1 + y.length * bytesOf(y)];
  return !(e0 <= s1 || e1 <= s0);
}

/**
 * `body` as [loop] with the locals before the loop moved to the start of the loop's body, when they are
 * never set, nor is anything they read. A local loading what the loop stores would then see the loop's
 * writes; spreadable refuses that nest, since the load lacks the loop's counter and every spread store has it.
 */
function intoNextLoop(body: Stmt[]): LoopStmt | undefined {
  const last = body[body.length - 1];
  if (last?.k !== 'loop') return undefined;
  const prefix = body.slice(0, -1);
  if (prefix.length === 0) return last;
  const setNames = assigned([last]);
  for (const s of prefix) {
    if (s.k !== 'local' || setNames.has(s.name)) return undefined;
    if ([...exprVars(s.init)].some((n) => setNames.has(n))) return undefined;
  }
  return { ...last, body: [...prefix, ...last.body] };
}

/** Elements per u32 word of the narrowest type `loop` stores: 1 when every stored type is 4 bytes or wider. */
function perWord(loop: LoopStmt): number {
  let least = 4;
  forEachStmt(loop, (s) => {
    if (s.k === 'store' && bytesOf(s.buf) > 0) least = Math.min(least, bytesOf(s.buf));
  });
  return 4 / least;
}

/**
 * `loops` with the last one walked `k` iterations per step: its counter becomes a local computed from
 * the word counter and a lane loop, iterations past the extent skipped. Undefined for a run-time extent.
 */
function byWords(loops: LoopStmt[], k: number): LoopStmt[] | undefined {
  const last = loops[loops.length - 1];
  if (typeof last.n !== 'number') return undefined;
  const [word, lane] = [`${last.v}.word`, `${last.v}.lane`];
  const body = [
    local(last.v, 'i32', add(mul(v(word), i32(k)), v(lane))),
    ...(last.n % k === 0 ? last.body : [when(cmp('lt', v(last.v), i32(last.n)), last.body)]),
  ];
  return [...loops.slice(0, -1), { ...last, v: word, n: Math.ceil(last.n / k), body: [loop(lane, k, body)] }];
}

/** The deepest prefix of the dispatch's loop nest that is safe to spread, if any. */
export function parallelNest(
  body: Stmt[],
  placed: ReadonlyMap<number, PlacedBuffer>,
  ranges: SymbolRanges,
): ParallelNest | undefined {
  if (body.length !== 1 || body[0].k !== 'loop') return undefined;
  // nest[t]'s body holds nest[t + 1] as written: locals move into a loop only if that loop is spread
  const nest: LoopStmt[] = [body[0]];
  for (let next = intoNextLoop(body[0].body); next; next = intoNextLoop(next.body)) nest.push(next);
  // loops the lowering declared parallel are the nest to spread, checked; elsewhere the deepest that checks
  // (with narrow stores, shallower prefixes too: a row of odd length ends inside a word the next row shares)
  const declared = nest.findIndex((l) => !l.parallel);
  const k = perWord(nest[0]);
  const depths =
    declared === 0 || k > 1
      ? nest.slice(0, declared > 0 ? declared : undefined).map((_, d, all) => all.length - d)
      : [declared < 0 ? nest.length : declared];
  for (const d of depths) {
    const loops = k > 1 ? byWords(nest.slice(0, d), k) : nest.slice(0, d);
    if (loops && spreadable(loops, placed, ranges))
      return {
        loops: loops.map((l) => ({ v: l.v, n: l.n })),
        body: loops[loops.length - 1].body,
        count: loops.reduce((p, l) => p * extentRange(l.n, ranges).max, 1),
      };
  }
  return undefined;
}

/**
 * The stores of one buffer view: the parallel coefficients' key and coefficients, and the band's union;
 * `lattice`, the stores' common lattice (undefined where they differ), and `interleaved`, set once the
 * bands were found to interleave and the lattice to keep them apart.
 */
interface Group {
  buf: BufRef;
  key: string;
  lo: SymExpr;
  hi: SymExpr;
  coef: Map<string, SymExpr>;
  lattice?: { key: string; steps: Step[] };
  interleaved?: boolean;
}

/**
 * A narrow view's group in bytes, its band widened to the end of its last word: undefined unless the
 * placement, band and parallel coefficients are numbers, and the band's start and those coefficients
 * whole words.
 */
function wholeWords(
  g: Group,
  parallel: ReadonlySet<string>,
  placed: ReadonlyMap<number, PlacedBuffer>,
): Group | undefined {
  const bytes = bytesOf(g.buf);
  const [offset, lo, hi] = [placed.get(g.buf.id)?.offset, shape.constValue(g.lo), shape.constValue(g.hi)];
  if (offset === undefined || lo === undefined || hi === undefined) return undefined;
  const coef = new Map<string, SymExpr>();
  for (const name of parallel) {
    const c = shape.constValue(g.coef.get(name) ?? 0);
    if (c === undefined || (c * bytes) % 4 !== 0) return undefined;
    coef.set(name, shape.constant(c * bytes));
  }
  const first = offset + lo * bytes;
  const last = offset + hi * bytes + bytes - 1;
  if (first % 4 !== 0) return undefined;
  return { ...g, lo: shape.constant(first), hi: shape.constant(last - (last % 4) + 3), coef };
}

function spreadable(
  loops: LoopStmt[],
  placed: ReadonlyMap<number, PlacedBuffer>,
  ranges: SymbolRanges,
): boolean {
  const counters = new Map(loops.map((l) => [l.v, extentExpr(l.n, ranges)]));
  const parallel = new Set(counters.keys());
  const stores: Access[] = [];
  const loads: Access[] = [];
  const body = loops[loops.length - 1].body;
  collect(body, counters, stores, loads, new Map(), assigned(body), ranges);
  const view = (buf: BufRef) => `${placed.get(buf.id)?.offset}:${buf.dtype}`;

  // per stored view: the parallel coefficients and the union of the bands
  const groups = new Map<string, Group>();
  for (const st of stores) {
    const b = band(st, parallel, ranges);
    if (!b) return false;
    const g = groups.get(view(st.buf));
    if (g && g.key !== b.key) return false;
    const coef = affine(st.index!, st.counters, ranges)!.coef;
    const lattice = { key: b.lattice, steps: b.steps };
    groups.set(view(st.buf), {
      buf: st.buf,
      key: b.key,
      lo: g ? shape.min(g.lo, b.lo) : b.lo,
      hi: g ? shape.max(g.hi, b.hi) : b.hi,
      coef,
      lattice: g && g.lattice?.key !== lattice.key ? undefined : lattice,
    });
  }
  for (const found of groups.values()) {
    const g = bytesOf(found.buf) < 4 ? wholeWords(found, parallel, placed) : found;
    if (!g) return false;
    const spread: Step[] = [];
    for (const l of loops) {
      const coef = g.coef.get(l.v) ?? shape.constant(0);
      const x = atLeast(coef, 0, ranges) ? coef : shape.mul(coef, -1);
      if (!atLeast(x, 0, ranges)) return false;
      spread.push({ x, n: counters.get(l.v)! });
    }
    // each parallel coefficient exceeds everything the smaller ones and the band can reach; else
    // (whole elements only) the parallel and lattice steps together
    if (mixedRadix(spread, shape.sub(g.hi, g.lo), ranges)) continue;
    if (bytesOf(g.buf) < 4 || !g.lattice) return false;
    if (!mixedRadix([...spread, ...g.lattice.steps], shape.constant(0), ranges)) return false;
    found.interleaved = true;
  }

  // a narrow view rewrites whole words: another stored view of the same memory could share one
  for (const g of groups.values())
    for (const other of groups.values())
      if (g !== other && bytesOf(g.buf) < 4 && overlap(g.buf, other.buf, placed)) return false;

  const storedViews = stores.map((s) => s.buf);
  for (const ld of loads) {
    if (!storedViews.some((buf) => overlap(ld.buf, buf, placed))) continue;
    const g = groups.get(view(ld.buf));
    const b = band(ld, parallel, ranges);
    if (!g || !b || b.key !== g.key) return false;
    if (g.interleaved) {
      if (b.lattice !== g.lattice?.key) return false;
    } else if (!atLeast(shape.sub(b.lo, g.lo), 0, ranges) || !atLeast(shape.sub(g.hi, b.hi), 0, ranges))
      return false;
  }
  return true;
}
