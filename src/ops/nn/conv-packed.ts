/**
 * 2-D float32 Conv with a long reduction (K = C·kh·kw past conv-panels.ts's) as im2col written straight
 * into the gemm's packed B panels: no K × OH·OW im2col matrix, no second copy into panels.
 *
 * The im2col + gemm lowering (conv.ts) writes B as a plain [K, N] matrix (N = output positions) and the
 * gemm then copies it again, 8 columns at a time, into the K × 8 panels its 4×8 microkernel streams
 * (gemm-simd.ts, `packedPanels`); its panel copy reads K rows N·4 bytes apart. Here each panel of 8
 * output positions of one output row is gathered from the (zero-padded) input straight into that
 * layout — a K × 8 scratch, rows 8 floats apart, that stays in L1 — and one gemm reads it in place
 * (`streamB`) for every output channel. Output (oy, ox) reads tap k = (c, kh, kw) at
 * Xp[c, oy·sh + kh·dh, ox·sw + kw·dw]: along the panel every tap is an 8-long strided copy, which the
 * wasm code generator vectorizes for sw 1 and 2. The last OW mod 8 positions of a row are one narrower
 * panel. Each output element sums the same products in the same order as the im2col lowering.
 */
import { sizeOf } from '../../ir/tensor.js';
import type { Activation, BufRef, Expr, Stmt } from '../../kernels/ir.js';
import { add, i32, load, loop, mul, store, v } from '../../kernels/build.js';
import { gemm, view } from './gemm-helpers.js';
import type { ConvGeometry } from './conv-geometry.js';
import { paddedInput } from './conv-shifted.js';

/** Output positions per panel: the gemm microkernel's tile width (gemm-simd.ts BROADCAST_TILES cols). */
const PANEL = 8;
/**
 * Cost rule, from scripts/perf/packed-conv.ts (CPU time per run, one process, machine loaded; SIMD128 /
 * relaxed, after ÷ before): packed panels replace im2col + gemm where
 * - a row holds at least MIN_ROW_PANELS whole panels: 256→256 over 14×14 (one panel and a 6-wide tail per
 *   row) took 1.6× the time, the tail's narrow tiles doing a sixth of the work at a fraction of the speed;
 * - the weights fit MAX_WEIGHT_BYTES: each panel's gemm reads all of them (4 rows of A, K·4 bytes apart, per
 *   tile), where the im2col gemm's row blocks run over a band's panels with their rows in L1. Within it:
 *   16→40 s2 over 160² 0.88 / 0.94, 40→88 s2 over 80² 0.94 / 0.94, 96→24 over 160² 0.95 / 0.96, 64→64 over
 *   56² 0.98 / 0.96, 40→40 over 80² 0.98 / 1.01; past it 88→88 over 40² (279 KiB) 0.94 / 1.14, 88→184 s2
 *   over 40² (583 KiB) 1.01 / 1.07, 184→184 over 20² (1.2 MiB) 1.01 / 1.08, 128→128 over 28² 0.98 / 1.00.
 */
const MIN_ROW_PANELS = 2;
const MAX_WEIGHT_BYTES = 256 << 10;

export function packedConvFits(g: ConvGeometry): boolean {
  const w = g.window;
  return (
    w.kernel.length === 2 &&
    g.group === 1 &&
    sizeOf(w.kernel) > 1 &&
    Math.floor(w.out[1] / PANEL) >= MIN_ROW_PANELS &&
    g.M * g.C * sizeOf(w.kernel) * 4 <= MAX_WEIGHT_BYTES
  );
}

export function packedConvLowering(
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
  const taps = KH * KW;
  const K = C * taps;
  const outS = OH * OW;
  const [n, oy] = [v('n'), v('oy')];
  const xp = padded ? scratch(C * plane) : X;
  // element index of channel 0's first element of image n in Xp (X itself when unpadded)
  const image = padded ? i32(0) : mul(n, i32(C * plane));
  const col = scratch(K * PANEL);
  const rowAt = add(image, mul(oy, i32(sh * Wp)));
  /**
   * one panel: the `width` output positions of row oy from column `ox0` (an i32 expression) on, gathered
   * into col as K rows of `width` floats, then multiplied by every output channel's weights
   */
  const panel = (tag: string, ox0: Expr, width: number): Stmt[] => {
    const [c, j] = [`${tag}c`, `${tag}j`];
    const first = add(add(rowAt, mul(v(c), i32(plane))), mul(ox0, i32(sw)));
    const column = sw === 1 ? v(j) : mul(v(j), i32(sw));
    // one loop over the panel's positions storing every tap of channel c: the taps' rows are `width`
    // floats apart, a constant the vectorizer sees (an index `… + j + t·width`), so it takes them together
    // (f32x4 loads and stores, for sw 1 and 2) when width ≥ 4
    const gather = loop(c, C, [
      loop(
        j,
        width,
        Array.from({ length: taps }, (_, t) => {
          const tapOffset = Math.floor(t / KW) * dh * Wp + (t % KW) * dw;
          return store(
            col,
            add(add(mul(v(c), i32(taps * width)), v(j)), i32(t * width)),
            load(xp, add(add(first, i32(tapOffset)), column)),
          );
        }),
      ),
    ]);
    const c0 = add(add(mul(n, i32(M * outS)), mul(oy, i32(OW))), ox0);
    const bias = B ? view(B, i32(0), 1, 0) : undefined;
    const s = gemm(M, width, K, view(W, i32(0), K, 1), view(col, i32(0), width, 1), view(Y, c0, outS, 1), {
      bias,
      streamB: true,
    });
    if (act) s.act = act;
    return [gather, s];
  };
  const panels = Math.floor(OW / PANEL);
  const tail = OW % PANEL;
  return [
    loop('n', N, [
      ...(padded ? paddedInput(X, xp, n, C, inSpatial, Wp, plane, [pt, pl], 'borders') : []),
      loop('oy', OH, [
        loop('q', panels, panel('q_', mul(v('q'), i32(PANEL)), PANEL)),
        ...(tail ? panel('t_', i32(panels * PANEL), tail) : []),
      ]),
    ]),
  ];
}
