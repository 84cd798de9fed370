/** RNN, GRU and LSTM: shape inference and validation, and the cases the ONNX node tests leave out against onnxruntime. */
import { describe, expect, it } from 'vitest';
import '../../src/ops/rnn/index.js';
import { findOp, type OpContext } from '../../src/ops/registry.js';
import type { AttrValue, TensorType } from '../../src/ir/graph.js';
import type { DType } from '../../src/ir/dtype.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { seededRandom } from '../helpers/onnx-builder.js';
import { runNodeInKiln } from '../helpers/ort-oracle.js';
import { halfToFloat, floatToHalf } from '../../src/ir/float16.js';
import {
  compareRecurrentWithOrt,
  int32,
  random,
  recurrentNode,
  type RecurrentCase,
} from './rnn-support/oracle.js';

const t = (shape: number[], dtype: DType = 'float32'): TensorType => ({ dtype, shape });

function infer(
  op: string,
  inputs: (TensorType | undefined)[],
  attrs: Record<string, AttrValue> = {},
  opset = 14,
) {
  const def = findOp(op, '', opset)!;
  const ctx: OpContext = {
    node: {
      op,
      domain: '',
      name: `${op}_0`,
      inputs: inputs.map((x, i) => (x ? `in${i}` : '')),
      outputs: ['y', 'y_h', 'y_c'],
      attrs,
    },
    opset,
    inputs,
    consts: inputs.map(() => undefined),
  };
  return def.infer(ctx).map((o) => o.shape);
}

describe('recurrent shape inference', () => {
  it('gives Y and the states for both layouts', () => {
    const lstm = [t([5, 2, 3]), t([2, 16, 3]), t([2, 16, 4])];
    expect(infer('LSTM', lstm, { direction: 'bidirectional' })).toEqual([
      [5, 2, 2, 4],
      [2, 2, 4],
      [2, 2, 4],
    ]);
    const gru = [t([2, 5, 3]), t([1, 12, 3]), t([1, 12, 4])];
    expect(infer('GRU', gru, { layout: 1 })).toEqual([
      [2, 5, 1, 4],
      [2, 1, 4],
    ]);
    expect(infer('RNN', [t([0, 2, 3]), t([1, 4, 3]), t([1, 4, 4])])).toEqual([
      [0, 1, 2, 4],
      [1, 2, 4],
    ]);
  });
  it('names the input whose shape or dtype is wrong', () => {
    const x = t([5, 2, 3]);
    expect(() => infer('RNN', [x, t([1, 4, 3]), t([1, 4, 5])])).toThrow(
      /RNN node "RNN_0" \(opset 14\): R has shape \[1,4,5\]; expected \[1,4,4\]/,
    );
    expect(() => infer('RNN', [x, t([1, 4, 3]), t([1, 4, 4])], { direction: 'bidirectional' })).toThrow(
      /W has shape \[1,4,3\]; expected \[2,4,3\]/,
    );
    expect(() => infer('GRU', [x, t([1, 12, 3]), t([1, 12, 4]), t([1, 12])])).toThrow(
      /B has shape \[1,12\]; expected \[1,24\]/,
    );
    expect(() => infer('RNN', [x, t([1, 4, 3]), t([1, 4, 4]), undefined, t([2], 'int64')])).toThrow(
      /sequence_lens\) has dtype int64; expected one of int32/,
    );
    expect(() =>
      infer('LSTM', [x, t([1, 16, 3]), t([1, 16, 4]), undefined, undefined, undefined, undefined, t([1, 8])]),
    ).toThrow(/P has shape \[1,8\]; expected \[1,12\]/);
    expect(() => infer('RNN', [t([5, 2, 3], 'int32'), t([1, 4, 3]), t([1, 4, 4])])).toThrow(/dtype int32/);
  });
  it('rejects unknown directions, activations and attribute values', () => {
    const rnn = [t([5, 2, 3]), t([1, 4, 3]), t([1, 4, 4])];
    expect(() => infer('RNN', rnn, { direction: 'sideways' })).toThrow(/direction 'sideways'/);
    expect(() => infer('RNN', rnn, { layout: 2 })).toThrow(/layout 2 must be 0 or 1/);
    expect(() => infer('RNN', rnn, { hidden_size: 5 })).toThrow(/W has shape \[1,4,3\]; expected \[1,5,3\]/);
    const gru = [t([5, 2, 3]), t([1, 12, 3]), t([1, 12, 4])];
    expect(() => infer('GRU', gru, { linear_before_reset: 2 })).toThrow(/linear_before_reset 2/);
  });
});

const [SEQ, BATCH, IN, HID] = [4, 3, 5, 6];

/** Random X, W, R, B (+ the given extra inputs) for `gates` gate blocks and `dirs` directions. */
function inputs(
  seed: number,
  gates: number,
  dirs: number,
  extra: {
    lens?: number[];
    initial?: boolean;
    cell?: boolean;
    peepholes?: boolean;
    dtype?: DType;
  } = {},
): (HostTensor | null)[] {
  const rand = seededRandom(seed);
  const dtype = extra.dtype ?? 'float32';
  const state = [dirs, BATCH, HID];
  return [
    random([SEQ, BATCH, IN], rand, dtype),
    random([dirs, gates * HID, IN], rand, dtype, 0.5),
    random([dirs, gates * HID, HID], rand, dtype, 0.5),
    random([dirs, 2 * gates * HID], rand, dtype, 0.5),
    extra.lens ? int32(extra.lens) : null,
    extra.initial ? random(state, rand, dtype) : null,
    ...(gates === 4
      ? [
          extra.cell ? random(state, rand, dtype) : null,
          extra.peepholes ? random([dirs, 3 * HID], rand, dtype, 0.5) : null,
        ]
      : []),
  ];
}

const WEIGHTS = [1, 2, 3, 7];

const cases: Record<string, RecurrentCase> = {
  'RNN bidirectional with initial_h': {
    op: 'RNN',
    inputs: inputs(1, 1, 2, { initial: true }),
    weights: WEIGHTS,
    attrs: { direction: { s: 'bidirectional' } },
    outputs: [true, true],
  },
  'RNN reverse with sequence_lens': {
    op: 'RNN',
    inputs: inputs(2, 1, 1, { lens: [4, 2, 3], initial: true }),
    weights: WEIGHTS,
    attrs: { direction: { s: 'reverse' } },
    outputs: [true, true],
  },
  'RNN activations with alpha and beta per direction': {
    op: 'RNN',
    inputs: inputs(3, 1, 2),
    weights: WEIGHTS,
    attrs: {
      direction: { s: 'bidirectional' },
      activation_alpha: { floats: [0.1, 0.7] },
      activation_beta: { floats: [1.3] },
      activations: { strings: ['LeakyRelu', 'ScaledTanh'] },
    },
    outputs: [true, true],
  },
  'GRU bidirectional with sequence_lens and initial_h': {
    op: 'GRU',
    inputs: inputs(4, 3, 2, { lens: [3, 4, 1], initial: true }),
    weights: WEIGHTS,
    attrs: { direction: { s: 'bidirectional' } },
    outputs: [true, true],
  },
  'GRU linear_before_reset, reverse, clip and activations': {
    op: 'GRU',
    inputs: inputs(5, 3, 1, { initial: true }),
    weights: WEIGHTS,
    attrs: {
      direction: { s: 'reverse' },
      linear_before_reset: { i: 1 },
      clip: { f: 0.5 },
      activation_alpha: { floats: [0.3] },
      activation_beta: { floats: [0.4] },
      activations: { strings: ['HardSigmoid', 'Softsign'] },
    },
    outputs: [true, true],
  },
  'GRU bidirectional float64': {
    op: 'GRU',
    inputs: inputs(6, 3, 2, { initial: true, dtype: 'float64' }),
    weights: WEIGHTS,
    attrs: { direction: { s: 'bidirectional' } },
    outputs: [true, true],
    oracleInFloat32: true,
  },
  'LSTM float64 reverse with sequence_lens': {
    op: 'LSTM',
    inputs: inputs(10, 4, 1, { lens: [1, 4, 2], initial: true, peepholes: true, dtype: 'float64' }),
    weights: WEIGHTS,
    attrs: { direction: { s: 'reverse' } },
    outputs: [true, true, true],
    oracleInFloat32: true,
  },
  'LSTM bidirectional with everything': {
    op: 'LSTM',
    inputs: inputs(7, 4, 2, { lens: [2, 4, 3], initial: true, cell: true, peepholes: true }),
    weights: WEIGHTS,
    attrs: { direction: { s: 'bidirectional' } },
    outputs: [true, true, true],
  },
  'LSTM layout 1 bidirectional with sequence_lens': {
    op: 'LSTM',
    inputs: inputs(8, 4, 2, { lens: [3, 1, 4], initial: true, cell: true, peepholes: true }),
    weights: WEIGHTS,
    attrs: { direction: { s: 'bidirectional' } },
    batchwise: true,
    outputs: [true, true, true],
  },
  'LSTM input_forget, clip and activations': {
    op: 'LSTM',
    inputs: inputs(9, 4, 1, { peepholes: true }),
    weights: WEIGHTS,
    attrs: {
      input_forget: { i: 1 },
      clip: { f: 0.8 },
      activation_alpha: { floats: [0.5] },
      activations: { strings: ['Sigmoid', 'Elu', 'Softplus'] },
    },
    outputs: [true, true, true],
  },
};

describe('recurrent ops against onnxruntime', () => {
  // onnxruntime wants hidden_size spelled out.
  for (const [name, c] of Object.entries(cases))
    it(name, async () =>
      expect(
        await compareRecurrentWithOrt({ ...c, attrs: { ...c.attrs, hidden_size: { i: HID } } }),
      ).toBeUndefined(),
    );
});

describe('recurrent edge cases onnxruntime cannot check', () => {
  it('an empty sequence leaves the initial state in Y_h', async () => {
    const rand = seededRandom(11);
    const h0 = random([1, 2, 3], rand);
    const c: RecurrentCase = {
      op: 'RNN',
      inputs: [random([0, 2, 4], rand), random([1, 3, 4], rand), random([1, 3, 3], rand), null, null, h0],
      weights: [1, 2],
      outputs: [true, true],
    };
    const out = await runNodeInKiln(recurrentNode(c), [
      [0, 1, 2, 3],
      [1, 2, 3],
    ]);
    expect(out.out0.data.length).toBe(0);
    expect(Array.from(out.out1.data as Float32Array)).toEqual(Array.from(h0.data as Float32Array));
  });
  it('float16 GRU and LSTM compute like float32 within half precision', async () => {
    for (const [op, gates] of [
      ['GRU', 3],
      ['LSTM', 4],
    ] as const) {
      const c: RecurrentCase = {
        op,
        inputs: inputs(12, gates, 2, { lens: [4, 1, 3], initial: true }),
        weights: WEIGHTS,
        attrs: { direction: { s: 'bidirectional' } },
        outputs: [true, true],
      };
      const half = (t: HostTensor | null): HostTensor | null =>
        t && t.dtype === 'float32'
          ? { dtype: 'float16', dims: t.dims, data: Uint16Array.from(t.data as Float32Array, floatToHalf) }
          : t;
      const shapes = [
        [SEQ, 2, BATCH, HID],
        [2, BATCH, HID],
      ];
      const full = await runNodeInKiln(recurrentNode(c), shapes);
      const low = await runNodeInKiln(recurrentNode({ ...c, inputs: c.inputs.map(half) }), shapes);
      for (const name of ['out0', 'out1']) {
        const expected = Array.from(full[name].data as Float32Array);
        const actual = Array.from(low[name].data as Uint16Array, halfToFloat);
        actual.forEach((x, i) => expect(Math.abs(x - expected[i])).toBeLessThan(1e-2));
      }
    }
  });
});
