/**
 * float32 2-D MaxPool and AveragePool through window-runs.ts (no bounds checks, interior vectorized)
 * against onnxruntime-node: odd widths (vector tails), strides 1 and 2, explicit, asymmetric and
 * SAME_UPPER padding, ceil_mode, count_include_pad, N = 2.
 */
import { describe, expect, it } from 'vitest';
import { compareWithOrt, type NodeCase } from '../helpers/ort-oracle.js';

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
