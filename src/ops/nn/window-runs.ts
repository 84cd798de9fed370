/**
 * 2-D sliding windows over one plane without bounds checks, for depthwise convs and pools.
 *
 * Output rows are split into runs that see the same kernel rows inside the input (top border rows, the
 * interior, bottom border rows), so each row only visits the taps that exist; output columns are split the
 * same way into the interior range, where every column tap is inside the input, and the few border columns,
 * each unrolled with its own tap range. Each output is one store of a value built from its taps; in the
 * interior that store sits alone in a loop over columns whose loads have stride 1 or 2, which the wasm
 * backend's vectorize.ts turns into f32x4 code, four output columns at a time.
 */
import type { BufRef, Expr, Stmt } from '../../kernels/ir.js';
import { add, i32, loop, mul, store, v } from '../../kernels/build.js';
import type { Window } from './window.js';

/** Consecutive outputs [start, end) that see the same taps. */
export interface Run {
  start: number;
  end: number;
  /** [lo, hi): the taps inside the input */
  taps: [number, number];
  /** how many taps lie inside the input or its padding (AveragePool's count_include_pad divisor) */
  padded: number;
}

/** The runs of one spatial dim: output o's taps k sit at o·s − p + k·d, inside when in [0, size). */
export function runsOf(w: Window, d: number, size: number): Run[] {
  const [s, p, dil, K] = [w.strides[d], w.padBegin[d], w.dilations[d], w.kernel[d]];
  const at = (o: number, k: number) => o * s - p + k * dil;
  const runs: Run[] = [];
  for (let o = 0; o < w.out[d]; o++) {
    let lo = 0;
    while (lo < K && at(o, lo) < 0) lo++;
    let hi = K;
    while (hi > lo && at(o, hi - 1) >= size) hi--;
    let padded = 0;
    for (let k = 0; k < K; k++) if (at(o, k) >= -p && at(o, k) < size + w.padEnd[d]) padded++;
    const last = runs[runs.length - 1];
    if (last && last.taps[0] === lo && last.taps[1] === hi && last.padded === padded) last.end = o + 1;
    else runs.push({ start: o, end: o + 1, taps: [lo, hi], padded });
  }
  return runs;
}

/** Most taps windowPlane2d may unroll in all (as loads in the code), beyond which callers keep their loops. */
const MAX_UNROLLED_TAPS = 20000;

/**
 * Whether windowPlane2d's code stays small: every border output and every wide run (twice: its vector loop
 * and scalar tail) unrolls its taps, so large kernels with large padding (31×31 depthwise convs) would not.
 */
export function windowRunsFit(w: Window, input: number[]): boolean {
  const taps = (r: Run) => r.taps[1] - r.taps[0];
  const units = (runs: Run[]) =>
    runs.reduce((n, r) => n + (r.end - r.start >= 4 ? 2 : r.end - r.start) * taps(r), 0);
  const rows = runsOf(w, 0, input[0]).reduce((n, r) => n + taps(r), 0);
  return w.kernel.length === 2 && rows * units(runsOf(w, 1, input[1])) <= MAX_UNROLLED_TAPS;
}

/** Σ of i32 terms, constants gathered into one trailing non-negative constant (it goes into wasm's offset=). */
function sum(terms: Expr[], constant: number): Expr {
  const all = constant !== 0 || terms.length === 0 ? [...terms, i32(constant)] : terms;
  return all.reduce((a, b) => add(a, b));
}

/** x·k, or nothing when x is absent (a run one row or column wide has no loop variable) */
const scaled = (x: Expr | undefined, k: number): Expr[] => (!x ? [] : [k === 1 ? x : mul(x, i32(k))]);

/** What one output's value is made of. */
export interface WindowOutput {
  /** input element index of tap (kh, kw); only taps inside the ranges below may be asked for */
  at: (kh: number, kw: number) => Expr;
  rows: Run;
  cols: Run;
  /** which row run this output is in (`value` and `prologue` are called per run: for unique local names) */
  run: number;
}

/**
 * Stores Y[yPlane + oh·OW + ow] = value(...) for every output of one plane of a 2-D window over an
 * H×W input plane at X index xPlane. `xPlane(run)` and `yPlane(run)` are sums of non-negative terms (loop
 * variables times constants). Returns one statement list per row run, `prologue(run, taps)` first (`taps`:
 * the [lo, hi) kernel rows and columns some output of the run reads, so it loads no other): the caller
 * wraps each in its own plane loops with counters named per run, so that each is an independent loop nest
 * (for WGSL, its own dispatch, spread over planes and rows rather than planes alone). `tapColumn(kw)` is
 * where kernel column kw reads in an input row relative to the output column's first tap (kw·dilation;
 * a copy of X with its columns rearranged says otherwise, see depthwise-columns.ts). `tail` 'overlapping'
 * ends each interior run not a multiple of four columns wide with a group of four that overlaps the group
 * before (those columns computed twice, to the same values) instead of the vector loop's scalar tail: for
 * MaxPool, whose scalar f32.max takes about as long as the f32x4 vectors (SqueezeNet's 27-wide 3×3 stride-2
 * pools: 3 scalar columns of 27).
 */
export function windowPlane2d(
  w: Window,
  input: number[],
  xPlane: (run: number) => Expr[],
  Y: BufRef,
  yPlane: (run: number) => Expr[],
  value: (o: WindowOutput) => Expr,
  prologue: (run: number, taps: { rows: Run['taps']; cols: Run['taps'] }) => Stmt[] = () => [],
  tapColumn: (kw: number) => number = (kw) => kw * w.dilations[1],
  tail: 'scalar' | 'overlapping' = 'scalar',
): Stmt[][] {
  const [H, W] = input;
  const OW = w.out[1];
  const [sh, sw] = w.strides;
  const dh = w.dilations[0];
  const [ph, pw] = w.padBegin;
  const colRuns = runsOf(w, 1, W);
  // the column taps some output of a row reads
  const colTaps: Run['taps'] = [
    Math.min(...colRuns.map((r) => r.taps[0])),
    Math.max(...colRuns.map((r) => r.taps[1])),
  ];
  return runsOf(w, 0, H).map((rows, ri) => {
    const height = rows.end - rows.start;
    const rowVar = `oh${ri}`;
    const r = height > 1 ? v(rowVar) : undefined;
    const rowBody: Stmt[] = [];
    colRuns.forEach((cols, ci) => {
      const width = cols.end - cols.start;
      // wide runs (the interior) as a loop for the vectorizer, or its whole groups of four and one more
      // group that ends the run (see `tail`); border columns unrolled
      const loopVar = `ow${ri}_${ci}`;
      // from column b: one output, or a loop of `count` named `name`
      const columns: { b: number; loop?: { name: string; count: number } }[] = [];
      const overlap = tail === 'overlapping' && width % 4 !== 0;
      if (width >= 4) {
        columns.push({ b: cols.start, loop: { name: loopVar, count: width - (overlap ? width % 4 : 0) } });
        if (overlap) columns.push({ b: cols.end - 4, loop: { name: `${loopVar}_last`, count: 4 } });
      } else for (let b = cols.start; b < cols.end; b++) columns.push({ b });
      for (const { b, loop: across } of columns) {
        const c = across && v(across.name);
        const a = rows.start;
        // a·s − p + kh·d ≥ 0 for taps inside the input, so the constant part is never negative
        const at = (kh: number, kw: number) =>
          sum(
            [...xPlane(ri), ...scaled(r, sh * W), ...scaled(c, sw)],
            (a * sh - ph + kh * dh) * W + b * sw - pw + tapColumn(kw),
          );
        const yAt = sum([...yPlane(ri), ...scaled(r, OW), ...(c ? [c] : [])], a * OW + b);
        const s = store(Y, yAt, value({ at, rows, cols: { ...cols, start: b }, run: ri }));
        rowBody.push(across ? loop(across.name, across.count, [s]) : s);
      }
    });
    return [
      ...prologue(ri, { rows: rows.taps, cols: colTaps }),
      ...(r ? [loop(rowVar, height, rowBody)] : rowBody),
    ];
  });
}
