/**
 * Auto-vectorization of simple innermost loops into an f32x4 main loop plus a scalar tail.
 *
 * A loop qualifies when its body is only stores to float32 buffers at (loopvar + invariant), or groups of S
 * stores at (S·loopvar + c + invariant) for each c in 0..S−1, S = 2 or 4, or 8 storing one value (the
 * interleaved columns of a ×2, ×4 or ×8 upsampling: a group writes 4·S consecutive elements per four
 * iterations, its vectors interleaved by shuffles), whose values are built from float32 loads at
 * (s·loopvar + invariant) for s = 1, 2 or 3 (a strided conv's taps, the channels of NHWC pixels),
 * loop-invariant f32 expressions (splatted once, before the loop), and lane-wise f32 ops, exp, log, erf and
 * tanh included (f32x4 math helpers, mathlib/vector.ts).
 * Loads from memory that a store in the loop writes must use exactly the store's index, and two stores to the
 * same memory the same index or indices a constant of at least four apart, so doing four iterations at once
 * cannot reorder a read and a write, or two writes, of the same element.
 * A reduction loop `acc = acc op term` (add, max, min) keeps four partial accumulators; stores followed by
 * one reduction (Softmax's exp stored and summed) render as one loop, the term reading the stored vectors.
 */
import type { BinOp, BufRef, CmpOp, Expr, Stmt, UnOp } from '../../kernels/ir.js';
import { operands, someExpr, visitExpr } from '../../kernels/walk.js';
import {
  EXP_BOUNDED,
  VECTOR_MATH,
  boundedExpHelper,
  geluHelper,
  vectorMathHelper,
  type VectorMathOp,
} from './mathlib/vector.js';
import { SIMD128_LANES, type Lanes } from './lanes.js';

type Loop = Extract<Stmt, { k: 'loop' }>;
type Store = Extract<Stmt, { k: 'store' }>;

const VEC_BIN: Partial<Record<BinOp, string>> = {
  add: 'f32x4.add',
  sub: 'f32x4.sub',
  mul: 'f32x4.mul',
  div: 'f32x4.div',
  min: 'f32x4.min',
  max: 'f32x4.max',
};
const VEC_UN: Partial<Record<UnOp, string>> = {
  neg: 'f32x4.neg',
  abs: 'f32x4.abs',
  sqrt: 'f32x4.sqrt',
  floor: 'f32x4.floor',
  ceil: 'f32x4.ceil',
  trunc: 'f32x4.trunc',
  nearest: 'f32x4.nearest',
};
const VEC_CMP: Partial<Record<CmpOp, string>> = {
  eq: 'f32x4.eq',
  ne: 'f32x4.ne',
  lt: 'f32x4.lt',
  le: 'f32x4.le',
  gt: 'f32x4.gt',
  ge: 'f32x4.ge',
};

/** Unary ops rendered by a call to an f32x4 math helper (mathlib/vector.ts): one call per four lanes. */
const isVectorMath = (op: UnOp): op is VectorMathOp => (VECTOR_MATH as readonly string[]).includes(op);

const dependsOn = (e: Expr, v: string): boolean => someExpr(e, (x) => x.k === 'var' && x.name === v);

/** The terms of a sum of (nested) adds. */
function sumTerms(e: Expr): Expr[] {
  return e.k === 'bin' && e.op === 'add' ? [...sumTerms(e.a), ...sumTerms(e.b)] : [e];
}

/** a − b when the two sums have the same terms but for their constants (i32 indices), else undefined. */
function constantDifference(a: Expr, b: Expr): number | undefined {
  const parts = (e: Expr) => {
    const terms = sumTerms(e);
    const constant = terms.reduce((sum, t) => (t.k === 'const' ? sum + Number(t.v) : sum), 0);
    const rest = terms
      .filter((t) => t.k !== 'const')
      .map(exprKey)
      .sort();
    return { constant, rest: rest.join('\n') };
  };
  const [pa, pb] = [parts(a), parts(b)];
  return pa.rest === pb.rest ? pa.constant - pb.constant : undefined;
}

/**
 * Whether two unit-stride stores of the loop write the same buffer at least a vector apart: then no element is
 * written by both within one group of four iterations, so storing the group store by store (all lanes of the
 * first, then of the second) leaves every element with the value of the same last write as the scalar loop.
 * An im2col gather's taps are such stores (tap k at k · row length + v).
 */
const apartByAVector = (a: Store, b: Store, stride = 1): boolean =>
  a.buf.id === b.buf.id &&
  Math.abs(constantDifference(a.index, b.index) ?? 0) >= SIMD128_LANES.width * stride;

/**
 * Strides of interleaved store groups: the columns of a ×2 and a ×4 upsampling; ×8 where the group stores
 * one value (a nearest upsampling: each output vector two lanes of it, no transpose).
 */
const INTERLEAVE_STRIDES = new Set([2, 4]);
const ONE_VALUE_STRIDES = new Set([8]);

/**
 * Stores of a vectorized loop that render together: one store at unit stride, or `stride` stores at
 * stride·v + c + (the same terms), ordered by c = 0..stride−1, that write stride·4 consecutive elements
 * per four iterations.
 */
export interface StoreGroup {
  stride: number;
  stores: Store[];
}

/** The loop's stores as StoreGroups, or undefined when a store fits none. */
export function storeGroups(stores: Store[], v: string): StoreGroup[] | undefined {
  const groups: StoreGroup[] = [];
  const grouped = new Set<Store>();
  for (const first of stores) {
    if (grouped.has(first)) continue;
    const stride = strideOf(first.index, v);
    if (stride === 1) {
      groups.push({ stride, stores: [first] });
      continue;
    }
    const oneValue = (st: Store | undefined) => st !== undefined && sameExpr(st.value, first.value);
    if (stride === undefined || !(INTERLEAVE_STRIDES.has(stride) || ONE_VALUE_STRIDES.has(stride)))
      return undefined;
    const members = Array.from({ length: stride }, (_, c) =>
      stores.find(
        (st) =>
          st.buf.id === first.buf.id && !grouped.has(st) && constantDifference(st.index, first.index) === c,
      ),
    );
    if (members.some((m) => m === undefined || strideOf(m.index, v) !== stride)) return undefined;
    if (ONE_VALUE_STRIDES.has(stride) && !members.every(oneValue)) return undefined;
    members.forEach((m) => grouped.add(m!));
    groups.push({ stride, stores: members as Store[] });
  }
  return groups;
}

/**
 * s when index is s·v + (terms not depending on v), with v appearing in exactly one term, `v` (s = 1) or
 * `v * s` / `s * v` for a constant s; undefined otherwise.
 */
export function strideOf(index: Expr, v: string): number | undefined {
  const terms = sumTerms(index);
  const isV = (e: Expr) => e.k === 'var' && e.name === v;
  const strideIn = (t: Expr): number | undefined => {
    if (isV(t)) return 1;
    if (t.k !== 'bin' || t.op !== 'mul') return undefined;
    if (isV(t.a) && t.b.k === 'const') return Number(t.b.v);
    if (isV(t.b) && t.a.k === 'const') return Number(t.a.v);
    return undefined;
  };
  const varying = terms.filter((t) => dependsOn(t, v));
  return varying.length === 1 ? strideIn(varying[0]) : undefined;
}

const isUnitStride = (index: Expr, v: string) => strideOf(index, v) === 1;

/**
 * Element strides a vector load can gather: 1 (one v128.load), 2 and 3 (two loads, four lanes shuffled out
 * of them: a stride-2 conv's taps, an NHWC image's channels as a channels-first Transpose reads them).
 */
const LOAD_STRIDES = new Set([1, 2, 3]);

/** Whether `e` renders as an f32x4 expression (see renderVector). */
function vectorizable(e: Expr, v: string): boolean {
  if (e.t !== 'f32') return false;
  if (!dependsOn(e, v)) return true;
  switch (e.k) {
    case 'load':
      return e.buf.dtype === 'float32' && LOAD_STRIDES.has(strideOf(e.index, v) ?? 0);
    case 'bin':
      return e.op in VEC_BIN && vectorizable(e.a, v) && vectorizable(e.b, v);
    case 'un':
      return (e.op in VEC_UN || isVectorMath(e.op)) && vectorizable(e.a, v);
    case 'select': {
      const c = e.cond;
      const condOk =
        !dependsOn(c, v) ||
        (c.k === 'cmp' && c.op in VEC_CMP && vectorizable(c.a, v) && vectorizable(c.b, v));
      return condOk && vectorizable(e.a, v) && vectorizable(e.b, v);
    }
    default:
      return false;
  }
}

/** The loads in `e`, in visiting order. */
export function loadsIn(e: Expr): Extract<Expr, { k: 'load' }>[] {
  const out: Extract<Expr, { k: 'load' }>[] = [];
  visitExpr(e, (x) => x.k === 'load' && out.push(x));
  return out;
}

/** Byte ranges of placed buffers, to decide whether two buffer refs may touch the same memory. */
export type Regions = (buf: BufRef) => [number, number] | undefined;

export const exprKey = (e: Expr): string => JSON.stringify(e, bigintSafe);
const sameExpr = (a: Expr, b: Expr): boolean => exprKey(a) === exprKey(b);
/** int64 constants are bigints, which JSON.stringify refuses */
const bigintSafe = (_key: string, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value);

/** The loop's stores when the loop can be vectorized, else undefined. */
/** Whether two buffer refs may touch the same memory: the same buffer, or placed regions that intersect. */
const mayOverlap =
  (regions: Regions) =>
  (a: BufRef, b: BufRef): boolean => {
    const ra = regions(a);
    const rb = regions(b);
    return a.id === b.id || (!!ra && !!rb && ra[0] < rb[1] && rb[0] < ra[1]);
  };

/** Whether `load` reads memory `store` writes anywhere but at the store's own index. */
const readsAcross = (regions: Regions, load: Extract<Expr, { k: 'load' }>, store: Store): boolean =>
  mayOverlap(regions)(load.buf, store.buf) &&
  !(load.buf.id === store.buf.id && sameExpr(load.index, store.index));

export function vectorizableStores(loop: Loop, regions: Regions): Store[] | undefined {
  // a run-time extent may be anything: the scalar tail covers fewer than four iterations
  if ((typeof loop.n === 'number' && loop.n < 4) || loop.body.length === 0) return undefined;
  if (!loop.body.every((s): s is Store => s.k === 'store')) return undefined;
  const stores = loop.body;
  for (const s of stores) {
    if (s.buf.dtype !== 'float32' || !vectorizable(s.value, loop.v)) return undefined;
  }
  const groups = storeGroups(stores, loop.v);
  if (!groups) return undefined;
  const groupOf = new Map(groups.flatMap((g) => g.stores.map((st) => [st, g] as const)));
  const overlaps = mayOverlap(regions);
  for (const s of stores)
    for (const other of stores) {
      for (const l of [...loadsIn(other.value), ...loadsIn(other.index)])
        if (readsAcross(regions, l, s)) return undefined;
      // a group's own stores write apart by construction; other groups a whole group's span away
      const [g, h] = [groupOf.get(s)!, groupOf.get(other)!];
      if (
        g !== h &&
        overlaps(other.buf, s.buf) &&
        !(g.stride === 1 && h.stride === 1 && other.buf.id === s.buf.id && sameExpr(other.index, s.index)) &&
        !apartByAVector(other, s, Math.max(g.stride, h.stride))
      )
        return undefined;
    }
  return stores;
}

/** `x` as a product that varies with the loop, for fusing into a multiply-add. */
const product = (x: Expr, v: string) => (x.k === 'bin' && x.op === 'mul' && dependsOn(x, v) ? x : undefined);

/**
 * `instruction` of a lane table applied to `operands`, rendered in the order its text reads them, as a
 * nested template renders them: loop-invariant operands are hoisted in that order, so their locals are
 * numbered the same whichever table renders.
 */
function inTextOrder(instruction: (...operands: string[]) => string, operands: (() => string)[]): string {
  const marks = operands.map((_, i) => `\u0000${i}\u0000`);
  const text = instruction(...marks);
  const rendered: string[] = [];
  for (const i of [...operands.keys()].sort((x, y) => text.indexOf(marks[x]) - text.indexOf(marks[y])))
    rendered[i] = operands[i]();
  return marks.reduce((t, mark, i) => t.replace(mark, () => rendered[i]), text);
}

/**
 * Lane-wise rendering of an expression accepted by `vectorizable` with the instructions of `lanes`: `vload`
 * loads four elements `stride` apart, `invariant` renders a loop-invariant f32 expression as an f32x4 (e.g.
 * splatted once before the loop). c + a·b, a·b + c and c − a·b render as the table's multiply-adds (one
 * f32x4.relaxed_madd / relaxed_nmadd in the relaxed-SIMD module, rounded once or twice as the engine
 * chooses; a mul and an add or sub in SIMD128). `shared` wraps the rendering of each lane-wise operation
 * (not loads or invariants), so that a caller may compute a repeated subexpression once (see repeatedIn).
 * `temp`, when given, makes a fresh v128 local: a max or min of varying operands then renders as
 * pminMaxTree does.
 */
export function renderVector(
  e: Expr,
  v: string,
  scalar: (e: Expr) => string,
  vload: (buf: BufRef, index: Expr, stride: number) => string,
  lanes: Lanes = SIMD128_LANES,
  invariant: (e: Expr) => string = (x) => `(f32x4.splat ${scalar(x)})`,
  useHelper: (name: string) => void = () => {},
  shared: (e: Expr, render: () => string) => string = (_, render) => render(),
  temp?: () => string,
): string {
  const rec = (x: Expr) => renderVector(x, v, scalar, vload, lanes, invariant, useHelper, shared, temp);
  if (!dependsOn(e, v)) return invariant(e);
  if (e.k === 'load') return vload(e.buf, e.index, strideOf(e.index, v)!);
  // the varying value itself: a gemm epilogue's input, which the caller binds to a v128 local
  if (e.k === 'var') return scalar(e);
  const tree = temp && e.k === 'bin' && (e.op === 'max' || e.op === 'min') && !clampOf(e.a, e.b);
  if (tree) return shared(e, () => pminMaxTree(e, rec, temp));
  return shared(e, () => renderLaneWise(e, v, rec, scalar, lanes, useHelper));
}

/** The operands of a tree of nested `op`s, left to right (a pool's max over its window's taps). */
function treeLeaves(e: Expr, op: BinOp): Expr[] {
  return e.k === 'bin' && e.op === op ? [...treeLeaves(e.a, op), ...treeLeaves(e.b, op)] : [e];
}

/**
 * A min of varying operands, nested or not, as a balanced tree of pairs (v128.or (f32x4.pmin a b)
 * (f32x4.pmin b a)), three one-instruction ops (minps, orps on x86) where the strict f32x4.min takes about
 * eight dependent ones (a 3×3 MaxPool's chain of eight ran at 2 GFLOP/s). pmin(a, b) is `b < a ? b : a`,
 * so the two pmins agree but where the operands tie or one is NaN, where each gives its first operand; or-ing
 * them gives -0 for a tie of -0 and +0 and NaN for a NaN (all exponent bits set, a mantissa bit set), as the
 * strict min does. A max is the negated min of the negated operands (f32x4.neg flips the sign bit alone).
 * Each operand is kept in a local (`temp`), as it is read twice.
 */
function pminMaxTree(e: Extract<Expr, { k: 'bin' }>, rec: (x: Expr) => string, temp: () => string): string {
  const negate = (x: string) => (e.op === 'max' ? `(f32x4.neg ${x})` : x);
  const min = (xs: string[]): string => {
    if (xs.length === 1) return xs[0];
    const [a, b] = [temp(), temp()];
    const half = xs.length >> 1;
    return `(v128.or (f32x4.pmin (local.tee ${a} ${min(xs.slice(0, half))}) (local.tee ${b} ${min(xs.slice(half))})) (f32x4.pmin (local.get ${b}) (local.get ${a})))`;
  };
  return negate(min(treeLeaves(e, e.op).map((x) => negate(rec(x)))));
}

/**
 * A min or max of a varying value and a constant bound (Relu, Clip, HardSigmoid, HardSwish): rendered as
 * f32x4.pmin / pmax with the varying operand first, one minps/maxps on x86, where the strict f32x4.min /
 * max take about eight instructions to propagate NaNs and order zeros (HardSwish epilogues of crnn-rec's
 * 1×1 convs ran at 0.67× the speed of the bare gemm). pmax(x, c) is `x < c ? c : x`: a NaN in x comes
 * out as the strict form's does, and only the sign of a zero result can differ (max(-0, 0) is -0).
 */
function clampOf(a: Expr, b: Expr): { varying: Expr; bound: Expr } | undefined {
  const bound = (x: Expr) => x.k === 'const' && !Number.isNaN(Number(x.v));
  if (bound(b) && !bound(a)) return { varying: a, bound: b };
  if (bound(a) && !bound(b)) return { varying: b, bound: a };
  return undefined;
}

/** [lo, hi] when `e` is a clamp of a varying value to constant bounds, min(max(x, lo), hi) or max(min(x, hi), lo). */
function constantRange(e: Expr): [number, number] | undefined {
  if (e.k !== 'bin' || (e.op !== 'min' && e.op !== 'max')) return undefined;
  const outer = clampOf(e.a, e.b);
  const inner = outer?.varying;
  if (!outer || inner?.k !== 'bin' || inner.op !== (e.op === 'min' ? 'max' : 'min')) return undefined;
  const innerBound = clampOf(inner.a, inner.b)?.bound;
  if (!innerBound) return undefined;
  const value = (bound: Expr) => Number((bound as Extract<Expr, { k: 'const' }>).v);
  const [a, b] = [value(outer.bound), value(innerBound)];
  return e.op === 'min' ? [b, a] : [a, b];
}

/** The f32x4 helper computing `op` of `arg`: exp of an argument clamped into EXP_BOUNDED takes the bounded one. */
function mathHelperFor(op: VectorMathOp, arg: Expr, lanes: Lanes): string {
  const range = op === 'exp' ? constantRange(arg) : undefined;
  if (range && range[0] >= EXP_BOUNDED.min && range[1] <= EXP_BOUNDED.max) return boundedExpHelper(lanes);
  return vectorMathHelper(op, lanes);
}

/** `e`'s value when it is a constant, rounded to float32 */
const f32Value = (e: Expr) => (e.k === 'const' ? Math.fround(Number(e.v)) : undefined);

/**
 * y when `e` is GELU of y as exporters write it, y·(erf(y/√2) + 1)·0.5 (the three factors in any order and
 * grouping, y·(1/√2) for y/√2, √2 and 1/√2 as float32 constants), which the f32x4 GELU helper computes in one
 * division (mathlib/vector.ts); else undefined.
 */
function geluOperand(e: Expr): Expr | undefined {
  if (e.k !== 'bin' || e.op !== 'mul' || e.t !== 'f32') return undefined;
  /** erf's argument when `f` is erf(·) + 1 */
  const erfArgument = (f: Expr): Expr | undefined => {
    if (f.k !== 'bin' || f.op !== 'add') return undefined;
    const erf = f32Value(f.a) === 1 ? f.b : f32Value(f.b) === 1 ? f.a : undefined;
    return erf?.k === 'un' && erf.op === 'erf' ? erf.a : undefined;
  };
  const factors = treeLeaves(e, 'mul');
  const arg = factors.map(erfArgument).find((a) => a !== undefined);
  const rest = factors.filter((f) => erfArgument(f) === undefined);
  const y = rest.find((f) => f32Value(f) !== 0.5);
  if (factors.length !== 3 || rest.length !== 2 || !y || !rest.some((f) => f32Value(f) === 0.5))
    return undefined;
  if (arg?.k !== 'bin') return undefined;
  const { op, a: p, b: q } = arg;
  const scaled =
    (op === 'div' && f32Value(q) === Math.fround(Math.SQRT2) && sameExpr(p, y)) ||
    (op === 'mul' &&
      ((f32Value(q) === Math.fround(Math.SQRT1_2) && sameExpr(p, y)) ||
        (f32Value(p) === Math.fround(Math.SQRT1_2) && sameExpr(q, y))));
  return scaled ? y : undefined;
}

/** Whether `e` is the constant +0 (all bits zero: an and with a lane mask selects it). */
const isPositiveZero = (e: Expr) => e.k === 'const' && Object.is(Number(e.v), 0);

/** renderVector of a loop-dependent operation, its operands rendered by `rec`. */
function renderLaneWise(
  e: Expr,
  v: string,
  rec: (x: Expr) => string,
  scalar: (e: Expr) => string,
  lanes: Lanes,
  useHelper: (name: string) => void,
): string {
  switch (e.k) {
    case 'bin': {
      const gelu = geluOperand(e);
      if (gelu) {
        useHelper(geluHelper(lanes));
        return `(call $${geluHelper(lanes)} ${rec(gelu)})`;
      }
      const right = e.op === 'add' || e.op === 'sub' ? product(e.b, v) : undefined;
      const left = e.op === 'add' && !right ? product(e.a, v) : undefined;
      if (right?.k === 'bin') {
        const madd = e.op === 'add' ? lanes.madd : lanes.nmadd;
        return inTextOrder(
          madd,
          [e.a, right.a, right.b].map((x) => () => rec(x)),
        );
      }
      if (left?.k === 'bin')
        return inTextOrder(
          lanes.mulAdd,
          [left.a, left.b, e.b].map((x) => () => rec(x)),
        );
      const clamp = e.op === 'min' || e.op === 'max' ? clampOf(e.a, e.b) : undefined;
      if (clamp) return `(f32x4.p${e.op} ${rec(clamp.varying)} ${rec(clamp.bound)})`;
      return `(${VEC_BIN[e.op]} ${rec(e.a)} ${rec(e.b)})`;
    }
    case 'un': {
      if (isVectorMath(e.op)) {
        const name = mathHelperFor(e.op, e.a, lanes);
        useHelper(name);
        return `(call $${name} ${rec(e.a)})`;
      }
      return `(${VEC_UN[e.op]} ${rec(e.a)})`;
    }
    case 'select': {
      const c = e.cond;
      if (!dependsOn(c, v)) return `(select ${rec(e.a)} ${rec(e.b)} ${scalar(c)})`;
      if (c.k !== 'cmp') break;
      const mask = () => `(${VEC_CMP[c.op]} ${rec(c.a)} ${rec(c.b)})`;
      // a +0 side is the other side and'ed with the mask or its complement: two instructions on x86
      // where a bitselect takes three and the zero vector
      if (isPositiveZero(e.a)) return `(v128.andnot ${rec(e.b)} ${mask()})`;
      if (isPositiveZero(e.b)) return `(v128.and ${rec(e.a)} ${mask()})`;
      return `(v128.bitselect ${rec(e.a)} ${rec(e.b)} ${mask()})`;
    }
  }
  throw new Error(`internal error: cannot vectorize ${e.k}`);
}

/**
 * The keys (exprKey) of the loop-dependent operations (not loads) that occur more than once in `roots`, as
 * where fused elementwise ops substitute one op's expression for each use of its input (Softsign(Mish(x))
 * repeats Mish twice): rendered once into a local, and read from there after.
 */
export function repeatedIn(roots: Expr[], v: string): Set<string> {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  const visit = (e: Expr): void => {
    if (e.k === 'load' || !dependsOn(e, v)) return;
    const key = exprKey(e);
    if (seen.has(key)) {
      repeated.add(key);
      return;
    }
    seen.add(key);
    operands(e).forEach(visit);
  };
  roots.forEach(visit);
  return repeated;
}

/**
 * A loop `acc = acc op term(v)` over an f32 local, op add/max/min, that renders as f32x4 partial accumulators;
 * `pmax` is `acc = acc < term ? term : acc` (a select), f32x4.pmax lane by lane: one maxps on x86 where the
 * strict max takes about eight instructions, for a max that may pass over NaN terms and order zeros as it
 * meets them (Softmax's row maximum, a shift that any NaN in the row makes moot).
 */
export interface Reduction {
  name: string;
  op: 'add' | 'max' | 'min' | 'pmax';
  term: Expr;
}

/**
 * The reduction a loop is, when its body is the single statement `set acc = acc op term` (or `term op acc`)
 * with term a vectorizable f32 expression of the loop variable that does not read acc, else undefined.
 * Loops shorter than 8 stay scalar.
 */
export function vectorizableReduction(loop: Loop): Reduction | undefined {
  if ((typeof loop.n === 'number' && loop.n < 8) || loop.body.length !== 1) return undefined;
  return reductionOf(loop.body[0], loop.v);
}

/** `s` as a reduction over loop variable `v` (see vectorizableReduction), else undefined. */
function reductionOf(s: Stmt, v: string): Reduction | undefined {
  if (s.k !== 'set' || s.value.t !== 'f32') return undefined;
  const isAcc = (e: Expr) => e.k === 'var' && e.name === s.name;
  const reduction = (op: Reduction['op'], term: Expr | undefined): Reduction | undefined =>
    !term || dependsOn(term, s.name) || !dependsOn(term, v) || !vectorizable(term, v)
      ? undefined
      : { name: s.name, op, term };
  const value = s.value;
  if (value.k === 'select') {
    const c = value.cond;
    const pmax = c.k === 'cmp' && c.op === 'lt' && isAcc(c.a) && isAcc(value.b) && sameExpr(c.b, value.a);
    return pmax ? reduction('pmax', value.a) : undefined;
  }
  if (value.k !== 'bin') return undefined;
  const { op, a, b } = value;
  if (op !== 'add' && op !== 'max' && op !== 'min') return undefined;
  return reduction(op, isAcc(a) ? b : isAcc(b) ? a : undefined);
}

/**
 * A loop that stores and reduces in one pass, as Softmax's `y[i] = exp(x[i] − max); sum += y[i]`: stores
 * that vectorizableStores accepts, then one reduction (as vectorizableReduction) whose term reads memory the
 * stores write only at a store's own index, that is the value this iteration stored, and whose accumulator
 * the stores do not read. Loops shorter than 8 stay scalar.
 */
export function vectorizableStoresAndReduction(
  loop: Loop,
  regions: Regions,
): { stores: Store[]; reduction: Reduction } | undefined {
  const last = loop.body.at(-1);
  if ((typeof loop.n === 'number' && loop.n < 8) || loop.body.length < 2 || last?.k !== 'set')
    return undefined;
  const stores = vectorizableStores({ ...loop, body: loop.body.slice(0, -1) }, regions);
  const reduction = reductionOf(last, loop.v);
  // the term reads back what the stores wrote, lane for lane: unit-stride stores only
  if (!stores || !reduction || !stores.every((st) => isUnitStride(st.index, loop.v))) return undefined;
  if (stores.some((s) => dependsOn(s.value, reduction.name) || dependsOn(s.index, reduction.name)))
    return undefined;
  if (loadsIn(reduction.term).some((l) => stores.some((s) => readsAcross(regions, l, s)))) return undefined;
  return { stores, reduction };
}

/** The key of the element a load or store of `buf` at `index` touches, to match a load with a store. */
export const elementKey = (buf: BufRef, index: Expr): string => `${buf.id}\n${exprKey(index)}`;
