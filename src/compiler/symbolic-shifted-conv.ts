/**
 * A stride-1 2-D Conv over a run-time height and width as the static one of its channels runs
 * (ops/nn/conv-shifted.ts): one gemm per kernel tap over shifted views of a zero-padded copy of the
 * input, no im2col matrix. Image n of X is copied into Xp [C, Hp·Wp] (rows of Wp = OW + (KW−1)·dw,
 * X's rows at (pt, pl)); output position j = oh·Wp + ow reads tap (kh, kw) of channel c at
 * Xp[c, j + kh·dh·Wp + kw·dw], so per tap B is Xp shifted, a C × TILE view at the run-time plane stride.
 * Over tiles of TILE positions the first tap's gemm writes bias + W₀·B into the scratch Yp [M, ⌈OH·Wp⌉],
 * the others add to it (their bias operand is Yp itself), the last applies the fused activation; then
 * the OW columns of each row are copied into Y. Positions past OH·Wp (the last tile's surplus) read Xp's
 * slack and land in Yp's, and are dropped with the Wp − OW columns past each row.
 */
import * as sym from '../ir/symbolic.js';
import type { Activation, Expr, Kernel, Stmt } from '../kernels/ir.js';
import { add, bin, f32, i32, load, loop, mul, store, v } from '../kernels/build.js';
import { extentOf, kernelExprOf } from '../kernels/extent.js';
import type { LowerIO } from '../ops/registry.js';
import { gemm, view } from '../ops/nn/gemm-helpers.js';

type Ranges = Readonly<Record<string, sym.Range>>;

/** Output positions per tap gemm: static, so the gemm is the static one. */
const TILE = 128;

const ix = (d: sym.SymLike): Expr => kernelExprOf(d);

/** What the lowering needs of the conv: the plane's sizes as expressions, its tap geometry static. */
export interface ShiftedConv {
  name: string;
  batch: sym.SymLike;
  C: number;
  M: number;
  H: sym.SymLike;
  W: sym.SymLike;
  OH: sym.SymLike;
  OW: sym.SymLike;
  kernel: [number, number];
  dilations: [number, number];
  padBegin: [number, number];
  act?: Activation;
}

export function shiftedConvKernel(conv: ShiftedConv, io: LowerIO, ranges: Ranges): Kernel {
  const { C, M, H, W, OH, OW, kernel, dilations, padBegin, act } = conv;
  const [X, Wt, B] = io.inputs;
  const Y = io.outputs[0];
  const [KH, KW] = kernel;
  const [dh, dw] = dilations;
  const [pt, pl] = padBegin;
  const taps = KH * KW;
  const Wp = sym.add(OW, (KW - 1) * dw);
  const plane = sym.mul(sym.add(OH, (KH - 1) * dh), Wp);
  const positions = sym.mul(OH, Wp);
  const tiles = sym.floorDiv(sym.add(positions, TILE - 1), TILE);
  const ypStride = sym.mul(tiles, TILE);
  const most = (d: sym.SymLike) => sym.bounds(d, ranges).max;
  // the last tile reads up to TILE − 1 + (KW − 1)·dw elements past the last plane
  const xp = io.scratch('float32', C * most(plane) + TILE + (KW - 1) * dw);
  const yp = io.scratch('float32', M * most(ypStride));
  const n = v('n');

  const [c, h] = [v('c'), v('h')];
  const xpRow = (row: Expr) => add(mul(c, ix(plane)), mul(row, ix(Wp)));
  const zeros = (name: string, count: sym.SymLike, at: Expr): Stmt[] =>
    sym.constValue(count) === 0 ? [] : [loop(name, extentOf(count), [store(xp, add(at, v(name)), f32(0))])];
  const padded = loop('c', C, [
    ...zeros('z_top', sym.mul(pt, Wp), mul(c, ix(plane))),
    loop('h', extentOf(H), [
      ...zeros('z_left', pl, xpRow(add(h, i32(pt)))),
      loop('x', extentOf(W), [
        store(
          xp,
          add(xpRow(add(h, i32(pt))), add(v('x'), i32(pl))),
          load(X!, add(mul(add(mul(n, i32(C)), c), ix(sym.mul(H, W))), add(mul(h, ix(W)), v('x')))),
        ),
      ]),
      ...zeros('z_right', sym.sub(sym.sub(Wp, pl), W), add(xpRow(add(h, i32(pt))), add(ix(W), i32(pl)))),
    ]),
    ...zeros(
      'z_bottom',
      sym.mul(sym.sub(sym.sub(sym.add(OH, (KH - 1) * dh), pt), H), Wp),
      xpRow(add(ix(H), i32(pt))),
    ),
  ]);

  const at = mul(v('t'), i32(TILE));
  const out = view(yp, at, extentOf(ypStride), 1);
  // tap k = kh·KW + kw; the middle taps are one gemm in a loop, as in the static lowering
  const tapGemm = (k: Expr, first: boolean, last: boolean) => {
    const shift = add(mul(bin('div', k, i32(KW)), ix(sym.mul(dh, Wp))), mul(bin('rem', k, i32(KW)), i32(dw)));
    const b = view(xp, add(at, shift), extentOf(plane), 1);
    const bias = first ? (B ? view(B, i32(0), 1, 0) : undefined) : out;
    const s = gemm(M, TILE, C, view(Wt!, k, C * taps, taps), b, out, { bias, streamB: true });
    if (act && last) s.act = act;
    return s;
  };
  const tapGemms = loop('t', extentOf(tiles), [
    tapGemm(i32(0), true, false),
    ...(taps > 2 ? [loop('tap', taps - 2, [tapGemm(add(v('tap'), i32(1)), false, false)])] : []),
    tapGemm(i32(taps - 1), false, true),
  ]);
  const [m, oh, ow] = [v('m'), v('oh'), v('ow')];
  const copyOut = loop('m', M, [
    loop('oh', extentOf(OH), [
      loop('ow', extentOf(OW), [
        store(
          Y,
          add(mul(add(mul(add(mul(n, i32(M)), m), ix(OH)), oh), ix(OW)), ow),
          load(yp, add(add(mul(m, ix(ypStride)), mul(oh, ix(Wp))), ow)),
        ),
      ]),
    ]),
  ]);
  return { name: conv.name, body: [loop('n', extentOf(conv.batch), [padded, tapGemms, copyOut])] };
}
