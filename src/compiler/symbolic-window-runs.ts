/**
 * 2-D sliding windows over planes whose height or width is known only at run time, for depthwise convs
 * and pools: the run-time counterpart of ops/nn/window-runs.ts, which the static ones use. Along a static
 * dim the outputs split into that file's runs (each tap range known, nothing checked); along a run-time
 * dim into a head [0, lo) and a tail [lo + interior, OW) whose taps are each checked against the input,
 * and the interior between them, where every tap is inside: lo = ceil(pad / stride) is static and the
 * interior's length an expression of the size. An interior output is one store of a value built from
 * all its taps, alone in a loop over columns whose loads have stride 1 or 2, which vectorize.ts turns
 * into f32x4 code with a scalar tail — the code the static windows get.
 */
import * as sym from '../ir/symbolic.js';
import type { BufRef, Expr, Stmt } from '../kernels/ir.js';
import { add, bin, cmp, i32, load, local, loop, mul, set, store, v, when } from '../kernels/build.js';
import { extentOf, kernelExprOf } from '../kernels/extent.js';
import { runsOf } from '../ops/nn/window-runs.js';

type Ranges = Readonly<Record<string, sym.Range>>;

/** One spatial dim of a window: input and output sizes as expressions, the tap geometry static. */
export interface WindowDim {
  size: sym.SymLike;
  out: sym.SymLike;
  kernel: number;
  stride: number;
  dilation: number;
  padBegin: number;
}

/** Consecutive outputs that see the same taps: `taps` [lo, hi) inside the input, or undefined: each checked. */
interface Segment {
  start: sym.SymLike;
  count: sym.SymLike;
  taps?: [number, number];
}

/** Most taps a window may have for its interior and borders to be unrolled. */
const MAX_TAPS = 49;

/**
 * Whether `windowSegments` takes these dims: few enough taps, and on a run-time dim an interior end
 * whose division sees a non-negative numerator at every size (kernel IR divides by truncation).
 */
export function symbolicWindowFits(dims: readonly WindowDim[], ranges: Ranges): boolean {
  return (
    dims.reduce((n, d) => n * d.kernel, 1) <= MAX_TAPS &&
    dims.every((d) => sym.constValue(d.size) !== undefined || sym.bounds(interiorSpan(d), ranges).min >= 0)
  );
}

/** size + pad − extent: the last output whose window lies inside the input is floor(span / stride). */
const interiorSpan = (d: WindowDim) => sym.add(d.size, d.padBegin - ((d.kernel - 1) * d.dilation + 1));

function segmentsOf(d: WindowDim, ranges: Ranges): Segment[] {
  const size = sym.constValue(d.size);
  if (size !== undefined) {
    const w = {
      kernel: [d.kernel],
      strides: [d.stride],
      dilations: [d.dilation],
      padBegin: [d.padBegin],
      padEnd: [0],
      out: [sym.constValue(d.out)!],
    };
    return runsOf(w, 0, size).map((r) => ({ start: r.start, count: r.end - r.start, taps: r.taps }));
  }
  const atLeastZero = (e: sym.SymLike) => (sym.bounds(e, ranges).min >= 0 ? e : sym.max(0, e));
  const lo = Math.ceil(d.padBegin / d.stride);
  const head = sym.bounds(d.out, ranges).min >= lo ? lo : sym.min(lo, d.out);
  const interior = atLeastZero(sym.sub(sym.add(sym.floorDiv(interiorSpan(d), d.stride), 1), lo));
  const tailStart = sym.add(lo, interior);
  const segments: Segment[] = [
    { start: 0, count: head },
    { start: lo, count: interior, taps: [0, d.kernel] },
    { start: tailStart, count: atLeastZero(sym.sub(d.out, tailStart)) },
  ];
  return segments.filter((s) => sym.constValue(s.count) !== 0);
}

/** How the taps of one output make its stored value. */
export interface WindowReduce {
  /** the value before any tap (−∞ for max, the bias, or the sum so far in Y at `yAt`): checked outputs start from it */
  init: (yAt: Expr) => Expr;
  /** interior outputs start from `init` too, not from their first tap */
  accumulates?: boolean;
  /** acc (undefined before the first tap of an interior output) combined with tap (kh, kw)'s input x */
  combine: (acc: Expr | undefined, x: Expr, kh: number, kw: number) => Expr;
  /** the stored value from the combined taps and, with `counts`, how many were inside the input (i32) */
  finish: (acc: Expr, count: Expr) => Expr;
  /** finish reads the count: checked outputs count their taps inside the input */
  counts?: boolean;
}

/** Where one plane lies, per row segment (loop counters are named per segment): sums of index terms. */
export interface PlaneAt {
  x: (segment: number) => Expr[];
  y: (segment: number) => Expr[];
}

const ix = (e: sym.SymLike): Expr => kernelExprOf(e);
const sum = (terms: Expr[]): Expr => (terms.length === 0 ? i32(0) : terms.reduce((a, b) => add(a, b)));
/** e·k as an index term, or none for k = 0 */
const times = (e: sym.SymLike, k: sym.SymLike): Expr[] => {
  const n = sym.constValue(sym.mul(e, k));
  if (n !== undefined) return n === 0 ? [] : [i32(n)];
  return [ix(sym.mul(e, k))];
};
const scaled = (x: Expr, k: number) => (k === 1 ? x : mul(x, i32(k)));

/**
 * Stores every output of one plane of a 2-D window (`rows`, `cols`) over X into Y, the value of each from
 * `reduceOf(segment)`. Returns one statement list per row segment, `prologue(segment)` first; the caller wraps each
 * in its own plane loops with counters named per segment, as windowPlane2d's callers do.
 */
export function symbolicWindowPlane(
  rows: WindowDim,
  cols: WindowDim,
  X: BufRef,
  Y: BufRef,
  at: PlaneAt,
  reduceOf: (segment: number) => WindowReduce,
  ranges: Ranges,
  prologue: (segment: number) => Stmt[] = () => [],
): Stmt[][] {
  const colSegments = segmentsOf(cols, ranges);
  return segmentsOf(rows, ranges).map((rs, ri) => {
    const rowVar = `oh${ri}`;
    const r = v(rowVar);
    const reduce = reduceOf(ri);
    const rowBody = colSegments.map((cs, ci) => {
      const colVar = `ow${ri}_${ci}`;
      const c = v(colVar);
      // input row and column of tap (kh, kw), as index terms (kept apart so the loop variable stays one term)
      const rowTerms = (kh: number) => [
        ...times(rs.start, rows.stride),
        scaled(r, rows.stride),
        i32(kh * rows.dilation - rows.padBegin),
      ];
      const colTerms = (kw: number) => [
        ...times(cs.start, cols.stride),
        scaled(c, cols.stride),
        i32(kw * cols.dilation - cols.padBegin),
      ];
      const xAt = (kh: number, kw: number) =>
        sum([...at.x(ri), ...rowTerms(kh).map((t) => mul(t, ix(cols.size))), ...colTerms(kw)]);
      const yAt = sum([
        ...at.y(ri),
        ...times(rs.start, cols.out),
        mul(r, ix(cols.out)),
        ...times(cs.start, 1),
        c,
      ]);
      const [khs, kws] = [rs.taps ?? [0, rows.kernel], cs.taps ?? [0, cols.kernel]];
      if (rs.taps && cs.taps) {
        let acc: Expr | undefined = reduce.accumulates ? reduce.init(yAt) : undefined;
        for (let kh = khs[0]; kh < khs[1]; kh++)
          for (let kw = kws[0]; kw < kws[1]; kw++) acc = reduce.combine(acc, load(X, xAt(kh, kw)), kh, kw);
        const count = (khs[1] - khs[0]) * (kws[1] - kws[0]);
        return loop(colVar, extentOf(cs.count), [
          store(Y, yAt, reduce.finish(acc ?? reduce.init(yAt), i32(count))),
        ]);
      }
      const [acc, taken] = [`acc${ri}_${ci}`, `taken${ri}_${ci}`];
      const taps: Stmt[] = [];
      for (let kh = khs[0]; kh < khs[1]; kh++)
        for (let kw = kws[0]; kw < kws[1]; kw++) {
          const inside = [
            ...(rs.taps ? [] : [cmp('lt_u', sum(rowTerms(kh)), ix(rows.size))]),
            ...(cs.taps ? [] : [cmp('lt_u', sum(colTerms(kw)), ix(cols.size))]),
          ].reduce((a, b) => bin('and', a, b));
          taps.push(
            when(inside, [
              set(acc, reduce.combine(v(acc, 'f32'), load(X, xAt(kh, kw)), kh, kw)),
              ...(reduce.counts ? [set(taken, add(v(taken), i32(1)))] : []),
            ]),
          );
        }
      return loop(colVar, extentOf(cs.count), [
        local(acc, 'f32', reduce.init(yAt)),
        ...(reduce.counts ? [local(taken, 'i32', i32(0))] : []),
        ...taps,
        store(Y, yAt, reduce.finish(v(acc, 'f32'), reduce.counts ? v(taken) : i32(0))),
      ]);
    });
    return [...prologue(ri), loop(rowVar, extentOf(rs.count), rowBody)];
  });
}
