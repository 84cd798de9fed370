/**
 * Strided float32 Convs with few channels against onnxruntime-node: those that take the panel lowering
 * (conv-panels.ts via conv.ts's `stridedPanelFits`: 1×1 over ≤ 64 channels, a downsampling shortcut, and
 * 3×3 stride 2 with C·9 ≤ 288 and M ≤ 64) and their neighbours that stay on im2col + gemm (1×1 65 → 72
 * channels, K = 360, M = 72; whole and banded im2col). Odd maps (37×53 and the like: widths not a
 * multiple of 4, output rows not a multiple of the 8-column tile), C 13/16/19/32/40/64/65, M 16/24/40/64/72 and odd M
 * (gemm row tails), pads, stride 3, N = 2, bias or none, fused Relu/Clip. The SIMD128 module runs here;
 * the relaxed-SIMD one (fused multiply-add) in a child process with Node 20's flag.
 */
import { describe, expect, it } from 'vitest';
import { stridedPanelFits } from '../../src/ops/nn/conv.js';
import type { ConvGeometry } from '../../src/ops/nn/conv-geometry.js';
import { convModel, describeConvCases, type ConvCase } from '../helpers/conv-case.js';

const cases: Record<string, ConvCase> = {
  '1×1 s2, C16 → 40 (a DBNet shortcut) over 37×53, bias': {
    x: [1, 16, 37, 53],
    m: 40,
    k: 1,
    stride: 2,
    bias: true,
  },
  '1×1 s2 p1, C13 → 24, N=2, relu': {
    x: [2, 13, 37, 53],
    m: 24,
    k: 1,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'relu',
  },
  '1×1 s3, C19 → 16, clip, no bias': { x: [1, 19, 41, 29], m: 16, k: 1, stride: 3, act: 'clip' },
  '1×1 s2, C40 → 19 (odd M), output rows wider than a panel': {
    x: [1, 40, 23, 181],
    m: 19,
    k: 1,
    stride: 2,
    bias: true,
  },
  '1×1 s2, C64 → 40': {
    x: [1, 64, 37, 53],
    m: 40,
    k: 1,
    stride: 2,
    bias: true,
  },
  '1×1 s2, C65 → 72 (K > 64 and M > 64: im2col + gemm)': {
    x: [1, 65, 37, 53],
    m: 72,
    k: 1,
    stride: 2,
    act: 'relu',
  },
  '3×3 s2 p1, C13 → 40, 37×53, relu': {
    x: [1, 13, 37, 53],
    m: 40,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'relu',
  },
  '3×3 s2 p1, C19 → 24, N=2, clip': {
    x: [2, 19, 37, 53],
    m: 24,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'clip',
  },
  '3×3 s2 p1, C32 → 64 (K = 288, an SVTR stage), 23×81': {
    x: [1, 32, 23, 81],
    m: 64,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'relu',
  },
  '3×3 s2 p1, C16 → 40 over 161×163 (panels of one output row)': {
    x: [1, 16, 161, 163],
    m: 40,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'relu',
  },
  '3×3 s2 p1, C16 → 72 (M > 64: im2col + gemm), 37×53': {
    x: [1, 16, 37, 53],
    m: 72,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
  },
  '3×3 s2 p1, C40 → 16 (K = 360: im2col + gemm), no bias': {
    x: [1, 40, 37, 53],
    m: 16,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
  },
  '3×3 s2 p1, C40 → 16 over 161×163 (K = 360: banded im2col)': {
    x: [1, 40, 161, 163],
    m: 16,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    bias: true,
    act: 'relu',
  },
};

const modelOf = (c: ConvCase) => convModel(c, c.x[1] * 31 + c.k + c.m, Math.sqrt(2 / (c.x[1] * c.k * c.k)));

describeConvCases('strided Conv', cases, modelOf, 'kiln-conv-strided');

describe('stridedPanelFits', () => {
  const geometry = (C: number, k: number, strides: number[], group = 1, M = 40): ConvGeometry => ({
    N: 1,
    C,
    M,
    group,
    inSpatial: [32, 32],
    window: {
      kernel: [k, k],
      strides,
      dilations: [1, 1],
      padBegin: [0, 0],
      padEnd: [0, 0],
      out: strides.map((s) => Math.floor((32 - k) / s) + 1),
    },
  });
  it('takes ungrouped strided 2-D convs with K ≤ 64, or K ≤ 288 and M ≤ 64', () => {
    expect(stridedPanelFits(geometry(16, 1, [2, 2]))).toBe(true);
    expect(stridedPanelFits(geometry(64, 1, [2, 1]))).toBe(true);
    expect(stridedPanelFits(geometry(64, 1, [2, 2], 1, 128))).toBe(true);
    expect(stridedPanelFits(geometry(16, 3, [2, 2]))).toBe(true);
    expect(stridedPanelFits(geometry(32, 3, [2, 2], 1, 64))).toBe(true);
    expect(stridedPanelFits(geometry(65, 1, [2, 2]))).toBe(true);
    expect(stridedPanelFits(geometry(65, 1, [2, 2], 1, 65))).toBe(false);
    expect(stridedPanelFits(geometry(16, 3, [2, 2], 1, 72))).toBe(false);
    expect(stridedPanelFits(geometry(40, 3, [2, 2]))).toBe(false);
    expect(stridedPanelFits(geometry(16, 1, [1, 1]))).toBe(false);
    expect(stridedPanelFits(geometry(16, 3, [1, 1]))).toBe(false);
    expect(stridedPanelFits(geometry(16, 1, [2, 2], 2))).toBe(false);
  });
});
