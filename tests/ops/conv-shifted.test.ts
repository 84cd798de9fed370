/**
 * Stride-1 float32 Convs of ≥ 16 channels as per-tap gemms over shifted views of a padded input
 * (src/ops/nn/conv-shifted.ts), against onnxruntime-node: padding on every side or none, asymmetric
 * pads, dilation, 5×5, odd M/H/W (gemm tails, dropped columns), bias or none, fused Relu/Clip, N = 2,
 * bands of several rows and of one row (prime output height).
 */
import { describe, expect, it } from 'vitest';
import { shiftedConvFits } from '../../src/ops/nn/conv-shifted.js';
import { convModel, expectConvMatchesOrt, type ConvCase } from '../helpers/conv-case.js';

const cases: Record<string, ConvCase> = {
  '3×3 p1, bias, relu': { x: [1, 16, 20, 24], m: 12, k: 3, pads: [1, 1, 1, 1], bias: true, act: 'relu' },
  '3×3 unpadded, no bias, odd M': { x: [1, 17, 18, 18], m: 7, k: 3 },
  '3×3 asymmetric pads, clip, N=2': { x: [2, 16, 13, 19], m: 9, k: 3, pads: [0, 2, 1, 0], act: 'clip' },
  '3×3 dilation 2, bias': { x: [1, 20, 17, 21], m: 16, k: 3, dilation: 2, pads: [2, 2, 2, 2], bias: true },
  '5×5 p2, odd sizes': { x: [1, 19, 23, 29], m: 13, k: 5, pads: [2, 2, 2, 2], bias: true, act: 'relu' },
  'several-row bands': { x: [1, 48, 64, 80], m: 12, k: 3, pads: [1, 1, 1, 1], bias: true, act: 'relu' },
  'one-row bands (prime height)': { x: [1, 32, 61, 160], m: 8, k: 3, pads: [1, 1, 1, 1] },
};

describe('shifted-view Conv matches onnxruntime', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      const bytes = convModel(c, c.x[1] * 31 + c.k + c.m, Math.sqrt(2 / (c.x[1] * c.k * c.k)));
      await expectConvMatchesOrt(c, bytes);
    });
  }
});

describe('shiftedConvFits', () => {
  const geometry = (C: number, stride: number, group: number, k: number, outW: number, M = 8) => ({
    N: 1,
    C,
    M,
    group,
    inSpatial: [32, outW],
    window: {
      kernel: [k, k],
      strides: [stride, stride],
      dilations: [1, 1],
      padBegin: [0, 0],
      padEnd: [0, 0],
      out: [32 - k + 1, outW - k + 1],
    },
  });
  it('takes stride-1 2-D convs of 16–48 channels in and ≤ 16 out and enough width, and leaves the rest to im2col', () => {
    expect(shiftedConvFits(geometry(16, 1, 1, 3, 40))).toBe(true);
    expect(shiftedConvFits(geometry(8, 1, 1, 3, 40))).toBe(false);
    expect(shiftedConvFits(geometry(16, 2, 1, 3, 40))).toBe(false);
    expect(shiftedConvFits(geometry(16, 1, 2, 3, 40))).toBe(false);
    expect(shiftedConvFits(geometry(16, 1, 1, 1, 40))).toBe(false);
    expect(shiftedConvFits(geometry(16, 1, 1, 3, 12))).toBe(false);
    expect(shiftedConvFits(geometry(48, 1, 1, 3, 40, 16))).toBe(true);
    expect(shiftedConvFits(geometry(40, 1, 1, 3, 40, 40))).toBe(false);
    expect(shiftedConvFits(geometry(64, 1, 1, 3, 40))).toBe(false);
    expect(shiftedConvFits(geometry(16, 1, 1, 3, 40, 64))).toBe(false);
  });
});
