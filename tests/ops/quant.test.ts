/** Quantization ops: shape inference and validation, and cases the ONNX node tests leave out against onnxruntime. */
import { describe, expect, it } from 'vitest';
import '../../src/ops/quant/index.js';
import { findOp, type OpContext } from '../../src/ops/registry.js';
import type { AttrValue, TensorType } from '../../src/ir/graph.js';
import type { DType } from '../../src/ir/dtype.js';
import { compareWithOrt, type NodeCase, type OperandSpec } from '../helpers/ort-oracle.js';

const t = (shape: number[], dtype: DType = 'float32'): TensorType => ({ dtype, shape });

function infer(
  op: string,
  inputs: (TensorType | undefined)[],
  attrs: Record<string, AttrValue> = {},
  opset = 13,
): TensorType[] {
  const def = findOp(op, '', opset);
  if (!def) throw new Error(`${op} is not registered at opset ${opset}`);
  const ctx: OpContext = {
    node: {
      op,
      domain: '',
      name: `${op}_0`,
      inputs: inputs.map((x, i) => (x ? `in${i}` : '')),
      outputs: ['y'],
      attrs,
    },
    opset,
    inputs,
    consts: inputs.map(() => undefined),
  };
  return def.infer(ctx);
}

describe('QuantizeLinear / DequantizeLinear inference', () => {
  it('takes the output dtype from the zero point (uint8 without one)', () => {
    expect(infer('QuantizeLinear', [t([2, 3]), t([]), t([], 'int8')])).toEqual([t([2, 3], 'int8')]);
    expect(infer('QuantizeLinear', [t([2, 3]), t([])], {}, 10)).toEqual([t([2, 3], 'uint8')]);
    expect(infer('QuantizeLinear', [t([2, 3]), t([])], { output_dtype: 5 }, 21)).toEqual([
      t([2, 3], 'int16'),
    ]);
    expect(infer('DequantizeLinear', [t([2, 3], 'int8'), t([3]), t([3], 'int8')], { axis: -1 })).toEqual([
      t([2, 3]),
    ]);
    expect(infer('DequantizeLinear', [t([4], 'uint8'), t([], 'float16')], {}, 19)).toEqual([
      t([4], 'float16'),
    ]);
  });
  it('checks per-axis and per-block scale shapes', () => {
    expect(() => infer('QuantizeLinear', [t([2, 3]), t([2])])).toThrow(
      /QuantizeLinear node "QuantizeLinear_0" \(opset 13\): y_scale has shape \[2\]; expected a scalar or \[3\]/,
    );
    expect(() => infer('QuantizeLinear', [t([2, 3]), t([3])], {}, 10)).toThrow(
      /expected a scalar before opset 13/,
    );
    expect(infer('QuantizeLinear', [t([2, 5]), t([2, 3])], { block_size: 2 }, 21)[0].shape).toEqual([2, 5]);
    expect(() => infer('QuantizeLinear', [t([2, 5]), t([2, 2])], { block_size: 2 }, 21)).toThrow(
      /expected \[2,3\] for block_size 2 along axis 1/,
    );
    expect(() => infer('QuantizeLinear', [t([2, 3]), t([3]), t([2], 'uint8')])).toThrow(
      /zero point has shape \[2\]; expected \[3\]/,
    );
  });
  it('rejects unsupported dtypes', () => {
    expect(() => infer('QuantizeLinear', [t([2], 'float64'), t([])])).toThrow(/x\) has dtype float64/);
    expect(() => infer('QuantizeLinear', [t([2]), t([]), t([], 'int32')])).toThrow(
      /zero point\) has dtype int32/,
    );
    expect(() => infer('QuantizeLinear', [t([2]), t([], 'float16')])).toThrow(/y_scale\) has dtype float16/);
    expect(() => infer('DequantizeLinear', [t([2], 'int8'), t([]), t([], 'uint8')])).toThrow(
      /zero point\) has dtype uint8; expected one of int8/,
    );
  });
});

describe('quantized MatMul / Conv inference', () => {
  const u8 = (shape: number[]) => t(shape, 'uint8');
  it('QLinearMatMul follows MatMul shapes and checks per-row / per-column parameters', () => {
    const args = (aScale: number[]) => [
      u8([2, 3, 4]),
      t(aScale),
      u8(aScale),
      u8([4, 5]),
      t([]),
      u8([]),
      t([]),
      u8([]),
    ];
    expect(infer('QLinearMatMul', args([]), {}, 10)).toEqual([u8([2, 3, 5])]);
    expect(infer('QLinearMatMul', args([3]), {}, 10)).toEqual([u8([2, 3, 5])]);
    expect(() => infer('QLinearMatMul', args([4]), {}, 10)).toThrow(
      /a_scale has shape \[4\]; expected a scalar or \[3\]/,
    );
  });
  it('ConvInteger and QLinearConv follow Conv geometry', () => {
    expect(
      infer('ConvInteger', [u8([1, 4, 5, 5]), u8([6, 2, 3, 3])], { group: 2, pads: [1, 1, 1, 1] }, 10),
    ).toEqual([t([1, 6, 5, 5], 'int32')]);
    expect(() =>
      infer('ConvInteger', [u8([1, 4, 5, 5]), u8([6, 2, 3, 3]), u8([]), u8([5])], { group: 2 }, 10),
    ).toThrow(/w_zero_point has shape \[5\]; expected a scalar or \[6\]/);
    const q = [
      u8([1, 2, 6, 6]),
      t([]),
      u8([]),
      t([3, 2, 3, 3], 'int8'),
      t([3]),
      t([3], 'int8'),
      t([]),
      t([], 'int8'),
    ];
    expect(infer('QLinearConv', q, { strides: [2, 2] }, 10)).toEqual([t([1, 3, 2, 2], 'int8')]);
    expect(() => infer('QLinearConv', [...q, t([2], 'int32')], {}, 10)).toThrow(
      /B has shape \[2\]; expected \[3\]/,
    );
  });
});

const f = (dims: number[], dtype: DType = 'float32', extra: Partial<OperandSpec> = {}): OperandSpec => ({
  dtype,
  dims,
  ...extra,
});
const w = (dims: number[], dtype: DType, values?: number[]): OperandSpec => ({
  dtype,
  dims,
  weight: true,
  ...(values ? { values } : {}),
});

const cases: Record<string, NodeCase> = {
  'QuantizeLinear int8 per axis 0 with saturation': {
    op: 'QuantizeLinear',
    opset: 13,
    inputs: [f([3, 4]), w([3], 'float32', [0.01, 0.5, 0.003]), w([3], 'int8', [-3, 0, 100])],
    attrs: { axis: { i: 0 } },
    outputs: ['int8'],
  },
  'QuantizeLinear opset 10 without zero point': {
    op: 'QuantizeLinear',
    opset: 10,
    inputs: [f([2, 5]), w([], 'float32', [0.004])],
    outputs: ['uint8'],
  },
  'QuantizeLinear blocked': {
    op: 'QuantizeLinear',
    opset: 21,
    inputs: [
      f([2, 5]),
      w([2, 3], 'float32', [0.01, 0.02, 0.03, 0.04, 0.05, 0.06]),
      w([2, 3], 'int8', [1, 2, 3, 4, 5, 6]),
    ],
    attrs: { axis: { i: 1 }, block_size: { i: 2 } },
    outputs: ['int8'],
  },
  'DequantizeLinear int8 per axis 1': {
    op: 'DequantizeLinear',
    opset: 13,
    inputs: [f([2, 3, 4], 'int8'), w([3], 'float32', [0.5, 2, 0.25]), w([3], 'int8', [1, -2, 3])],
    outputs: ['float32'],
  },
  'DequantizeLinear int32 without zero point': {
    op: 'DequantizeLinear',
    opset: 13,
    inputs: [f([6], 'int32'), w([], 'float32', [0.125])],
    outputs: ['float32'],
  },
  'DynamicQuantizeLinear negative-only data': {
    op: 'DynamicQuantizeLinear',
    opset: 11,
    inputs: [f([2, 3], 'float32', { values: [-1, -2.5, -0.3, -7, -0.01, -4] })],
    outputs: ['uint8', 'float32', 'uint8'],
  },
  'DynamicQuantizeLinear all zeros': {
    op: 'DynamicQuantizeLinear',
    opset: 11,
    inputs: [f([4], 'float32', { values: [0, 0, 0, 0] })],
    outputs: ['uint8', 'float32', 'uint8'],
  },
  'QLinearMatMul int8 batched': {
    op: 'QLinearMatMul',
    opset: 10,
    inputs: [
      f([2, 3, 4], 'int8'),
      w([], 'float32', [0.05]),
      w([], 'int8', [2]),
      f([4, 5], 'int8'),
      w([], 'float32', [0.1]),
      w([], 'int8', [-1]),
      w([], 'float32', [0.02]),
      w([], 'int8', [3]),
    ],
    outputs: ['int8'],
  },
  'ConvInteger grouped, strided, padded, dilated': {
    op: 'ConvInteger',
    opset: 10,
    inputs: [f([2, 4, 7, 6], 'uint8'), w([6, 2, 3, 2], 'uint8'), w([], 'uint8', [5]), w([], 'uint8', [3])],
    attrs: {
      group: { i: 2 },
      strides: { ints: [2, 1] },
      pads: { ints: [1, 0, 2, 1] },
      dilations: { ints: [1, 2] },
    },
    outputs: ['int32'],
  },
  'QLinearConv per-channel weights with bias and auto_pad': {
    op: 'QLinearConv',
    opset: 10,
    inputs: [
      f([1, 3, 6, 5], 'uint8'),
      w([], 'float32', [0.02]),
      w([], 'uint8', [8]),
      f([4, 3, 3, 3], 'int8'),
      w([4], 'float32', [0.01, 0.03, 0.02, 0.05]),
      w([4], 'int8', [0, 0, 0, 0]),
      w([], 'float32', [0.015]),
      w([], 'uint8', [120]),
      w([4], 'int32', [-50, 0, 37, 400]),
    ],
    attrs: { auto_pad: { s: 'SAME_UPPER' }, strides: { ints: [2, 2] } },
    outputs: ['uint8'],
  },
};

describe('quantization ops against onnxruntime', () => {
  for (const [name, c] of Object.entries(cases))
    it(name, async () => expect(await compareWithOrt(c)).toBeUndefined());
});
