/**
 * Depthwise 2-D convs (src/ops/nn/depthwise.ts) against onnxruntime-node: 3×3 and 5×5, stride 1 and 2,
 * explicit and SAME_UPPER (asymmetric) padding, with and without bias, a fused Relu or Clip, odd channel
 * counts and widths (the vector loops' scalar tails), N = 2, a depth multiplier, inputs narrower than the
 * kernel. The graph is Conv → activation, so the activation is fused into the conv as Kiln compiles it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  convModel,
  expectConvMatchesOrt,
  expectRelaxedConvMatchesOrt,
  type ConvCase,
} from '../helpers/conv-case.js';
import { depthwiseLoops } from '../../src/ops/nn/depthwise.js';
import { forEachExpr, forEachStmt } from '../../src/kernels/walk.js';
import type { BufRef, Stmt } from '../../src/kernels/ir.js';

interface DepthwiseCase extends Omit<ConvCase, 'm' | 'group'> {
  /** output channels per input channel */
  multiplier?: number;
}

/** As a Conv case: group = C, M = C · multiplier. */
function convCase(c: DepthwiseCase): ConvCase {
  const { multiplier, ...rest } = c;
  return { ...rest, m: c.x[1] * (multiplier ?? 1), group: c.x[1] };
}

const cases: Record<string, DepthwiseCase> = {
  '5×5 s1 p2, bias, relu (MobileNet)': {
    x: [1, 8, 24, 96],
    k: 5,
    pads: [2, 2, 2, 2],
    bias: true,
    act: 'relu',
  },
  '5×5 s2 p2, bias, clip': {
    x: [1, 8, 24, 96],
    k: 5,
    stride: 2,
    pads: [2, 2, 2, 2],
    bias: true,
    act: 'clip',
  },
  '5×5 s2 SAME_UPPER, odd width': { x: [1, 5, 13, 37], k: 5, stride: 2, autoPad: 'SAME_UPPER', bias: true },
  '3×3 s1 p1, N=2, odd channels and width, no bias': { x: [2, 7, 9, 19], k: 3, pads: [1, 1, 1, 1] },
  '3×3 s2 p1, relu, odd width': { x: [1, 16, 24, 33], k: 3, stride: 2, pads: [1, 1, 1, 1], act: 'relu' },
  '3×3 s2 SAME_UPPER, N=2, clip': { x: [2, 3, 10, 22], k: 3, stride: 2, autoPad: 'SAME_UPPER', act: 'clip' },
  '3×3 s1 SAME_UPPER on even sizes': { x: [1, 4, 8, 16], k: 3, autoPad: 'SAME_UPPER', bias: true },
  '5×5 s1 asymmetric pads': { x: [1, 3, 11, 23], k: 5, pads: [0, 3, 4, 1], bias: true, act: 'relu' },
  '5×5 s1 unpadded (no borders)': { x: [1, 2, 9, 30], k: 5, bias: true },
  '3×3 s1 p1, input narrower than a vector': { x: [1, 3, 5, 3], k: 3, pads: [1, 1, 1, 1], bias: true },
  '5×5 s1 p2 on a 2×2 input (only border taps)': { x: [1, 2, 2, 2], k: 5, pads: [2, 2, 2, 2], bias: true },
  '5×5 s1 p2 on a 2×6 map, 5 channels (MobileNet last stage)': {
    x: [1, 5, 2, 6],
    k: 5,
    pads: [2, 2, 2, 2],
    bias: true,
    act: 'relu',
  },
  '5×5 s2 p2 on a 3×5 map (one vector-less row of 3)': {
    x: [1, 7, 3, 5],
    k: 5,
    stride: 2,
    pads: [2, 2, 2, 2],
  },
  '3×3 depth multiplier 2, s2': {
    x: [1, 3, 9, 17],
    k: 3,
    multiplier: 2,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
  },
  '3×3 dilation 2, stride 2': {
    x: [1, 4, 15, 21],
    k: 3,
    dilation: 2,
    stride: 2,
    pads: [2, 2, 2, 2],
    bias: true,
  },
  '31×31 p15 (too many border taps to unroll: direct loops)': {
    x: [1, 2, 40, 40],
    k: 31,
    pads: [15, 15, 15, 15],
    bias: true,
    act: 'relu',
  },
  '5×5 s3 (stride-3 loads)': { x: [1, 3, 17, 29], k: 5, stride: 3, pads: [2, 2, 2, 2], act: 'relu' },
  // column copies (depthwise-columns.ts): stride 1 with zero-padded columns, output widths 8..48
  '5×5 s1 p2 on a 3×12 map, odd channels (padded columns)': {
    x: [1, 7, 3, 12],
    k: 5,
    pads: [2, 2, 2, 2],
    bias: true,
    act: 'relu',
  },
  '3×3 s1 p1, width 8, N=2 (padded columns)': { x: [2, 3, 5, 8], k: 3, pads: [1, 1, 1, 1], bias: true },
  '3×3 s1 p1, width 9 (padded columns, scalar tail)': {
    x: [1, 5, 4, 9],
    k: 3,
    pads: [1, 1, 1, 1],
    act: 'clip',
  },
  '3×3 s1 p1, width 48 (padded columns)': { x: [1, 3, 3, 48], k: 3, pads: [1, 1, 1, 1], bias: true },
  '3×3 s1 left pad only, dilation 2 (padded columns)': {
    x: [1, 3, 7, 13],
    k: 3,
    dilation: 2,
    pads: [2, 4, 2, 0],
    bias: true,
  },
  // stride 2: zero-padded columns split into even and odd halves
  '3×3 s2 p1 on a 12×48 map (deinterleaved columns)': {
    x: [1, 5, 12, 48],
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'relu',
  },
  '5×5 s2 p2, odd width 23 (deinterleaved columns)': {
    x: [1, 3, 7, 23],
    k: 5,
    stride: 2,
    pads: [2, 2, 2, 2],
  },
  '3×3 s2 unpadded, width 40 (no copy: as many scalar taps either way)': {
    x: [2, 3, 9, 40],
    k: 3,
    stride: 2,
    bias: true,
    act: 'clip',
  },
  '3×3 s2 left pad only (deinterleaved columns)': { x: [1, 3, 8, 17], k: 3, stride: 2, pads: [1, 1, 1, 0] },
  '5×5 s1 p2, depth multiplier 3 (padded columns)': {
    x: [1, 3, 6, 10],
    k: 5,
    multiplier: 3,
    pads: [2, 2, 2, 2],
    bias: true,
  },
  // stride 1 on small maps: each channel one loop over its padded rows end to end (depthwise-flat.ts)
  '3×3 s1 p1 on a 5×5 map, 37 channels (wide plane, tf-mobilenet)': {
    x: [1, 37, 5, 5],
    k: 3,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'relu',
  },
  '3×3 s1 p1 on a 7×7 map, N=2, depth multiplier 2, clip (wide plane)': {
    x: [2, 13, 7, 7],
    k: 3,
    multiplier: 2,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'clip',
  },
  '5×5 s1 p2 on a 7×7 map, no bias (wide plane)': { x: [1, 5, 7, 7], k: 5, pads: [2, 2, 2, 2] },
  '3×3 s1 top pad 2, no bottom pad, on a 6×6 map (wide plane)': { x: [1, 4, 6, 6], k: 3, pads: [2, 1, 0, 1] },
  '3×3 s1 asymmetric pads, dilation 2, on a 9×7 map (wide plane)': {
    x: [1, 3, 9, 7],
    k: 3,
    dilation: 2,
    pads: [2, 1, 2, 3],
    bias: true,
    act: 'relu',
  },
};

describe('depthwise Conv matches onnxruntime', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      await expectConvMatchesOrt(c, convModel(convCase(c), c.x[1] * 31 + c.k));
    });
  }
});

/**
 * Cases with vector loops (wide enough rows), in the relaxed module too; the 2×6 and 3×5 maps have none, so
 * their bundles carry no relaxed module.
 */
const RELAXED_CASES = [
  '5×5 s1 p2, bias, relu (MobileNet)',
  '5×5 s2 p2, bias, clip',
  '3×3 s2 p1, relu, odd width',
  '5×5 s1 asymmetric pads',
  '5×5 s1 p2 on a 3×12 map, odd channels (padded columns)',
  '3×3 s1 p1, width 9 (padded columns, scalar tail)',
  '3×3 s2 p1 on a 12×48 map (deinterleaved columns)',
  '5×5 s2 p2, odd width 23 (deinterleaved columns)',
  '5×5 s3 (stride-3 loads)',
  '3×3 s1 p1 on a 5×5 map, 37 channels (wide plane, tf-mobilenet)',
  '3×3 s1 p1 on a 7×7 map, N=2, depth multiplier 2, clip (wide plane)',
  '5×5 s1 p2 on a 7×7 map, no bias (wide plane)',
  '3×3 s1 asymmetric pads, dilation 2, on a 9×7 map (wide plane)',
];

describe('depthwise Conv matches onnxruntime (relaxed SIMD, child process)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-depthwise-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  RELAXED_CASES.forEach((name, i) =>
    it(name, () => {
      const c = cases[name];
      return expectRelaxedConvMatchesOrt(c, convModel(convCase(c), c.x[1] * 31 + c.k), dir, `case${i}`);
    }),
  );
});

describe('depthwise Conv weights', () => {
  it('loads only the taps each row run reads: 5×5 p2 over a 2×6 map reads kernel rows 2–3, then 1–2', () => {
    const buf = (id: number, length: number): BufRef => ({ id, dtype: 'float32', length });
    const [C, X, W, B, Y] = [4, buf(0, 4 * 12), buf(1, 4 * 25), buf(2, 4), buf(3, 4 * 12)];
    const window = {
      kernel: [5, 5],
      strides: [1, 1],
      dilations: [1, 1],
      padBegin: [2, 2],
      padEnd: [2, 2],
      out: [2, 6],
    };
    const body = depthwiseLoops(
      { N: 1, C, M: C, group: C, inSpatial: [2, 6], window },
      X,
      W,
      B,
      Y,
      undefined,
    );
    let weightLoads = 0;
    for (const s of body) forEachExpr(s, (e) => void (e.k === 'load' && e.buf === W && weightLoads++));
    // per channel: two row runs of 2 kernel rows × 5 columns (all 25 taps per run before)
    expect(weightLoads).toBe(2 * 2 * 5);
  });

  const buf = (id: number, length: number): BufRef => ({ id, dtype: 'float32', length });
  /** depthwiseLoops over a [1, 4, H, W] input with and without a scratch: stores to Y, scratch lengths */
  const shapes = (inSpatial: number[], k: number, stride: number, pad: number) => {
    const C = 4;
    const out = inSpatial.map((d) => Math.floor((d + 2 * pad - k) / stride) + 1);
    const [X, W, B, Y] = [
      buf(0, C * inSpatial[0] * inSpatial[1]),
      buf(1, C * k * k),
      buf(2, C),
      buf(3, C * out[0] * out[1]),
    ];
    const window = {
      kernel: [k, k],
      strides: [stride, stride],
      dilations: [1, 1],
      padBegin: [pad, pad],
      padEnd: [pad, pad],
      out,
    };
    const g = { N: 1, C, M: C, group: C, inSpatial, window };
    const storesToY = (body: Stmt[]) => {
      let stores = 0;
      for (const s of body) forEachStmt(s, (t) => void (t.k === 'store' && t.buf === Y && stores++));
      return stores;
    };
    const scratches: number[] = [];
    const scratch = (length: number): BufRef => (scratches.push(length), buf(10 + scratches.length, length));
    return {
      copied: storesToY(depthwiseLoops(g, X, W, B, Y, undefined, undefined, scratch)),
      borderRuns: storesToY(depthwiseLoops(g, X, W, B, Y, undefined)),
      scratches,
    };
  };

  it('a narrow map reads a copy with zero-padded columns: one vector loop per row run', () => {
    // 5×5 p2 over 3×12: three row runs (kernel rows 2–4, 1–3, 0–2), each one loop over all 12 columns
    // (the border runs unroll 4 border columns beside the interior loop)
    expect(shapes([3, 12], 5, 1, 2)).toEqual({ copied: 3, borderRuns: 3 * 5, scratches: [4 * 3 * 16] });
  });

  it('no copy where it would leave as many scalar taps as the border runs', () => {
    // 3×3 p1 over 10×10: 2 border taps per side before; after, a 2-column tail of 3 taps each
    expect(shapes([10, 10], 3, 1, 1).scratches).toEqual([]);
    // 3×3 s2 unpadded over 20 columns → 9: the same 1-column tail either way
    expect(shapes([9, 20], 3, 2, 0).scratches).toEqual([]);
  });

  it('a small map at stride 1 is one vector loop per channel over its padded rows end to end', () => {
    // 3×3 p1 over 5×5: a 7×7 padded plane, outputs at j = oh·7 + ow for j < 4·7 + 5; one store into Y
    // per (oh, ow) copied out, against 3 row runs of 5 border stores (a 3-column interior is unrolled too)
    expect(shapes([5, 5], 3, 1, 1)).toEqual({ copied: 1, borderRuns: 3 * 5, scratches: [49, 33] });
    // 5×5 p2 over 2×6 (MobileNetV3's last stage): mostly padding rows, the border runs stay
    expect(shapes([2, 6], 5, 1, 2).scratches).toEqual([]);
  });

  it('at stride 2 the copy splits each padded row into even and odd columns: one loop per row run', () => {
    // 3×3 s2 p1 over 12×48 → 6×24: two row runs; padded rows of 50 are 25 even + 25 odd columns
    expect(shapes([12, 48], 3, 2, 1)).toEqual({ copied: 2, borderRuns: 2 * 2, scratches: [4 * 12 * 50] });
  });
});
