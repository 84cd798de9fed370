/**
 * 2-D float32 Conv with a short reduction (K = C·kh·kw ≤ MAX_K, such as a network's first 3×3 conv over
 * RGB: K = 27; or a first layer over an image, up to 7×7) as im2col fused into the gemm's B panels: no
 * im2col matrix.
 *
 * The im2col + gemm lowering (conv.ts) writes the whole K × OH·OW matrix, and the gemm then copies it
 * again into 8-column panels; with K this small both passes cost about as much as the multiply-adds.
 * Here each panel of whole output rows is gathered straight from the (zero-padded) input into a
 * K × (rows·OW) scratch that stays in L1, and one gemm reads it in place (`streamB`) for every output
 * channel. Output (oy, ox) reads tap k = (c, kh, kw) at Xp[c, oy·sh + kh·dh, ox·sw + kw·dw], i.e. at
 * row(oy) + tapOffset(k) + ox·sw with tapOffset a compile-time constant: along a row every tap is a
 * strided copy, which vectorizes (a panel of single positions, as this was first, had to compute each
 * position's row and column and copy K scalars: a quarter of the layer's time). The last OH mod rows
 * output rows are one narrower panel.
 * Each output element sums the same products in the same order as the im2col lowering.
 */
import { sizeOf } from '../../ir/tensor.js';
import type { Activation, BufRef, Expr, MatView, Stmt } from '../../kernels/ir.js';
import { add, i32, load, loop, mul, store, v } from '../../kernels/build.js';
import { gemm, view } from './gemm-helpers.js';
import type { ConvGeometry } from './conv-geometry.js';
import { paddedInput } from './conv-shifted.js';
import { offsetBy, type ConvRows } from './conv-rows.js';
import { B_PANEL } from '../../kernels/b-panels.js';

/** Longest reduction taken: past it the im2col matrix's passes are small beside the multiply-adds. */
const MAX_K = 64;
/**
 * A first layer over an image (grayscale, RGB, RGBA) takes panels up to a 7×7 kernel over four channels
 * (scripts/perf/first-conv.ts, one process, machine loaded: 7×7 stride 2 over RGB, K = 147, took 0.68–0.79×
 * the time of im2col + gemm; 5×5 stride 1 over RGB the same time).
 */
const IMAGE_CHANNELS = 4;
const MAX_IMAGE_K = 7 * 7 * IMAGE_CHANNELS;
/**
 * About this many output positions per panel (whole output rows, at least one): see panelRows. 16, 64, 128
 * and 320 measured the same within noise on the benchmark CNNs' first convs.
 */
const PANEL_COLUMNS = 64;

/** Output rows per panel: as many whole rows as fit in PANEL_COLUMNS positions, at least one, at most OH. */
function panelRows(OH: number, OW: number): number {
  return Math.min(OH, Math.max(1, Math.floor(PANEL_COLUMNS / OW)));
}

/**
 * The gemms over a panel of `columns` output positions, as [first column, width]: whole B_PANEL-wide
 * micro-tiles, the last of them overlapping the one before when `columns` is not a multiple of B_PANEL, so
 * that no column falls to the gemm's narrow and scalar tail tiles (SqueezeNet's first conv, 111 wide: 7
 * tail columns of 111 took 0.8 of its 2.2 ms). The overlapped columns are computed twice, to the same
 * values (each sums the same products in the same order). Fewer columns than a tile: one gemm.
 */
export function panelColumnSpans(columns: number): [number, number][] {
  const whole = columns - (columns % B_PANEL);
  if (whole === columns || whole === 0) return [[0, columns]];
  return [
    [0, whole],
    [columns - B_PANEL, B_PANEL],
  ];
}

export function panelConvFits(g: ConvGeometry): boolean {
  const w = g.window;
  const K = g.C * sizeOf(w.kernel);
  return (
    w.kernel.length === 2 &&
    g.group === 1 &&
    sizeOf(w.kernel) > 1 &&
    (K <= MAX_K || (g.C <= IMAGE_CHANNELS && K <= MAX_IMAGE_K))
  );
}

export function panelConvLowering(
  g: ConvGeometry,
  X: BufRef,
  W: BufRef,
  B: BufRef | undefined,
  Y: BufRef,
  scratch: (length: number) => BufRef,
  act: Activation | undefined,
): Stmt[] {
  const { N, M, window: w } = g;
  const outS = sizeOf(w.out);
  const conv = panelConvRows(g, X, W, B, scratch, act);
  const n = v('n');
  const to = { buf: Y, at: mul(n, i32(M * outS)), ld: outS };
  return [loop('n', N, [...conv.prologue(n), ...conv.rows(n, i32(0), w.out[0], to)])];
}

/**
 * The panel lowering as a producer of output rows (conv-rows.ts): `prologue(n)` pads image n's input
 * where the conv has padding, then `rows` fills any range of output rows from it.
 */
export function panelConvRows(
  g: ConvGeometry,
  X: BufRef,
  W: BufRef,
  B: BufRef | undefined,
  scratch: (length: number) => BufRef,
  act: Activation | undefined,
): ConvRows {
  const { C, M, inSpatial, window: w } = g;
  const [H, Wd] = inSpatial;
  const [OH, OW] = w.out;
  const [KH, KW] = w.kernel;
  const [sh, sw] = w.strides;
  const [dh, dw] = w.dilations;
  const [pt, pl] = w.padBegin;
  const padded = [...w.padBegin, ...w.padEnd].some((p) => p > 0);
  const Wp = pl + Wd + w.padEnd[1];
  const plane = (pt + H + w.padEnd[0]) * Wp;
  const K = C * KH * KW;
  const xp = padded ? scratch(C * plane) : X;
  // element index of channel 0's first element of image n in Xp (X itself when unpadded)
  const image = (n: Expr) => (padded ? i32(0) : mul(n, i32(C * plane)));
  const rows = panelRows(OH, OW);
  const col = scratch(K * rows * OW);
  const tapOffset = (k: number): number => {
    const [c, t] = [Math.floor(k / (KH * KW)), k % (KH * KW)];
    return c * plane + Math.floor(t / KW) * dh * Wp + (t % KW) * dw;
  };
  /**
   * gathers output rows [first, first + height) (first an i32 expression) into col, whose row stride is
   * height·OW: one loop over the output columns per row, reading every tap at stride sw, which the wasm
   * code generator vectorizes (f32x4 loads and stores) for sw 1 and 2; `tag` keeps the loops' names apart
   */
  const gather = (tag: string, n: Expr, first: Expr, height: number): Stmt => {
    const [r, ox] = [`${tag}r`, `${tag}ox`];
    const row = add(image(n), mul(add(first, v(r)), i32(sh * Wp)));
    const column = sw === 1 ? v(ox) : mul(v(ox), i32(sw));
    return loop(r, height, [
      loop(
        ox,
        OW,
        Array.from({ length: K }, (_, k) =>
          store(
            col,
            add(i32(k * height * OW), add(mul(v(r), i32(OW)), v(ox))),
            load(xp, add(add(row, i32(tapOffset(k))), column)),
          ),
        ),
      ),
    ]);
  };
  const product = (c: MatView, height: number): Stmt[] =>
    panelColumnSpans(height * OW).map(([start, width]) => {
      const bias = B ? view(B, i32(0), 1, 0) : undefined;
      const b = view(col, i32(start), height * OW, 1);
      const to = view(c.buf, offsetBy(c.offset, i32(start)), c.rs, c.cs);
      const s = gemm(M, width, K, view(W, i32(0), K, 1), b, to, { bias, streamB: true });
      if (act) s.act = act;
      return s;
    });
  return {
    prologue: (n) => (padded ? paddedInput(X, xp, n, C, inSpatial, Wp, plane, [pt, pl], 'borders') : []),
    rows: (n, first, height, to) => {
      const panels = Math.floor(height / rows);
      const tail = height % rows;
      const p = v('p');
      const start = offsetBy(first, mul(p, i32(rows)));
      const at = (row: Expr) => view(to.buf, add(to.at, mul(row, i32(OW))), to.ld, 1);
      const end = offsetBy(first, i32(panels * rows));
      return [
        ...(panels
          ? [loop('p', panels, [gather('p_', n, start, rows), ...product(at(mul(p, i32(rows))), rows)])]
          : []),
        ...(tail ? [gather('t_', n, end, tail), ...product(at(i32(panels * rows)), tail)] : []),
      ];
    },
  };
}
