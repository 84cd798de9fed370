/**
 * 2-D float32 Convs past conv-panels.ts's reduction as im2col written straight into the gemm's packed
 * K × 8 B panels (src/ops/nn/conv-packed.ts), against onnxruntime-node: C 5/9/12/24/96, M 7/11/13/17/20/24/30
 * (not multiples of 8, fewer than a row block), kernel 3/5, widths 17–64 (a narrower last panel, not a
 * multiple of 4, or none), stride 1/2/3, dilation 2, asymmetric pads, N = 2, bias or none, fused Relu/Clip.
 * The SIMD128 module runs here; the relaxed-SIMD one (fused multiply-add) in a child process with Node 20's
 * flag (tests/runtime/relaxed-child.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { packedConvFits } from '../../src/ops/nn/conv-packed.js';
import { panelConvFits } from '../../src/ops/nn/conv-panels.js';
import { shiftedConvFits } from '../../src/ops/nn/conv-shifted.js';
import type { ConvGeometry } from '../../src/ops/nn/conv-geometry.js';
import {
  convModel,
  expectConvMatchesOrt,
  expectRelaxedConvMatchesOrt,
  type ConvCase,
} from '../helpers/conv-case.js';

const cases: Record<string, ConvCase> = {
  'C5 → 13, 5×5 s1 p2 (K = 125), width 37, bias, relu': {
    x: [1, 5, 9, 37],
    m: 13,
    k: 5,
    pads: [2, 2, 2, 2],
    bias: true,
    act: 'relu',
  },
  'C24 → 20, 3×3 s2, asymmetric pads, width 20': {
    x: [1, 24, 17, 41],
    m: 20,
    k: 3,
    stride: 2,
    pads: [1, 0, 2, 1],
    bias: true,
  },
  'C96 → 24, 3×3 s1 p1 (a detector neck), width 19, clip': {
    x: [1, 96, 6, 19],
    m: 24,
    k: 3,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'clip',
  },
  'C24 → 30, 3×3 dilation 2 p2, N=2, width 23': {
    x: [2, 24, 7, 23],
    m: 30,
    k: 3,
    dilation: 2,
    pads: [2, 2, 2, 2],
    bias: true,
  },
  'C9 → 7, 3×3 s2 p0, no bias, fewer rows than a row block': { x: [1, 9, 8, 45], m: 7, k: 3, stride: 2 },
  'C96 → 17, 3×3 s1 p1, width 64 (whole panels only), relu': {
    x: [1, 96, 3, 64],
    m: 17,
    k: 3,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'relu',
  },
  'C12 → 11, 3×3 s3 p1 (a stride the gather does not vectorize)': {
    x: [1, 12, 10, 50],
    m: 11,
    k: 3,
    stride: 3,
    pads: [1, 1, 1, 1],
    bias: true,
  },
};

const modelOf = (c: ConvCase) => convModel(c, c.x[1] * 31 + c.k + c.m, Math.sqrt(2 / (c.x[1] * c.k * c.k)));

/** The geometry of a case, as conv.ts derives it, for the fits checks. */
function geometryOf(c: ConvCase): ConvGeometry {
  const [N, C, H, W] = c.x;
  const [s, d] = [c.stride ?? 1, c.dilation ?? 1];
  const pads = c.pads ?? [0, 0, 0, 0];
  const out = [H, W].map((size, i) => Math.floor((size + pads[i] + pads[i + 2] - d * (c.k - 1) - 1) / s) + 1);
  return {
    N,
    C,
    M: c.m,
    group: 1,
    inSpatial: [H, W],
    window: {
      kernel: [c.k, c.k],
      strides: [s, s],
      dilations: [d, d],
      padBegin: pads.slice(0, 2),
      padEnd: pads.slice(2),
      out,
    },
  };
}

describe('packed-panel Conv matches onnxruntime (SIMD128)', () => {
  for (const [name, c] of Object.entries(cases)) it(name, () => expectConvMatchesOrt(c, modelOf(c)));
});

describe('packed-panel Conv matches onnxruntime (relaxed SIMD, child process)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-conv-packed-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  Object.entries(cases).forEach(([name, c], i) =>
    it(name, () => expectRelaxedConvMatchesOrt(c, modelOf(c), dir, `case${i}`)),
  );
});

describe('packedConvFits', () => {
  it('takes every case above, none of which the earlier conv lowerings take', () => {
    for (const c of Object.values(cases)) {
      const g = geometryOf(c);
      expect([packedConvFits(g), panelConvFits(g), shiftedConvFits(g)]).toEqual([true, false, false]);
    }
  });
  it('leaves 1×1, grouped, 1-D convs, rows narrower than two panels and weights past 256 KiB to im2col', () => {
    const base = geometryOf(cases['C96 → 17, 3×3 s1 p1, width 64 (whole panels only), relu']);
    const w = base.window;
    expect(packedConvFits({ ...base, window: { ...w, kernel: [1, 1] } })).toBe(false);
    expect(packedConvFits({ ...base, group: 2 })).toBe(false);
    expect(packedConvFits({ ...base, window: { ...w, out: [3, 15] } })).toBe(false);
    expect(packedConvFits({ ...base, window: { ...w, kernel: [3], out: [64] } })).toBe(false);
    // 96·9 = 864 floats of weights per output channel: 75 channels fit 256 KiB, 76 do not
    expect(packedConvFits({ ...base, M: 75 })).toBe(true);
    expect(packedConvFits({ ...base, M: 76 })).toBe(false);
  });
  it('needs no im2col matrix: the arena holds the padded input and one K × 8 panel, not K × OH·OW', async () => {
    const c = cases['C96 → 17, 3×3 s1 p1, width 64 (whole panels only), relu'];
    const { memory } = (await compileModel(modelOf(c))).manifest;
    const im2colBytes = 96 * 9 * 3 * 64 * 4;
    expect(memory.arenaBytes).toBeLessThan(im2colBytes);
  });
});
