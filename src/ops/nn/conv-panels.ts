/**
 * 2-D float32 Conv with a short reduction (K = C·kh·kw ≤ MAX_K, such as a network's first 3×3 conv over
 * RGB: K = 27; or a first layer over an image, up to 7×7) as im2col fused into the gemm's B panels: no
 * im2col matrix.
 *
 * The im2col + gemm lowering (conv.ts) writes the whole K × OH·OW matrix, and the gemm then copies it
 * again into 8-column panels; with K this small both passes cost about as much as the multiply-adds.
 * Here each panel of whole output rows is gathered straight from the input (zeros for its padding) into a
 * K × (rows·OW) scratch that stays in L1, and one gemm reads it in place (`streamB`) for every output
 * channel. Output (oy, ox) reads tap k = (c, kh, kw) at X[c, oy·sh − pt + kh·dh, ox·sw − pl + kw·dw]:
 * along a row every tap is a strided copy, which vectorizes (a panel of single positions, as this was
 * first, had to compute each position's row and column and copy K scalars: a quarter of the layer's
 * time). The last OH mod rows output rows are one narrower panel.
 * Each output element sums the same products in the same order as the im2col lowering.
 */
import { sizeOf } from '../../ir/tensor.js';
import type { Activation, BufRef, Expr, MatView, Stmt } from '../../kernels/ir.js';
import { add, f32, i32, load, loop, mul, store, v, when } from '../../kernels/build.js';
import { gemm, view } from './gemm-helpers.js';
import type { ConvGeometry } from './conv-geometry.js';
import { inRange } from './common.js';
import { offsetBy, type ConvRows } from './conv-rows.js';

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
/**
 * Columns of the micro-tile the panel gemms are cut to: SIMD128's broadcast tile (codegen/wasm/gemm-simd.ts;
 * relaxed SIMD's is 12 wide). These gemms read B in place (`streamB`), not in compile-time panels.
 */
export const TILE_COLUMNS = 8;

/** Output rows per panel: as many whole rows as fit in PANEL_COLUMNS positions, at least one, at most OH. */
function panelRows(OH: number, OW: number): number {
  return Math.min(OH, Math.max(1, Math.floor(PANEL_COLUMNS / OW)));
}

/**
 * The gemms over a panel of `columns` output positions, as [first column, width]: whole TILE_COLUMNS-wide
 * micro-tiles, the last of them overlapping the one before when `columns` is not a multiple of it, so
 * that no column falls to the gemm's narrow and scalar tail tiles (SqueezeNet's first conv, 111 wide: 7
 * tail columns of 111 took 0.8 of its 2.2 ms). The overlapped columns are computed twice, to the same
 * values (each sums the same products in the same order). Fewer columns than a tile: one gemm.
 */
export function panelColumnSpans(columns: number): [number, number][] {
  const whole = columns - (columns % TILE_COLUMNS);
  if (whole === columns || whole === 0) return [[0, columns]];
  return [
    [0, whole],
    [columns - TILE_COLUMNS, TILE_COLUMNS],
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
  return [loop('n', N, conv.rows(n, i32(0), w.out[0], to))];
}

/**
 * The panel lowering as a producer of output rows (conv-rows.ts): `rows` fills any range of output rows
 * from the input as it is.
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
  const plane = H * Wd;
  const K = C * KH * KW;
  const rows = panelRows(OH, OW);
  const col = scratch(K * rows * OW);
  /**
   * gathers output rows [first, first + height) (first an i32 expression) of image n into col, whose row
   * stride is height·OW: per output row, tap k = (c, kh, kw) copies input row oy·sh − pt + kh·dh of channel
   * c from column ox·sw − pl + kw·dw, a loop over the output columns with stride-sw loads, which the wasm
   * code generator vectorizes (f32x4 loads and stores) for sw 1 and 2. Where the conv has padding, a row in
   * it is zeros and so are the few columns whose input column is, the rest read from X itself: no padded
   * copy of the input (dbnet-det's 3×640² took 0.7 ms to copy, a sixth of the stem). `tag` keeps the loops'
   * names apart.
   */
  const gather = (tag: string, n: Expr, first: Expr, height: number): Stmt => {
    const r = `${tag}r`;
    // col's element of tap k (an i32 expression) at output column ox of row r
    const at = (k: Expr, ox: Expr) => add(mul(k, i32(height * OW)), add(mul(v(r), i32(OW)), ox));
    const stride = (x: Expr) => (sw === 1 ? x : mul(x, i32(sw)));
    const image = mul(n, i32(C * plane));
    if (!padded) {
      const ox = `${tag}ox`;
      const row = add(image, mul(add(first, v(r)), i32(sh * Wd)));
      const tapOffset = (k: number): number => {
        const [c, t] = [Math.floor(k / (KH * KW)), k % (KH * KW)];
        return c * plane + Math.floor(t / KW) * dh * Wd + (t % KW) * dw;
      };
      const taps = Array.from({ length: K }, (_, k) =>
        store(col, at(i32(k), v(ox)), load(X, add(add(row, i32(tapOffset(k))), stride(v(ox))))),
      );
      return loop(r, height, [loop(ox, OW, taps)]);
    }
    // per input row (c, kh) of the output row, in loops (the code of K taps unrolled made ResNet-50's 7×7
    // stem 1.4× slower): its KW taps copied, or zeros where the row is in the padding
    const [c, kh] = [v(`${tag}c`), v(`${tag}kh`)];
    const iy = add(mul(add(first, v(r)), i32(sh)), add(mul(kh, i32(dh)), i32(-pt)));
    const row = add(image, add(mul(c, i32(plane)), mul(iy, i32(Wd))));
    const tap = (kw: number) => add(mul(add(mul(c, i32(KH)), kh), i32(KW)), i32(kw));
    // zeros into tap kw's columns [from, from + count): a loop `z`, or unrolled when fewer than a vector
    const zeroColumns = (z: string, kw: number, from: number, count: number): Stmt[] => {
      if (count >= 4) return [loop(z, count, [store(col, at(tap(kw), add(v(z), i32(from))), f32(0))])];
      return Array.from({ length: count }, (_, j) => store(col, at(tap(kw), i32(from + j)), f32(0)));
    };
    const [copy, zeros]: Stmt[][] = [[], []];
    for (let kw = 0; kw < KW; kw++) {
      // output columns [lo, hi) read inside the row
      const lo = Math.min(OW, Math.max(0, Math.ceil((pl - kw * dw) / sw)));
      const hi = Math.max(lo, Math.min(OW, Math.floor((Wd - 1 + pl - kw * dw) / sw) + 1));
      const x = `${tag}x${kw}`;
      copy.push(...zeroColumns(`${tag}l${kw}`, kw, 0, lo), ...zeroColumns(`${tag}h${kw}`, kw, hi, OW - hi));
      if (hi > lo) {
        const from = load(X, add(row, add(stride(v(x)), i32(lo * sw - pl + kw * dw))));
        copy.push(loop(x, hi - lo, [store(col, at(tap(kw), add(v(x), i32(lo))), from)]));
      }
      zeros.push(...zeroColumns(`${tag}z${kw}`, kw, 0, OW));
    }
    return loop(r, height, [loop(`${tag}c`, C, [loop(`${tag}kh`, KH, [when(inRange(iy, H), copy, zeros)])])]);
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
