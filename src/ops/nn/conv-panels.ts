/**
 * 2-D float32 Conv with a short reduction (K = C·kh·kw ≤ MAX_K, such as a network's first 3×3 conv over
 * RGB: K = 27) as im2col fused into the gemm's B panels: no im2col matrix.
 *
 * The im2col + gemm lowering (conv.ts) writes the whole K × OH·OW matrix, and the gemm then copies it
 * again into 8-column panels; with K this small both passes cost about as much as the multiply-adds.
 * Here each panel of PANEL output positions is gathered straight from the (zero-padded) input into a
 * K × PANEL scratch that stays in L1, and one gemm reads it in place (`streamB`) for every output
 * channel. Output position o = oy·OW + ox reads tap k = (c, kh, kw) at Xp[c, oy·sh + kh·dh, ox·sw + kw·dw],
 * i.e. at base(o) + tapOffset(k) with tapOffset a compile-time constant, so a panel is PANEL index
 * computations and K·PANEL copies. The last OH·OW mod PANEL positions are one narrower panel.
 * Each output element sums the same products in the same order as the im2col lowering.
 */
import { sizeOf } from '../../ir/tensor.js';
import type { Activation, BufRef, Expr, Stmt } from '../../kernels/ir.js';
import { add, div, i32, load, local, loop, mul, store, sub, v } from '../../kernels/build.js';
import { gemm, view } from './gemm-helpers.js';
import type { ConvGeometry } from './conv-geometry.js';
import { paddedInput } from './conv-shifted.js';

/** Longest reduction taken: past it the im2col matrix's passes are small beside the multiply-adds. */
const MAX_K = 64;
/** Output positions per panel: the gemm's SIMD tile width (gemm-simd.ts). */
const PANEL = 8;

export function panelConvFits(g: ConvGeometry): boolean {
  const w = g.window;
  return w.kernel.length === 2 && g.group === 1 && sizeOf(w.kernel) > 1 && g.C * sizeOf(w.kernel) <= MAX_K;
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
  const { N, C, M, inSpatial, window: w } = g;
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
  const outS = OH * OW;
  const n = v('n');
  const xp = padded ? scratch(C * plane) : X;
  // element index of channel 0's first element of image n in Xp (X itself when unpadded)
  const image = padded ? i32(0) : mul(n, i32(C * plane));
  const col = scratch(K * PANEL);
  const tapOffset = (k: number): number => {
    const [c, t] = [Math.floor(k / (KH * KW)), k % (KH * KW)];
    return c * plane + Math.floor(t / KW) * dh * Wp + (t % KW) * dw;
  };
  /**
   * gathers the `width` positions from `first` (an i32 expression) into col's first `width` columns;
   * `tag` keeps the loop's names apart from the other gather's
   */
  const gather = (tag: string, first: Expr, width: number): Stmt => {
    const [j, pos, oy, base] = ['j', 'pos', 'oy', 'base'].map((name) => `${tag}${name}`);
    return loop(j, width, [
      local(pos, 'i32', add(first, v(j))),
      local(oy, 'i32', div(v(pos), i32(OW))),
      local(
        base,
        'i32',
        add(image, add(mul(v(oy), i32(sh * Wp)), mul(sub(v(pos), mul(v(oy), i32(OW))), i32(sw)))),
      ),
      ...Array.from({ length: K }, (_, k) =>
        store(col, add(i32(k * PANEL), v(j)), load(xp, add(v(base), i32(tapOffset(k))))),
      ),
    ]);
  };
  const product = (first: Expr, width: number): Stmt => {
    const c = view(Y, add(mul(n, i32(M * outS)), first), outS, 1);
    const bias = B ? view(B, i32(0), 1, 0) : undefined;
    const s = gemm(M, width, K, view(W, i32(0), K, 1), view(col, i32(0), PANEL, 1), c, {
      bias,
      streamB: true,
    });
    if (act) s.act = act;
    return s;
  };
  const panels = Math.floor(outS / PANEL);
  const tail = outS % PANEL;
  const first = mul(v('p'), i32(PANEL));
  return [
    loop('n', N, [
      ...(padded ? paddedInput(X, xp, n, C, inSpatial, Wp, plane, [pt, pl], 'borders') : []),
      loop('p', panels, [gather('p_', first, PANEL), product(first, PANEL)]),
      ...(tail ? [gather('t_', i32(panels * PANEL), tail), product(i32(panels * PANEL), tail)] : []),
    ]),
  ];
}
