/**
 * float32 Convs through im2col + gemm (src/ops/nn/conv.ts, im2col.ts) against onnxruntime-node: 3×3 s1/s2,
 * explicit, asymmetric and SAME_UPPER padding, groups > 1 (not depthwise), dilation, 1×1 (direct and
 * strided), odd C/M/H/W (gemm tails), bias or none, a fused Relu or Clip, N = 2. The large cases build
 * their im2col matrix in bands of output rows (`bandRows`), including band heights of one row and bands
 * whose edge rows are padding. The graph is Conv → activation, so the activation is fused as Kiln compiles it.
 */
import { describe, expect, it } from 'vitest';
import { bandRows } from '../../src/ops/nn/conv.js';
import { convModel, expectConvMatchesOrt, type ConvCase } from '../helpers/conv-case.js';

const cases: Record<string, ConvCase> = {
  '3×3 s1 p1, bias, relu': { x: [1, 8, 12, 20], m: 16, k: 3, pads: [1, 1, 1, 1], bias: true, act: 'relu' },
  '3×3 s2 p1, clip, odd sizes': {
    x: [1, 5, 13, 17],
    m: 11,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    act: 'clip',
  },
  '3×3 s2 SAME_UPPER (asymmetric), N=2': {
    x: [2, 6, 10, 14],
    m: 9,
    k: 3,
    stride: 2,
    autoPad: 'SAME_UPPER',
    bias: true,
  },
  '3×3 asymmetric pads, no bias': { x: [1, 7, 9, 11], m: 13, k: 3, pads: [0, 2, 1, 0] },
  '3×3 groups 2 (not depthwise)': {
    x: [1, 8, 10, 10],
    m: 12,
    k: 3,
    group: 2,
    pads: [1, 1, 1, 1],
    bias: true,
  },
  '3×3 dilation 2': {
    x: [1, 4, 15, 17],
    m: 8,
    k: 3,
    dilation: 2,
    pads: [2, 2, 2, 2],
    bias: true,
    act: 'relu',
  },
  '1×1 s1 (X directly), odd M': { x: [1, 12, 7, 7], m: 19, k: 1, bias: true, act: 'relu' },
  // 1×1 on a 1×1 map (a squeeze-excite FC): a matrix-vector gemm, vectorized over the input channels
  '1×1 on a 1×1 map, bias, relu': { x: [1, 144, 1, 1], m: 33, k: 1, bias: true, act: 'relu' },
  '1×1 on a 1×1 map, odd C and M, clip': { x: [1, 17, 1, 1], m: 5, k: 1, act: 'clip' },
  '1×1 on a 1×1 map, N=2, C under one vector': { x: [2, 3, 1, 1], m: 7, k: 1, bias: true },
  '1×1 s2 (few channels: panel-gathered, see tests/ops/conv-strided.test.ts)': {
    x: [2, 8, 9, 11],
    m: 16,
    k: 1,
    stride: 2,
    bias: true,
  },
  '5×5 p2, odd C/M/H/W': { x: [1, 3, 11, 13], m: 5, k: 5, pads: [2, 2, 2, 2], bias: true },
  // banded im2col: matrices over 2 MiB with small weights
  // (stride-1 convs of 16 or more channels take the shifted-view path, tests/ops/conv-shifted.test.ts)
  'banded 3×3 s1 p1 (6-row bands), relu': {
    x: [1, 12, 96, 96],
    m: 16,
    k: 3,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'relu',
  },
  'banded 3×3 s2 p1, N=2, odd M': {
    x: [2, 16, 128, 96],
    m: 13,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
  },
  'banded 3×3 SAME_UPPER, groups 2, clip': {
    x: [1, 32, 63, 72],
    m: 16,
    k: 3,
    group: 2,
    autoPad: 'SAME_UPPER',
    act: 'clip',
  },
  'banded 3×3 one-row bands (prime height), no bias': { x: [1, 12, 61, 160], m: 8, k: 3, pads: [1, 1, 1, 1] },
  'banded 3×3 rows of 15 (40-row bands), relu': {
    x: [1, 12, 600, 15],
    m: 16,
    k: 3,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'relu',
  },
  'banded 3×3 s2 rows of 15, N=2, odd M': {
    x: [2, 16, 1000, 29],
    m: 13,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
  },
};

describe('im2col + gemm Conv matches onnxruntime', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      const Cg = c.x[1] / (c.group ?? 1);
      const bytes = convModel(c, c.x[1] * 31 + c.k + c.m, Math.sqrt(2 / (Cg * c.k * c.k)));
      await expectConvMatchesOrt(c, bytes);
    });
  }
});

describe('bandRows', () => {
  it('bands large im2col matrices with small weights, in rows dividing the output height', () => {
    expect(bandRows(108, 16, [96, 96])).toBe(6);
    expect(bandRows(108, 8, [61, 160])).toBe(1);
    expect(bandRows(144, 16, [64, 64])).toBe(4);
    expect(bandRows(144, 16, [61, 160])).toBe(1);
    expect(bandRows(144, 13, [80, 48])).toBe(8);
    expect(bandRows(108, 16, [600, 15])).toBe(40);
    expect(bandRows(144, 8, [63, 72])).toBe(3);
    expect(bandRows(576, 64, [56, 56])).toBe(2);
    // small matrix, or weights too large to re-read per band
    expect(bandRows(144, 16, [16, 16])).toBeUndefined();
    expect(bandRows(4608, 512, [56, 56])).toBeUndefined();
    // 1-D convs are not banded
    expect(bandRows(144, 16, [100000])).toBeUndefined();
  });
});
