/** Neural-network ops against onnxruntime-node on cases the ONNX node tests do not cover. */
import { describe, expect, it } from 'vitest';
import { compareWithOrt, type NodeCase, type OperandSpec } from '../helpers/ort-oracle.js';
import type { DType } from '../../src/ir/dtype.js';

const f = (dims: number[], dtype: DType = 'float32', extra: Partial<OperandSpec> = {}): OperandSpec => ({
  dtype,
  dims,
  ...extra,
});
const w = (dims: number[], dtype: DType = 'float32', extra: Partial<OperandSpec> = {}): OperandSpec => ({
  dtype,
  dims,
  weight: true,
  ...extra,
});

const cases: Record<string, NodeCase> = {
  // MatMul: 1-D operands, broadcast batch dims, the merged-batch path, non-float32 loops.
  'MatMul 1-D × 2-D': { op: 'MatMul', inputs: [f([5]), f([5, 3])], outputs: ['float32'] },
  'MatMul 3-D × 1-D': { op: 'MatMul', inputs: [f([2, 4, 5]), f([5])], outputs: ['float32'] },
  'MatMul 1-D × 1-D': { op: 'MatMul', inputs: [f([7]), f([7])], outputs: ['float32'] },
  'MatMul broadcast batch': { op: 'MatMul', inputs: [f([2, 1, 3, 4]), f([3, 4, 5])], outputs: ['float32'] },
  'MatMul shared weight': { op: 'MatMul', inputs: [f([2, 3, 16, 32]), w([32, 24])], outputs: ['float32'] },
  // one output column: a matrix-vector gemm, vectorized over k (the dot form)
  'MatMul by a column, odd sizes': { op: 'MatMul', inputs: [f([17, 33]), w([33, 1])], outputs: ['float32'] },
  'MatMul batch by a column': { op: 'MatMul', inputs: [f([3, 5, 19]), f([3, 19, 1])], outputs: ['float32'] },
  'MatMul float64': {
    op: 'MatMul',
    inputs: [f([2, 3, 4], 'float64'), f([4, 5], 'float64')],
    outputs: ['float64'],
  },
  'MatMul int32': { op: 'MatMul', inputs: [f([3, 4], 'int32'), f([2, 4, 5], 'int32')], outputs: ['int32'] },
  'MatMul int64': { op: 'MatMul', inputs: [f([3, 4], 'int64'), f([4, 2], 'int64')], outputs: ['int64'] },
  'MatMul K = 0': { op: 'MatMul', inputs: [f([3, 0]), f([0, 2])], outputs: ['float32'] },
  'MatMulInteger per-column zero point': {
    op: 'MatMulInteger',
    inputs: [
      f([3, 4], 'uint8'),
      w([4, 5], 'uint8'),
      w([], 'uint8', { values: [3] }),
      w([5], 'uint8', { values: [1, 2, 3, 4, 5] }),
    ],
    outputs: ['int32'],
  },
  'MatMulInteger int8 batched': {
    op: 'MatMulInteger',
    inputs: [f([2, 3, 4], 'int8'), f([4, 2], 'int8')],
    outputs: ['int32'],
  },
  // Gemm: large transposed B (copied to unit column stride), bias shapes, float64.
  'Gemm transB large': {
    op: 'Gemm',
    inputs: [f([8, 64]), w([48, 64]), w([48])],
    attrs: { transB: { i: 1 }, alpha: { f: 0.5 }, beta: { f: 2 } },
    outputs: ['float32'],
  },
  'Gemm transA+transB column bias': {
    op: 'Gemm',
    inputs: [f([6, 3]), f([5, 6]), f([3, 1])],
    attrs: { transA: { i: 1 }, transB: { i: 1 } },
    outputs: ['float32'],
  },
  'Gemm float64 no C': {
    op: 'Gemm',
    inputs: [f([3, 4], 'float64'), f([4, 2], 'float64'), null],
    attrs: { alpha: { f: 3 } },
    outputs: ['float64'],
  },
  // Conv: groups, depthwise, pointwise, dilations, strides, asymmetric pads, 1-D/3-D, float64.
  'Conv grouped 3×3 padded': {
    op: 'Conv',
    inputs: [f([2, 4, 7, 6]), w([6, 2, 3, 3]), w([6])],
    attrs: { group: { i: 2 }, pads: { ints: [1, 0, 2, 1] }, strides: { ints: [2, 1] } },
    outputs: ['float32'],
  },
  'Conv depthwise dilated': {
    op: 'Conv',
    inputs: [f([1, 3, 9, 9]), w([6, 1, 3, 3]), w([6])],
    attrs: { group: { i: 3 }, dilations: { ints: [2, 2] }, pads: { ints: [2, 2, 2, 2] } },
    outputs: ['float32'],
  },
  'Conv pointwise': { op: 'Conv', inputs: [f([2, 8, 5, 5]), w([4, 8, 1, 1]), w([4])], outputs: ['float32'] },
  'Conv SAME_LOWER': {
    op: 'Conv',
    inputs: [f([1, 2, 6, 5]), w([3, 2, 4, 3])],
    attrs: { auto_pad: { s: 'SAME_LOWER' }, strides: { ints: [2, 2] } },
    outputs: ['float32'],
  },
  'Conv 1-D': {
    op: 'Conv',
    inputs: [f([2, 3, 11]), w([4, 3, 3]), null],
    attrs: { strides: { ints: [3] } },
    outputs: ['float32'],
  },
  'Conv 3-D': {
    op: 'Conv',
    inputs: [f([1, 2, 4, 5, 5]), w([3, 2, 2, 3, 3]), w([3])],
    attrs: { pads: { ints: [0, 1, 1, 1, 1, 0] } },
    outputs: ['float32'],
  },
  'Conv float64 grouped': {
    oracleInFloat32: true,
    op: 'Conv',
    inputs: [f([1, 4, 5, 5], 'float64'), w([4, 2, 3, 3], 'float64'), w([4], 'float64')],
    attrs: { group: { i: 2 }, pads: { ints: [1, 1, 1, 1] } },
    outputs: ['float64'],
  },
  // ConvTranspose: groups, dilations, output_padding, output_shape with SAME_LOWER, float64.
  'ConvTranspose grouped strided': {
    op: 'ConvTranspose',
    inputs: [f([2, 4, 3, 4]), w([4, 3, 3, 2]), w([6])],
    attrs: {
      group: { i: 2 },
      strides: { ints: [2, 3] },
      output_padding: { ints: [1, 0] },
      pads: { ints: [1, 0, 0, 1] },
    },
    outputs: ['float32'],
  },
  'ConvTranspose dilated 1-D': {
    op: 'ConvTranspose',
    inputs: [f([1, 2, 5]), w([2, 3, 3])],
    attrs: { dilations: { ints: [2] }, strides: { ints: [2] } },
    outputs: ['float32'],
  },
  'ConvTranspose SAME_LOWER output_shape': {
    op: 'ConvTranspose',
    inputs: [f([1, 1, 3, 3]), w([1, 2, 3, 3])],
    attrs: { auto_pad: { s: 'SAME_LOWER' }, strides: { ints: [2, 2] } },
    outputs: ['float32'],
  },
  // kernel = stride, no padding: each output from one tap (the disjoint col2im)
  'ConvTranspose 2×3 upsampling grouped, batch 2': {
    op: 'ConvTranspose',
    inputs: [f([2, 4, 3, 5]), w([4, 3, 2, 3]), w([6])],
    attrs: { group: { i: 2 }, strides: { ints: [2, 3] } },
    outputs: ['float32'],
  },
  'ConvTranspose ×2 upsampling 1-D and 3-D': {
    op: 'ConvTranspose',
    inputs: [f([1, 3, 2, 3, 4]), w([3, 2, 2, 1, 2])],
    attrs: { strides: { ints: [2, 1, 2] } },
    outputs: ['float32'],
  },
  'ConvTranspose ×4 upsampling 1-D': {
    op: 'ConvTranspose',
    inputs: [f([1, 2, 5]), w([2, 3, 4]), w([3])],
    attrs: { strides: { ints: [4] } },
    outputs: ['float32'],
  },
  'ConvTranspose float64': {
    oracleInFloat32: true,
    op: 'ConvTranspose',
    inputs: [f([1, 2, 3, 3], 'float64'), w([2, 2, 3, 3], 'float64'), w([2], 'float64')],
    attrs: { strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } },
    outputs: ['float64'],
  },
  // Pools.
  'MaxPool column-major Indices ceil': {
    op: 'MaxPool',
    inputs: [f([2, 2, 5, 6])],
    attrs: {
      kernel_shape: { ints: [2, 3] },
      strides: { ints: [2, 2] },
      ceil_mode: { i: 1 },
      storage_order: { i: 1 },
    },
    outputs: ['float32', 'int64'],
  },
  'MaxPool int8 padded dilated': {
    op: 'MaxPool',
    inputs: [f([1, 2, 6, 6], 'int8')],
    attrs: { kernel_shape: { ints: [2, 2] }, dilations: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } },
    outputs: ['int8'],
  },
  'MaxPool float64 3-D': {
    op: 'MaxPool',
    inputs: [f([1, 1, 4, 4, 4], 'float64')],
    attrs: { kernel_shape: { ints: [2, 2, 2] }, strides: { ints: [2, 1, 2] } },
    outputs: ['float64'],
  },
  'AveragePool ceil count_include_pad': {
    op: 'AveragePool',
    inputs: [f([1, 2, 5, 5])],
    attrs: {
      kernel_shape: { ints: [3, 3] },
      strides: { ints: [2, 2] },
      pads: { ints: [1, 1, 1, 1] },
      ceil_mode: { i: 1 },
      count_include_pad: { i: 1 },
    },
    outputs: ['float32'],
  },
  'LpPool p=3': {
    op: 'LpPool',
    inputs: [f([1, 2, 5, 5])],
    attrs: { kernel_shape: { ints: [2, 2] }, p: { i: 3 }, pads: { ints: [1, 0, 0, 1] } },
    outputs: ['float32'],
  },
  'LpPool p=2 strided': {
    op: 'LpPool',
    inputs: [f([1, 3, 6, 6])],
    attrs: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] } },
    outputs: ['float32'],
  },
  GlobalLpPool: {
    op: 'GlobalLpPool',
    inputs: [f([2, 3, 4, 5])],
    attrs: { p: { i: 1 } },
    outputs: ['float32'],
  },
  'GlobalMaxPool float64': {
    oracleInFloat32: true,
    op: 'GlobalMaxPool',
    inputs: [f([2, 3, 4], 'float64')],
    outputs: ['float64'],
  },
  // Normalizations.
  'BatchNormalization 3-D input': {
    op: 'BatchNormalization',
    inputs: [f([2, 3, 5]), w([3]), w([3]), w([3]), w([3], 'float32', { positive: true })],
    outputs: ['float32'],
  },
  'LayerNormalization axis 1 with stats': {
    op: 'LayerNormalization',
    inputs: [f([2, 3, 4]), w([3, 4]), w([4])],
    attrs: { axis: { i: 1 }, epsilon: { f: 1e-3 } },
    outputs: ['float32', 'float32', 'float32'],
  },
  'LayerNormalization no bias': {
    op: 'LayerNormalization',
    inputs: [f([3, 8]), w([8]), null],
    outputs: ['float32'],
  },
  'InstanceNormalization float64': {
    oracleInFloat32: true,
    op: 'InstanceNormalization',
    inputs: [f([2, 3, 4, 2], 'float64'), w([3], 'float64'), w([3], 'float64')],
    outputs: ['float64'],
  },
  'GroupNormalization opset 18': {
    op: 'GroupNormalization',
    opset: 18,
    inputs: [f([2, 6, 3, 2]), w([3]), w([3])],
    attrs: { num_groups: { i: 3 } },
    outputs: ['float32'],
  },
  'MeanVarianceNormalization axes [1]': {
    op: 'MeanVarianceNormalization',
    inputs: [f([2, 5, 3])],
    attrs: { axes: { ints: [1] } },
    outputs: ['float32'],
  },
  'LRN size 3': {
    op: 'LRN',
    inputs: [f([1, 6, 2, 2])],
    attrs: { size: { i: 3 }, alpha: { f: 0.01 }, beta: { f: 0.5 }, bias: { f: 2 } },
    outputs: ['float32'],
  },
};

describe('nn ops match onnxruntime', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      expect(await compareWithOrt(c)).toBeUndefined();
    });
  }
});
