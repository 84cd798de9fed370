/**
 * Depthwise 2-D convolution (group == C, float32) as loops with no bounds checks, shaped so the wasm
 * backend vectorizes the inner loop (four output columns per f32x4) and the WGSL backend renders them as
 * they are.
 *
 * Per (n, output channel) the taps' weights and the bias are read once into locals. Output rows are split
 * into runs that see the same kernel rows inside the input (top border rows, the interior, bottom border
 * rows), so a row only sums the taps that exist; output columns are split the same way into the interior
 * range, where every column tap is inside the input, and the few border columns, each unrolled with its own
 * tap range. The interior is one loop whose store is act(bias + Σ_kh Σ_kw X·w): its X loads have unit
 * stride (stride 1) or stride 2, which vectorize.ts turns into f32x4 loads.
 */
import type { Activation, BufRef, Expr, Stmt } from '../../kernels/ir.js';
import { add, f32, i32, load, local, loop, max, min, mul, store, v } from '../../kernels/build.js';
import type { ConvGeometry } from './conv.js';

/** act(x) as Kernel IR (the same clamp the gemm epilogue applies). */
export function activate(act: Activation | undefined, x: Expr): Expr {
  if (!act) return x;
  if (act.op === 'relu') return max(x, f32(0));
  return min(max(x, f32(act.min)), f32(act.max));
}

/** Whether `depthwiseLoops` handles this conv: float32 2-D, one input channel per group. */
export function depthwiseFits(g: ConvGeometry, dtype: string): boolean {
  return dtype === 'float32' && g.inSpatial.length === 2 && g.group === g.C && g.C > 0;
}

/** [lo, hi): the taps k (0 ≤ k < K) with 0 ≤ o·s − p + k·d < size. */
function tapRange(o: number, s: number, p: number, d: number, K: number, size: number): [number, number] {
  let lo = 0;
  while (lo < K && o * s - p + lo * d < 0) lo++;
  let hi = K;
  while (hi > lo && o * s - p + (hi - 1) * d >= size) hi--;
  return [lo, hi];
}

/** Consecutive outputs [start, end) that share one tap range. */
interface Run {
  start: number;
  end: number;
  taps: [number, number];
}

function runsOf(out: number, s: number, p: number, d: number, K: number, size: number): Run[] {
  const runs: Run[] = [];
  for (let o = 0; o < out; o++) {
    const taps = tapRange(o, s, p, d, K, size);
    const last = runs[runs.length - 1];
    if (last && last.taps[0] === taps[0] && last.taps[1] === taps[1]) last.end = o + 1;
    else runs.push({ start: o, end: o + 1, taps });
  }
  return runs;
}

/** Σ of terms, with `i32` constants gathered into one trailing constant (it goes into wasm's offset=). */
function sum(terms: Expr[], constant: number): Expr {
  const all = constant !== 0 || terms.length === 0 ? [...terms, i32(constant)] : terms;
  return all.reduce((a, b) => add(a, b));
}

/** x·k, or nothing when x is absent (a run one row or column wide has no loop variable) */
const scaled = (x: Expr | undefined, k: number): Expr[] => (!x ? [] : [k === 1 ? x : mul(x, i32(k))]);

/**
 * Y[n, m] = act(B[m] + Σ X[n, m / Mg] ⋆ W[m]) for a depthwise conv, `act` fused into the store.
 * Each output is bias + Σ_kh (Σ_kw x·w), summed in that order on every path.
 */
export function depthwiseLoops(
  g: ConvGeometry,
  X: BufRef,
  W: BufRef,
  B: BufRef | undefined,
  Y: BufRef,
  act: Activation | undefined,
): Stmt[] {
  const { N, C, M, window: win } = g;
  const Mg = M / C;
  const [H, Wd] = g.inSpatial;
  const [OH, OW] = win.out;
  const [KH, KW] = win.kernel;
  const [sh, sw] = win.strides;
  const [dh, dw] = win.dilations;
  const [ph, pw] = win.padBegin;
  const [n, gi, mg] = [v('n'), v('c'), v('mg')];
  const m = add(mul(gi, i32(Mg)), mg);
  const weight = (kh: number, kw: number) => `w${kh}_${kw}`;
  const prologue: Stmt[] = [];
  for (let kh = 0; kh < KH; kh++)
    for (let kw = 0; kw < KW; kw++)
      prologue.push(local(weight(kh, kw), 'f32', load(W, add(mul(m, i32(KH * KW)), i32(kh * KW + kw)))));
  if (B) prologue.push(local('bias', 'f32', load(B, m)));

  const xChannel = [...scaled(n, C * H * Wd), ...scaled(gi, H * Wd)];
  const yChannel = [...scaled(n, M * OH * OW), ...scaled(gi, Mg * OH * OW), ...scaled(mg, OH * OW)];
  const rowRuns = runsOf(OH, sh, ph, dh, KH, H);
  const colRuns = runsOf(OW, sw, pw, dw, KW, Wd);

  /**
   * The output at row a + r, column b + c: `r` and `c` are loop variables (absent for a single row or
   * column), the taps restricted to the ranges given.
   */
  const output = (
    a: number,
    r: Expr | undefined,
    kh: [number, number],
    b: number,
    c: Expr | undefined,
    kw: [number, number],
  ) => {
    const rows: Expr[] = [];
    for (let i = kh[0]; i < kh[1]; i++) {
      let row: Expr | undefined;
      for (let j = kw[0]; j < kw[1]; j++) {
        // a·s − p + i·d ≥ 0 for taps inside the input, so the constant part is never negative
        const at = sum(
          [...xChannel, ...scaled(r, sh * Wd), ...scaled(c, sw)],
          (a * sh - ph + i * dh) * Wd + b * sw - pw + j * dw,
        );
        const term = mul(load(X, at), v(weight(i, j), 'f32'));
        row = row ? add(row, term) : term;
      }
      if (row) rows.push(row);
    }
    let acc: Expr | undefined = B ? v('bias', 'f32') : undefined;
    for (const row of rows) acc = acc ? add(acc, row) : row;
    return activate(act, acc ?? f32(0));
  };

  const body: Stmt[] = [];
  rowRuns.forEach((rr, ri) => {
    const rows = rr.end - rr.start;
    const rowVar = `oh${ri}`;
    const r = rows > 1 ? v(rowVar) : undefined;
    const rowBody: Stmt[] = [];
    colRuns.forEach((cr, ci) => {
      const width = cr.end - cr.start;
      // wide runs (the interior) as a loop for the vectorizer; border columns unrolled
      const loopVar = `ow${ri}_${ci}`;
      const columns: { b: number; c?: Expr }[] = [];
      if (width >= 4) columns.push({ b: cr.start, c: v(loopVar) });
      else for (let b = cr.start; b < cr.end; b++) columns.push({ b });
      for (const { b, c } of columns) {
        const yAt = sum([...yChannel, ...scaled(r, OW), ...(c ? [c] : [])], rr.start * OW + b);
        const s = store(Y, yAt, output(rr.start, r, rr.taps, b, c, cr.taps));
        rowBody.push(c ? loop(loopVar, width, [s]) : s);
      }
    });
    body.push(...(r ? [loop(rowVar, rows, rowBody)] : rowBody));
  });
  return [loop('n', N, [loop('c', C, [loop('mg', Mg, [...prologue, ...body])])])];
}
