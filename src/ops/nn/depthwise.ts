/**
 * Depthwise 2-D convolution (group == C, float32) as loops with no bounds checks, shaped so the wasm
 * backend vectorizes the inner loop (four output columns per f32x4) and the WGSL backend renders them as
 * they are.
 *
 * Per (n, output channel, row run) the taps' weights and the bias are read into locals; window-runs.ts splits
 * the plane into border and interior runs, so each output sums only the taps inside the input, and the
 * interior is one loop whose store is act(bias + Σ_kh Σ_kw X·w), four columns per f32x4.
 *
 * On narrow maps each row is one vector loop over a copy of X with its columns rearranged
 * (depthwise-columns.ts); on smaller ones at stride 1, each channel one vector loop over its padded rows
 * laid end to end (depthwise-flat.ts).
 */
import type { Activation, BufRef, Expr, Stmt } from '../../kernels/ir.js';
import { add, cast, f32, i32, load, local, loop, mul, v } from '../../kernels/build.js';
import type { ConvGeometry } from './conv-geometry.js';
import { activate, activationLoop } from '../../kernels/rewrite/epilogue.js';
import { windowPlane2d, windowRunsFit } from './window-runs.js';
import { columnCopy } from './depthwise-columns.js';
import { flatPlane, flatPlaneLoops } from './depthwise-flat.js';

/** Whether `depthwiseLoops` handles this conv: float32 2-D, one input channel per group, code not too big. */
export function depthwiseFits(g: ConvGeometry, dtype: string): boolean {
  return (
    dtype === 'float32' &&
    g.inSpatial.length === 2 &&
    g.group === g.C &&
    g.C > 0 &&
    windowRunsFit(g.window, g.inSpatial)
  );
}

/**
 * Y[n, m] = act(B[m] + Σ X[n, m / Mg] ⋆ W[m]) for a depthwise conv, a Relu or Clip `act` fused into the store.
 * Each output is bias + Σ_kh (Σ_kw x·w), summed in that order on every path. With `int8Scales`, W is
 * int8 with one scale per output channel (kiln.Int8Conv): each weight is restored, q · scale, as it is
 * read into its local, the same float32 value a DequantizeLinear would make. `scratch` allocates X's column
 * copy where `columnCopy` takes one; without it every map takes the border runs.
 */
export function depthwiseLoops(
  g: ConvGeometry,
  X: BufRef,
  W: BufRef,
  B: BufRef | undefined,
  Y: BufRef,
  act: Activation | undefined,
  int8Scales?: BufRef,
  scratch?: (length: number) => BufRef,
): Stmt[] {
  // a `map` reads its input more than once (x·HardSigmoid(x)): substituted into the stores, the scalar
  // border loops would sum each window once per read, so it runs over Y after them (whole mobilenetv3-cls
  // runs: no difference beyond the noise of a loaded machine either way)
  if (act?.op === 'map')
    return [...depthwiseLoops(g, X, W, B, Y, undefined, int8Scales, scratch), ...activationLoop(Y, act)];
  const plane = scratch === undefined ? undefined : flatPlane(g);
  if (plane) return flatPlaneLoops(g, plane, X, W, B, Y, act, int8Scales, scratch!);
  const { N, C, M } = g;
  const Mg = M / C;
  const [H, Wd] = g.inSpatial;
  // with a column copy: the runs read one image of Xc [C, H, copy.width], as an unpadded window
  const copy = scratch === undefined ? undefined : columnCopy(g);
  const Wc = copy?.width ?? Wd;
  const win = copy?.window ?? g.window;
  const Xc = copy ? scratch!(C * H * Wc) : X;
  const [OH, OW] = win.out;
  const [KH, KW] = win.kernel;
  // loop counters named per row run: each run's nest stays independent of the others (see windowPlane2d)
  const [n, gi, mg] = [
    (run: number) => v(copy ? 'n' : `n${run}`),
    (run: number) => v(`c${run}`),
    (run: number) => v(`mg${run}`),
  ];
  const m = (run: number) => add(mul(gi(run), i32(Mg)), mg(run));
  // per row run, so each run's nest declares its own
  const weight = (run: number, kh: number, kw: number) => `w${run}_${kh}_${kw}`;
  // only the taps the run's outputs read: a weight loaded into a local no output reads stays a load in
  // the code (binaryen keeps a load that may trap), 15 of 25 per channel in a 5×5 conv's 2-row border runs
  const prologue = (run: number, taps: { rows: [number, number]; cols: [number, number] }): Stmt[] => {
    const locals: Stmt[] = [];
    for (let kh = taps.rows[0]; kh < taps.rows[1]; kh++)
      for (let kw = taps.cols[0]; kw < taps.cols[1]; kw++) {
        const at = add(mul(m(run), i32(KH * KW)), i32(kh * KW + kw));
        const w = int8Scales ? mul(cast('f32', load(W, at)), load(int8Scales, m(run))) : load(W, at);
        locals.push(local(weight(run, kh, kw), 'f32', w));
      }
    if (B) locals.push(local(`bias${run}`, 'f32', load(B, m(run))));
    return locals;
  };
  const scaled = (x: Expr, k: number) => (k === 1 ? x : mul(x, i32(k)));
  const xPlane = (run: number) =>
    copy ? [scaled(gi(run), H * Wc)] : [scaled(n(run), C * H * Wd), scaled(gi(run), H * Wd)];
  const yPlane = (run: number) => [
    scaled(n(run), M * OH * OW),
    scaled(gi(run), Mg * OH * OW),
    scaled(mg(run), OH * OW),
  ];
  const runs = windowPlane2d(
    win,
    [H, Wc],
    xPlane,
    Y,
    yPlane,
    ({ at, rows, cols, run }) => {
      let acc: Expr | undefined = B ? v(`bias${run}`, 'f32') : undefined;
      for (let i = rows.taps[0]; i < rows.taps[1]; i++) {
        let row: Expr | undefined;
        for (let j = cols.taps[0]; j < cols.taps[1]; j++) {
          const term = mul(load(Xc, at(i, j)), v(weight(run, i, j), 'f32'));
          row = row ? add(row, term) : term;
        }
        if (row) acc = acc ? add(acc, row) : row;
      }
      return activate(act, acc ?? f32(0));
    },
    prologue,
    copy?.tapColumn,
  );
  const planes = (body: Stmt[], run: number) => loop(`c${run}`, C, [loop(`mg${run}`, Mg, body)]);
  if (copy) return [loop('n', N, [...copy.write(X, Xc, v('n')), ...runs.map(planes)])];
  return runs.map((body, run) => loop(`n${run}`, N, [planes(body, run)]));
}
