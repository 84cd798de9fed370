/**
 * Stride-1 2-D float32 Conv as one gemm per kernel tap over shifted views of a padded input, with no
 * im2col matrix.
 *
 * X is copied once into a zero-padded scratch Xp [C, Hp, Wp]. Taking the output over padded-width rows,
 * output column n = oh·Wp + ow reads tap (kh, kw) of channel c at Xp[c, oh + kh·dh, ow + kw·dw], which
 * is Xp's element c·Hp·Wp + (kh·dh·Wp + kw·dw) + n: for one tap, B is Xp itself shifted, a C × N view with
 * row stride Hp·Wp and unit column stride. So Y = Σ_taps W_tap · shift_tap(Xp): each tap's gemm adds
 * into the previous ones' result (the gemm's bias operand is its own output), the first adds the
 * conv's bias and the last applies the fused activation. The Wp − OW columns past each output row
 * are computed and dropped when the band is copied out.
 *
 * This moves C·kprod·OH·OW elements less than im2col + packing (the im2col matrix is kprod times the
 * input); the gemms read B in place (`streamB`), band by band of output rows so the band of Xp they
 * sweep stays in L2.
 */
import type { Activation, BufRef, Expr, Stmt } from '../../kernels/ir.js';
import { add, bin, f32, i32, load, loop, mul, store, v } from '../../kernels/build.js';
import { gemm, view } from './gemm-helpers.js';
import type { ConvGeometry } from './conv-geometry.js';

/** Fewer input channels make each tap's gemm too short to pay for its tile set-up and epilogue. */
const MIN_CHANNELS = 16;
/**
 * More channels and im2col + packed gemm is faster: its extra traffic is spread over many output channels,
 * while the shifted form sweeps its output once per tap and reads B rows from C planes apart. Measured one
 * 3×3 conv at a time (Node 20, fastest of interleaved runs): shifted ÷ im2col time 0.92 (C = M = 16, 160²),
 * 0.79 (C 48 → M 12, 160²), 1.13 (C = M = 40, 80²), 1.3 (C = M = 64, 56²), 1.26 (C = M = 88, 40²),
 * 1.9 (C = M = 184, 20²). At C 96 → M 24, 160² (DBNet-MobileNetV3's FPN convs, issue #18) it was 1.11–1.14×
 * with these bands and 1.3× with 512 KiB–2 MiB ones (medians of an A/B in one process, loaded machine).
 */
const MAX_CHANNELS = 48;
const MAX_OUTPUT_CHANNELS = 16;
/** Narrower outputs waste too many of the computed columns (Wp − OW per row). */
const MIN_OUTPUT_WIDTH = 16;
/** About this many bytes of Xp per band: the rows the band's gemms sweep stay in L2. */
const BAND_BYTES = 192 << 10;

export function shiftedConvFits(g: ConvGeometry): boolean {
  const w = g.window;
  return w.kernel.length === 2 && shiftedConvShapeFits(g.C, g.M, g.group, w.kernel, w.strides, w.out[1]);
}

/**
 * The channels, taps, strides and output width for which a 2-D conv takes the shifted form: also the
 * run-time lowering's choice (compiler/symbolic-shifted-conv.ts), with the largest output width.
 */
export function shiftedConvShapeFits(
  C: number,
  M: number,
  group: number,
  kernel: number[],
  strides: number[],
  outWidth: number,
): boolean {
  return (
    group === 1 &&
    kernel[0] * kernel[1] > 1 &&
    strides.every((s) => s === 1) &&
    C >= MIN_CHANNELS &&
    C <= MAX_CHANNELS &&
    M <= MAX_OUTPUT_CHANNELS &&
    outWidth >= MIN_OUTPUT_WIDTH
  );
}

/** Output rows per band: the most that divide OH with their Xp rows (plus the taps' halo) within BAND_BYTES. */
function bandRows(C: number, Wp: number, halo: number, OH: number): number {
  let rows = 1;
  for (let r = 1; r <= OH; r++) if (OH % r === 0 && C * (r + halo) * Wp * 4 <= BAND_BYTES) rows = r;
  return rows;
}

/**
 * Statements copying image n of X [N, C, H, W] into the zero-padded scratch Xp [C, plane] (rows of Wp
 * elements), X's rows at (pt, pl). `zeros`: a count zeroes that many elements of Xp first; 'borders'
 * zeroes only the padding around each channel's rows (Xp's rows past pt + H up to plane / Wp, and the
 * columns left and right of X's), so a large Xp is written once, not twice.
 */
export function paddedInput(
  X: BufRef,
  xp: BufRef,
  n: Expr,
  C: number,
  [H, Wd]: number[],
  Wp: number,
  plane: number,
  [pt, pl]: number[],
  zeros: number | 'borders',
): Stmt[] {
  const row = add(mul(v('c'), i32(plane)), mul(add(v('h'), i32(pt)), i32(Wp)));
  const copy = loop('x', Wd, [
    store(
      xp,
      add(row, add(v('x'), i32(pl))),
      load(X, add(mul(add(mul(n, i32(C)), v('c')), i32(H * Wd)), add(mul(v('h'), i32(Wd)), v('x')))),
    ),
  ]);
  if (zeros !== 'borders')
    return [loop('z', zeros, [store(xp, v('z'), f32(0))]), loop('c', C, [loop('h', H, [copy])])];
  const pr = Wp - pl - Wd;
  const below = plane - (pt + H) * Wp;
  const zero = (name: string, count: number, at: (i: Expr) => Expr): Stmt[] =>
    count > 0 ? [loop(name, count, [store(xp, at(v(name)), f32(0))])] : [];
  const channel = mul(v('c'), i32(plane));
  return [
    loop('c', C, [
      ...zero('z_top', pt * Wp, (i) => add(channel, i)),
      loop('h', H, [
        ...zero('z_left', pl, (i) => add(row, i)),
        copy,
        ...zero('z_right', pr, (i) => add(row, add(i, i32(pl + Wd)))),
      ]),
      ...zero('z_bottom', below, (i) => add(channel, add(i, i32((pt + H) * Wp)))),
    ]),
  ];
}

export function shiftedConvLowering(
  g: ConvGeometry,
  X: BufRef,
  W: BufRef,
  B: BufRef | undefined,
  Y: BufRef,
  scratch: (length: number) => BufRef,
  act: Activation | undefined,
): Stmt[] {
  const { N, C, M, inSpatial, window: w } = g;
  const [, Wd] = inSpatial;
  const [OH, OW] = w.out;
  const [KH, KW] = w.kernel;
  const [dh, dw] = w.dilations;
  const [pt, pl] = w.padBegin;
  const [, pr] = w.padEnd;
  const Wp = pl + Wd + pr;
  const Hp = OH + (KH - 1) * dh;
  const plane = Hp * Wp;
  // the last row's dropped columns read up to (KW − 1)·dw elements past the last plane
  const slack = (KW - 1) * dw;
  const xp = scratch(C * plane + slack);
  const rows = bandRows(C, Wp, (KH - 1) * dh, OH);
  const bandCols = rows * Wp;
  const yp = scratch(M * bandCols);
  const kprod = KH * KW;

  const n = v('n');
  const pad = paddedInput(X, xp, n, C, inSpatial, Wp, plane, [pt, pl], C * plane + slack);

  const band = v('band');
  const c = view(yp, i32(0), bandCols, 1);
  // tap t = kh·KW + kw; the middle taps are one gemm in a loop (their views' offsets are expressions of
  // t), so the module holds three gemm bodies per conv, not one per tap
  const tapGemm = (t: Expr, first: boolean, last: boolean) => {
    const a = view(W, t, C * kprod, kprod);
    const shift = add(mul(bin('div', t, i32(KW)), i32(dh * Wp)), mul(bin('rem', t, i32(KW)), i32(dw)));
    const b = view(xp, add(mul(band, i32(bandCols)), shift), plane, 1);
    const bias = first ? (B ? view(B, i32(0), 1, 0) : undefined) : c;
    const s = gemm(M, bandCols, C, a, b, c, { bias, streamB: true });
    if (act && last) s.act = act;
    return s;
  };
  const taps: Stmt[] = [
    tapGemm(i32(0), true, false),
    ...(kprod > 2 ? [loop('tap', kprod - 2, [tapGemm(add(v('tap'), i32(1)), false, false)])] : []),
    tapGemm(i32(kprod - 1), false, true),
  ];
  const copyOut = loop('m', M, [
    loop('r', rows, [
      loop('o', OW, [
        store(
          Y,
          add(
            add(
              mul(add(mul(n, i32(M)), v('m')), i32(OH * OW)),
              mul(add(mul(band, i32(rows)), v('r')), i32(OW)),
            ),
            v('o'),
          ),
          load(yp, add(add(mul(v('m'), i32(bandCols)), mul(v('r'), i32(Wp))), v('o'))),
        ),
      ]),
    ]),
  ]);
  return [loop('n', N, [...pad, loop('band', OH / rows, [...taps, copyOut])])];
}
