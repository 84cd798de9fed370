/**
 * Depthwise 2-D convs (src/ops/nn/depthwise.ts) against onnxruntime-node: 3×3 and 5×5, stride 1 and 2,
 * explicit and SAME_UPPER (asymmetric) padding, with and without bias, a fused Relu or Clip, odd channel
 * counts and widths (the vector loops' scalar tails), N = 2, a depth multiplier, inputs narrower than the
 * kernel. The graph is Conv → activation, so the activation is fused into the conv as Kiln compiles it.
 */
import { describe, expect, it } from 'vitest';
import { tensorFromNumbers } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import {
  buildModel,
  randomTensor,
  seededRandom,
  type AttrSpec,
  type NodeSpec,
} from '../helpers/onnx-builder.js';
import { runKiln, runOrt } from '../helpers/ort-oracle.js';

interface DepthwiseCase {
  x: number[];
  k: number;
  /** output channels per input channel */
  multiplier?: number;
  stride?: number;
  dilation?: number;
  pads?: number[];
  autoPad?: string;
  bias?: boolean;
  act?: 'relu' | 'clip';
}

function model(c: DepthwiseCase): Uint8Array {
  const [, C] = c.x;
  const M = C * (c.multiplier ?? 1);
  const r = seededRandom(C * 31 + c.k);
  const attrs: Record<string, AttrSpec> = {
    group: { i: C },
    strides: { ints: [c.stride ?? 1, c.stride ?? 1] },
    dilations: { ints: [c.dilation ?? 1, c.dilation ?? 1] },
  };
  if (c.pads) attrs.pads = { ints: c.pads };
  if (c.autoPad) attrs.auto_pad = { s: c.autoPad };
  const nodes: NodeSpec[] = [
    {
      op: 'Conv',
      inputs: ['x', 'w', ...(c.bias ? ['b'] : [])],
      outputs: [c.act ? 'c' : 'y'],
      attrs,
    },
  ];
  if (c.act === 'relu') nodes.push({ op: 'Relu', inputs: ['c'], outputs: ['y'] });
  if (c.act === 'clip') nodes.push({ op: 'Clip', inputs: ['c', 'lo', 'hi'], outputs: ['y'] });
  return buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: c.x }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: [
      { name: 'w', tensor: randomTensor([M, 1, c.k, c.k], r) },
      ...(c.bias ? [{ name: 'b', tensor: randomTensor([M], r) }] : []),
      ...(c.act === 'clip'
        ? [
            { name: 'lo', tensor: tensorFromNumbers('float32', [], [-0.5]) },
            { name: 'hi', tensor: tensorFromNumbers('float32', [], [0.75]) },
          ]
        : []),
    ],
    nodes,
  });
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
  '5×5 s3 (scalar inner loop)': { x: [1, 3, 17, 29], k: 5, stride: 3, pads: [2, 2, 2, 2], act: 'relu' },
};

describe('depthwise Conv matches onnxruntime', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      const bytes = model(c);
      const feeds = { x: randomTensor(c.x, seededRandom(c.x.reduce((a, b) => a + b, c.k))) };
      const want = (await runOrt(bytes, feeds)).y;
      const got = (await runKiln(bytes, feeds)).y;
      expect(compareTensors(got, want, 1e-4, 1e-5)).toBeUndefined();
    });
  }
});
