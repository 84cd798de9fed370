/**
 * Ops whose kernels now run as f32x4 loops (vector exp/log/erf/tanh helpers, vectorized reductions, the
 * canonicalize pass) against onnxruntime-node: odd row lengths (scalar tails), wide input ranges, and
 * Softmax's special rows (all -inf, NaN, +inf).
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { buildModel } from '../helpers/onnx-builder.js';
import { compareWithOrt, ortMismatches, type NodeCase, type OperandSpec } from '../helpers/ort-oracle.js';

const f = (dims: number[], extra: Partial<OperandSpec> = {}): OperandSpec => ({
  dtype: 'float32',
  dims,
  ...extra,
});
const w = (dims: number[], extra: Partial<OperandSpec> = {}): OperandSpec => ({
  ...f(dims, extra),
  weight: true,
});
/** n values spread over [lo, hi] in a scrambled order */
const spread = (n: number, lo: number, hi: number) =>
  Array.from({ length: n }, (_, i) => lo + ((hi - lo) * ((i * 7919) % n)) / (n - 1));

const specialRows = [
  ...Array(13).fill(-Infinity), // all -inf: NaN, as onnxruntime
  ...spread(13, -5, 5).map((x, i) => (i === 6 ? NaN : x)), // a NaN: NaN row
  ...spread(13, -5, 5).map((x, i) => (i === 2 ? Infinity : x)), // +inf: NaN
  ...spread(13, -100, 100).map((x, i) => (i < 5 ? -Infinity : x)), // some -inf: exact zeros there
  ...spread(13, 80, 100), // large: no overflow after subtracting the max
];

const cases: Record<string, NodeCase> = {
  'Softmax last axis 1×40×97': { op: 'Softmax', opset: 13, inputs: [f([1, 40, 97])], outputs: ['float32'] },
  'Softmax 2×8×40×40 wide values': {
    op: 'Softmax',
    opset: 13,
    inputs: [f([2, 8, 40, 40], { values: spread(2 * 8 * 40 * 40, -30, 30) })],
    outputs: ['float32'],
  },
  'Softmax special rows': {
    op: 'Softmax',
    opset: 13,
    inputs: [f([5, 13], { values: specialRows })],
    outputs: ['float32'],
  },
  'Softmax opset 11 (trailing dims)': {
    op: 'Softmax',
    opset: 11,
    inputs: [f([2, 3, 7])],
    attrs: { axis: { i: 1 } },
    outputs: ['float32'],
  },
  'Softmax middle axis': {
    op: 'Softmax',
    opset: 13,
    inputs: [f([3, 9, 5])],
    attrs: { axis: { i: 1 } },
    outputs: ['float32'],
  },
  'LogSoftmax 5×37': {
    op: 'LogSoftmax',
    opset: 13,
    inputs: [f([5, 37], { values: spread(185, -20, 20) })],
    outputs: ['float32'],
  },
  'Exp wide range': {
    op: 'Exp',
    inputs: [f([2003], { values: spread(2003, -110, 95) })],
    outputs: ['float32'],
    rtol: 1e-5,
  },
  'Erf wide range': {
    op: 'Erf',
    inputs: [f([2003], { values: spread(2003, -6, 6) })],
    outputs: ['float32'],
    atol: 1e-6,
  },
  'Tanh wide range': {
    op: 'Tanh',
    inputs: [f([2003], { values: spread(2003, -12, 12) })],
    outputs: ['float32'],
    atol: 1e-6,
  },
  'Log wide range, subnormals and specials': {
    op: 'Log',
    inputs: [
      f([2007], {
        values: [
          ...spread(1001, 0, 4),
          ...spread(1000, -40, 38).map((e) => 10 ** e),
          ...[0, -0, 1e-40, 1e-45, Infinity, NaN, -1],
        ],
      }),
    ],
    outputs: ['float32'],
    rtol: 1e-5,
  },
  'Softplus wide range': {
    op: 'Softplus',
    inputs: [f([2003], { values: spread(2003, -100, 100) })],
    outputs: ['float32'],
  },
  'Mish wide range': {
    op: 'Mish',
    opset: 18,
    inputs: [f([2003], { values: spread(2003, -30, 30) })],
    outputs: ['float32'],
  },
  'Sigmoid wide range': {
    op: 'Sigmoid',
    inputs: [f([2003], { values: spread(2003, -100, 100) })],
    outputs: ['float32'],
  },
  'HardSwish 1×7×11': {
    op: 'HardSwish',
    opset: 14,
    inputs: [f([1, 7, 11], { values: spread(77, -5, 5) })],
    outputs: ['float32'],
  },
  'LayerNormalization 2×40×121': {
    op: 'LayerNormalization',
    opset: 17,
    inputs: [f([2, 40, 121]), w([121]), w([121])],
    attrs: { axis: { i: -1 }, epsilon: { f: 1e-5 } },
    outputs: ['float32'],
  },
  'ReduceMean last axis 3×121': {
    op: 'ReduceMean',
    opset: 13,
    inputs: [f([3, 121])],
    attrs: { axes: { ints: [-1] } },
    outputs: ['float32'],
  },
  'ReduceSum last axis 4×1001': {
    op: 'ReduceSum',
    opset: 11,
    inputs: [f([4, 1001])],
    attrs: { axes: { ints: [1] }, keepdims: { i: 0 } },
    outputs: ['float32'],
  },
  'ReduceMax last axis 3×37': {
    op: 'ReduceMax',
    opset: 13,
    inputs: [f([3, 37])],
    attrs: { axes: { ints: [-1] } },
    outputs: ['float32'],
  },
  'Pow x^2 (Mul)': {
    op: 'Pow',
    opset: 15,
    inputs: [f([3, 41]), w([], { values: [2] })],
    outputs: ['float32'],
  },
  'Div by 8 (Mul by 0.125)': {
    op: 'Div',
    inputs: [f([3, 41]), w([], { values: [8] })],
    outputs: ['float32'],
  },
};

describe('vectorized math and reductions vs onnxruntime', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      expect(await compareWithOrt(c)).toBeUndefined();
    });
  }
});

it('a fused Softplus → Mish → Softsign chain (each op repeats its input) matches onnxruntime', async () => {
  const n = 1001;
  const bytes = buildModel({
    opset: 18,
    inputs: [{ name: 'x', dtype: 'float32', shape: [n] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [n] }],
    nodes: [
      { op: 'Softplus', inputs: ['x'], outputs: ['a'] },
      { op: 'Mish', inputs: ['a'], outputs: ['b'] },
      { op: 'Softsign', inputs: ['b'], outputs: ['y'] },
    ],
  });
  const model = await loadModel(await compileModel(bytes), { backend: 'wasm' });
  try {
    const x = { dtype: 'float32' as const, dims: [n], data: Float32Array.from(spread(n, -40, 40)) };
    expect(await ortMismatches(bytes, model, { x })).toEqual([]);
  } finally {
    model.dispose();
  }
});
