/**
 * float32 2-D MaxPool and AveragePool through window-runs.ts (no bounds checks, interior vectorized)
 * against onnxruntime-node: odd widths (vector tails), strides 1 and 2, explicit, asymmetric and
 * SAME_UPPER padding, ceil_mode, count_include_pad, N = 2; a NaN or ±Inf in a window comes out as the
 * strict max's.
 */
import { describe, expect, it } from 'vitest';
import { sizeOf, type HostTensor } from '../../src/ir/tensor.js';
import { seededRandom } from '../helpers/onnx-builder.js';
import { compareWithOrt, runNodeInKiln, type NodeCase } from '../helpers/ort-oracle.js';
import { maxPoolReference } from '../helpers/max-pool-reference.js';

const x = (dims: number[]) => ({ dtype: 'float32' as const, dims });

const cases: Record<string, NodeCase> = {
  'MaxPool 3×3 s2 p1, odd width': {
    op: 'MaxPool',
    inputs: [x([1, 16, 24, 37])],
    attrs: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } },
    outputs: ['float32'],
  },
  'MaxPool 2×2 s2, N=2, ceil_mode': {
    op: 'MaxPool',
    inputs: [x([2, 3, 11, 21])],
    attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, ceil_mode: { i: 1 } },
    outputs: ['float32'],
  },
  "MaxPool 3×3 s2, SqueezeNet's 55 → 27 (an interior 27 wide: the last group of four overlaps)": {
    op: 'MaxPool',
    inputs: [x([1, 5, 55, 55])],
    attrs: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] } },
    outputs: ['float32'],
  },
  'MaxPool 3×3 s2 ceil_mode, pads 0 1 1 0 (asymmetric), 29 × 42': {
    op: 'MaxPool',
    inputs: [x([1, 3, 29, 42])],
    attrs: {
      kernel_shape: { ints: [3, 3] },
      strides: { ints: [2, 2] },
      pads: { ints: [0, 1, 1, 0] },
      ceil_mode: { i: 1 },
    },
    outputs: ['float32'],
  },
  'MaxPool 2×2 s2, 6 × 14 (an interior 7 wide)': {
    op: 'MaxPool',
    inputs: [x([2, 3, 6, 14])],
    attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
    outputs: ['float32'],
  },
  'MaxPool 3×3 s1 SAME_UPPER': {
    op: 'MaxPool',
    inputs: [x([1, 5, 9, 14])],
    attrs: { kernel_shape: { ints: [3, 3] }, auto_pad: { s: 'SAME_UPPER' } },
    outputs: ['float32'],
  },
  'MaxPool 5×5 s1 asymmetric pads': {
    op: 'MaxPool',
    inputs: [x([1, 4, 10, 19])],
    attrs: { kernel_shape: { ints: [5, 5] }, pads: { ints: [2, 0, 1, 2] } },
    outputs: ['float32'],
  },
  'AveragePool 3×3 s2 p1 excluding pads': {
    op: 'AveragePool',
    inputs: [x([1, 16, 24, 37])],
    attrs: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } },
    outputs: ['float32'],
  },
  'AveragePool 3×3 s1 p1 count_include_pad, N=2': {
    op: 'AveragePool',
    inputs: [x([2, 3, 9, 13])],
    attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] }, count_include_pad: { i: 1 } },
    outputs: ['float32'],
  },
  'AveragePool 3×3 s2 ceil_mode count_include_pad': {
    op: 'AveragePool',
    inputs: [x([1, 2, 10, 18])],
    attrs: {
      kernel_shape: { ints: [3, 3] },
      strides: { ints: [2, 2] },
      pads: { ints: [1, 1, 1, 1] },
      ceil_mode: { i: 1 },
      count_include_pad: { i: 1 },
    },
    outputs: ['float32'],
  },
  'AveragePool 2×2 s2 SAME_UPPER, odd sizes': {
    op: 'AveragePool',
    inputs: [x([1, 3, 7, 15])],
    attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, auto_pad: { s: 'SAME_UPPER' } },
    outputs: ['float32'],
  },
};

describe('2-D pools (window runs) match onnxruntime', () => {
  for (const [name, c] of Object.entries(cases))
    it(name, async () => {
      expect(await compareWithOrt(c)).toBeUndefined();
    });
});

describe('MaxPool 3×3 s2 p1 keeps a NaN and ±Inf in its windows (vectorized interior, overlapping last group)', () => {
  const dims = [1, 4, 13, 31];
  const rand = seededRandom(3);
  const special = [NaN, Infinity, -Infinity];
  const data = Float32Array.from({ length: sizeOf(dims) }, (_, i) =>
    i % 37 === 5 ? special[i % 3] : rand() * 2 - 1,
  );
  const input: HostTensor = { dtype: 'float32', dims, data };
  const node = {
    op: 'MaxPool',
    opset: 13,
    inputs: [input],
    attrs: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } },
    outputs: ['float32' as const],
  };
  const unsigned = (xs: ArrayLike<number>) => Array.from(xs, (y) => (y === 0 ? 0 : y));
  const want = Array.from(maxPoolReference(input, 3, 2, [1, 1, 1, 1]).data as Float32Array);

  // a MaxPool alone has no relaxed-SIMD module (nothing in it would change); conv-pool.test.ts runs the
  // fused pool's NaN case in a model that has one
  it('SIMD128', async () => {
    expect(want.filter(Number.isNaN).length).toBeGreaterThan(10);
    const { out0 } = await runNodeInKiln(node, [[1, 4, 7, 16]]);
    expect(unsigned(out0.data as Float32Array)).toEqual(unsigned(want));
  });
});
