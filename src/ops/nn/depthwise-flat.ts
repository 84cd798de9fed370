/**
 * Stride-1 depthwise convs over small maps (depthwise.ts), as one f32x4 loop per channel over its padded
 * plane's rows laid end to end.
 *
 * Rows narrower than a column copy pays for (COPY_WIDTH) leave the border runs almost every output,
 * each one scalar, and each run reloads the channel's weights (tf-mobilenet's 480×5×5 3×3 convs: 0.9 ns
 * per multiply-add). Here each channel's plane is copied into a zero-padded Hp × Wp scratch, and output
 * (oh, ow) is computed at j = oh·Wp + ow of a "wide" plane whose tap (kh, kw) is Xp[j + kh·dh·Wp + kw·dw]:
 * every tap is one unit-stride load over all j in [0, (OH − 1)·Wp + OW), the Wp − OW positions between
 * rows computed and dropped as the rows are copied into Y. Each output sums its row's taps in the order
 * of the border runs, padding zeros included (x + 0 is x; only the sign of a zero sum may differ).
 */
import type { Activation, BufRef, Expr, Stmt } from '../../kernels/ir.js';
import { add, cast, i32, load, local, loop, mul, store, v } from '../../kernels/build.js';
import type { ConvGeometry } from './conv-geometry.js';
import { activate } from '../../kernels/rewrite/epilogue.js';
import { paddedInput } from './conv-shifted.js';
import { COPY_WIDTH } from './depthwise-columns.js';
import { runsOf } from './window-runs.js';

/**
 * The wide plane's f32x4 multiply-adds may be at most this share of the scalar ones of the border runs
 * (each output's taps inside the map): the padding zeros and the dropped positions between rows cost
 * vector lanes, and the copies in and out cost a pass over the plane each.
 */
const MAX_VECTOR_SHARE = 0.6;

/** The padded plane's size and the wide plane's length, where this lowering pays; else undefined. */
export function flatPlane(g: ConvGeometry): { Hp: number; Wp: number; length: number } | undefined {
  const w = g.window;
  if (w.strides.some((s) => s !== 1) || w.out[1] >= COPY_WIDTH.min) return undefined;
  const [H, Wd] = g.inSpatial;
  const [OH, OW] = w.out;
  const [KH, KW] = w.kernel;
  const Hp = w.padBegin[0] + H + w.padEnd[0];
  const Wp = w.padBegin[1] + Wd + w.padEnd[1];
  const length = (OH - 1) * Wp + OW;
  const inside = (d: number, size: number) =>
    runsOf(w, d, size).reduce((n, r) => n + (r.end - r.start) * (r.taps[1] - r.taps[0]), 0);
  const scalar = inside(0, H) * inside(1, Wd);
  return Math.ceil(length / 4) * KH * KW <= MAX_VECTOR_SHARE * scalar ? { Hp, Wp, length } : undefined;
}

/**
 * Y[n, m] = act(B[m] + Σ X[n, m / Mg] ⋆ W[m]) by the wide plane of `plane` (flatPlane), `act` a Relu or Clip
 * (depthwiseLoops applies a map after); int8 W restored per output channel by `int8Scales` as depthwise.ts.
 */
export function flatPlaneLoops(
  g: ConvGeometry,
  plane: { Hp: number; Wp: number; length: number },
  X: BufRef,
  W: BufRef,
  B: BufRef | undefined,
  Y: BufRef,
  act: Activation | undefined,
  int8Scales: BufRef | undefined,
  scratch: (length: number) => BufRef,
): Stmt[] {
  const { N, C, M } = g;
  const Mg = M / C;
  const [H, Wd] = g.inSpatial;
  const [OH, OW] = g.window.out;
  const [KH, KW] = g.window.kernel;
  const [dh, dw] = g.window.dilations;
  const { Hp, Wp, length } = plane;
  const Xp = scratch(Hp * Wp);
  const wide = scratch(length);
  const m = add(mul(v('ch'), i32(Mg)), v('mg'));
  const weight = (kh: number, kw: number) => `w_${kh}_${kw}`;
  const weights: Stmt[] = [];
  for (let kh = 0; kh < KH; kh++)
    for (let kw = 0; kw < KW; kw++) {
      const at = add(mul(m, i32(KH * KW)), i32(kh * KW + kw));
      const value = int8Scales ? mul(cast('f32', load(W, at)), load(int8Scales, m)) : load(W, at);
      weights.push(local(weight(kh, kw), 'f32', value));
    }
  if (B) weights.push(local('bias', 'f32', load(B, m)));
  let acc: Expr | undefined = B ? v('bias', 'f32') : undefined;
  for (let kh = 0; kh < KH; kh++) {
    let row: Expr | undefined;
    for (let kw = 0; kw < KW; kw++) {
      const term = mul(load(Xp, add(v('j'), i32(kh * dh * Wp + kw * dw))), v(weight(kh, kw), 'f32'));
      row = row ? add(row, term) : term;
    }
    acc = acc ? add(acc, row!) : row;
  }
  const yPlane = add(mul(add(mul(v('n'), i32(M)), m), i32(OH * OW)), mul(v('oh'), i32(OW)));
  const copyOut = loop('oh', OH, [
    loop('ow', OW, [store(Y, add(yPlane, v('ow')), load(wide, add(mul(v('oh'), i32(Wp)), v('ow'))))]),
  ]);
  const image = add(mul(v('n'), i32(C)), v('ch'));
  return [
    loop('n', N, [
      loop('ch', C, [
        // paddedInput's image of one channel: X's plane (n, ch) into Xp at (pt, pl), its borders zeroed
        ...paddedInput(
          X,
          Xp,
          image,
          1,
          [H, Wd],
          Wp,
          Hp * Wp,
          [g.window.padBegin[0], g.window.padBegin[1]],
          'borders',
        ),
        loop('mg', Mg, [...weights, loop('j', length, [store(wide, v('j'), activate(act, acc!))]), copyOut]),
      ]),
    ]),
  ];
}
