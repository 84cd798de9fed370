/**
 * Copies of X with rearranged columns for depthwise convs on narrow maps (depthwise.ts), so that every
 * output row is one f32x4 loop over all its columns, each kernel tap one unit-stride vector load.
 *
 * On narrow maps the border columns, unrolled one scalar output at a time, are most of the work (a 5×5
 * conv over a 3×12 map: 4 of 12 columns, more multiply-adds than its two f32x4 interior columns). At
 * stride 1, X is copied with zero columns on the left and right, so every output column reads all kernel
 * columns. At stride 2 each copied row is also split into its even and odd columns (XNNPACK's
 * deinterleaved rows): output column ow reads padded column 2·ow + kw·dw, which is element
 * ow + ⌊kw·dw / 2⌋ of the row's even or odd half, so each tap is one load instead of two and a shuffle.
 * The zeros add nothing to the sums: each output sums the same nonzero terms in the same order.
 */
import type { BufRef, Expr, Stmt } from '../../kernels/ir.js';
import { add, f32, i32, load, loop, mul, store, v } from '../../kernels/build.js';
import type { ConvGeometry } from './conv-geometry.js';
import type { Window } from './window.js';
import { paddedInput } from './conv-shifted.js';
import { runsOf, type Run } from './window-runs.js';

/**
 * Output widths that take a column copy. Narrower rows are mostly the vector loop's scalar tail (a 2×6
 * map: one f32x4 and two scalar outputs, each over every kernel column) and measured slower
 * (MobileNetV3's 576×2×6 5×5 convs, 1.2×); wider ones have few border columns beside their interior,
 * and the copy costs more than it saves (crnn-rec's 32×24×160 stride 1: 1.34×, 64×12×80 stride 2: 1.13×).
 */
export const COPY_WIDTH = { min: 8, max: 48 };
/**
 * Largest copy (one image, all channels) taken: it is written whole before the rows read it, so past
 * this core's 1 MiB L2 it comes back from L3 (tf-mobilenet's 48×40×40 stride-2 conv, a 1.2 MiB copy:
 * 1.05× the time).
 */
const MAX_COPY_BYTES = 1 << 20;

/**
 * Scalar multiply-adds per kernel row of one output row: runs of four or more columns are f32x4 loops
 * whose last width mod 4 columns run scalar, narrower runs are unrolled one scalar output at a time.
 */
function scalarTaps(runs: Run[]): number {
  return runs.reduce((n, r) => {
    const width = r.end - r.start;
    return n + (width >= 4 ? width % 4 : width) * (r.taps[1] - r.taps[0]);
  }, 0);
}

/** X's columns rearranged for one image: the copy's layout and how to write it. */
export interface ColumnCopy {
  /** elements per row of the copy */
  width: number;
  /** the window windowPlane2d sweeps over the copy: no column padding, column stride 1 */
  window: Window;
  /** where kernel column kw reads in a row of the copy, relative to the output column */
  tapColumn: (kw: number) => number;
  /** writes image n of X ([C, H, W]) into the copy Xc ([C, H, width]) */
  write: (X: BufRef, Xc: BufRef, n: Expr) => Stmt[];
}

/**
 * The column copy for this conv, or undefined where it does not pay: an output width outside COPY_WIDTH,
 * no fewer scalar taps than the border runs, a copy over MAX_COPY_BYTES, a column stride other than 1 or 2.
 */
export function columnCopy(g: ConvGeometry): ColumnCopy | undefined {
  const w = g.window;
  const [H, Wd] = g.inSpatial;
  const [pl, pr] = [w.padBegin[1], w.padEnd[1]];
  const [sw, dw] = [w.strides[1], w.dilations[1]];
  if (w.out[1] < COPY_WIDTH.min || w.out[1] > COPY_WIDTH.max) return undefined;
  // the copy must leave fewer scalar taps than the border runs: tf-mobilenet's 3×3 convs over 10×10 maps
  // (4 border taps per kernel row before, a 2-column tail of 3 taps each after) took 1.3× the time with
  // it, and stride-2 ones with no border columns (Pad nodes before them) 1.5×
  const copied: Run = { start: 0, end: w.out[1], taps: [0, w.kernel[1]], padded: 0 };
  if (scalarTaps([copied]) >= scalarTaps(runsOf(w, 1, Wd))) return undefined;
  const unpaddedColumns = { padBegin: [w.padBegin[0], 0], padEnd: [w.padEnd[0], 0] };
  const Wp = pl + Wd + pr;
  const half = Math.ceil(Wp / 2);
  if (g.C * H * (sw === 1 ? Wp : 2 * half) * 4 > MAX_COPY_BYTES) return undefined;
  if (sw === 1)
    return {
      width: Wp,
      window: { ...w, ...unpaddedColumns },
      tapColumn: (kw) => kw * dw,
      write: (X, Xc, n) => paddedInput(X, Xc, n, g.C, [H, Wd], Wp, H * Wp, [0, pl], 'borders'),
    };
  if (sw !== 2) return undefined;
  return {
    width: 2 * half,
    // column stride 1 and dilation 1 over [even half | odd half]: tapColumn places each tap
    window: { ...w, ...unpaddedColumns, strides: [w.strides[0], 1], dilations: [w.dilations[0], 1] },
    tapColumn: (kw) => ((kw * dw) % 2) * half + Math.floor((kw * dw) / 2),
    write: (X, Xc, n) => deinterleavedRows(X, Xc, n, g.C, [H, Wd], pl, half),
  };
}

/**
 * Xc[c, h, q·half + j] = Xp[c, h, 2j + q] for parity q, Xp being X's image n with pl zero columns on the
 * left (and zeros past its right edge): each half is a loop of stride-2 loads between its zero ends.
 */
function deinterleavedRows(
  X: BufRef,
  Xc: BufRef,
  n: Expr,
  C: number,
  [H, Wd]: number[],
  pl: number,
  half: number,
): Stmt[] {
  const row = add(mul(v('c'), i32(H * 2 * half)), mul(v('h'), i32(2 * half)));
  const xRow = add(mul(add(mul(n, i32(C)), v('c')), i32(H * Wd)), mul(v('h'), i32(Wd)));
  const halves = [0, 1].flatMap((q) => {
    // padded column 2j + q is X's column 2j + q − pl: inside X for j in [j0, j1)
    const j0 = Math.ceil((pl - q) / 2);
    const j1 = Math.max(j0, Math.floor((pl + Wd - 1 - q) / 2) + 1);
    const zeros = (name: string, from: number, to: number): Stmt[] =>
      to > from
        ? [loop(name, to - from, [store(Xc, add(row, add(v(name), i32(q * half + from))), f32(0))])]
        : [];
    const copy = loop(`j${q}`, j1 - j0, [
      store(
        Xc,
        add(row, add(v(`j${q}`), i32(q * half + j0))),
        load(X, add(xRow, add(mul(v(`j${q}`), i32(2)), i32(2 * j0 + q - pl)))),
      ),
    ]);
    return [...zeros(`zl${q}`, 0, j0), ...(j1 > j0 ? [copy] : []), ...zeros(`zr${q}`, j1, half)];
  });
  return [loop('c', C, [loop('h', H, halves)])];
}
