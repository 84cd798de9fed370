/**
 * Recurrent nodes (RNN, GRU, LSTM) against onnxruntime-node through the shared oracle: explicit tensors
 * (sequence lengths matter), and Kiln's batch-major layout 1 checked against onnxruntime's layout 0.
 */
import type { DType, TypedArray } from '../../../src/ir/dtype.js';
import { tensorFromNumbers, type HostTensor } from '../../../src/ir/tensor.js';
import { randomTensor, type AttrSpec } from '../../helpers/onnx-builder.js';
import { compareNodeWithOrt, type NodeRun } from '../../helpers/ort-oracle.js';

export interface RecurrentCase {
  op: 'RNN' | 'GRU' | 'LSTM';
  opset?: number;
  /** in the op's input order; null = omitted */
  inputs: (HostTensor | null)[];
  /** indices of inputs that are initializers (weights) rather than runtime inputs */
  weights: number[];
  attrs?: Record<string, AttrSpec>;
  /** requested outputs (Y, Y_h, Y_c): false = omitted */
  outputs: boolean[];
  /**
   * Give Kiln layout 1 (batch-major X, states and outputs): onnxruntime runs the layout-0 model it
   * supports, and its outputs are transposed for the comparison.
   */
  batchwise?: boolean;
  /** onnxruntime has no float64 GRU / LSTM: it runs on the inputs rounded to float32 */
  oracleInFloat32?: boolean;
}

/** The case as one node; its outputs have the dtype of X. */
export const recurrentNode = (c: RecurrentCase): NodeRun => ({
  op: c.op,
  opset: c.opset ?? 14,
  inputs: c.inputs,
  weights: c.weights,
  attrs: c.attrs,
  outputs: c.outputs.map((want) => (want ? c.inputs[0]!.dtype : null)),
});

/** Permute the dims of a row-major tensor: out dim i is in dim perm[i]. */
function transpose(t: HostTensor, perm: number[]): HostTensor {
  const src = t.data as TypedArray;
  const dims = perm.map((p) => t.dims[p]);
  const inStrides = t.dims.map((_, i) => t.dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new (src.constructor as new (n: number) => TypedArray)(src.length);
  const idx = new Array<number>(dims.length).fill(0);
  for (let o = 0; o < src.length; o++) {
    out[o] = src[idx.reduce((acc, x, i) => acc + x * inStrides[perm[i]], 0)];
    for (let d = dims.length - 1; d >= 0 && ++idx[d] === dims[d]; d--) idx[d] = 0;
  }
  return { dtype: t.dtype, dims, data: out };
}

/** The same node in batch-major layout 1: X [batch, seq, input], states [batch, dirs, hidden]. */
function toBatchwise(node: NodeRun): NodeRun {
  const inputs = node.inputs.map((t, i) =>
    t && (i === 0 || i === 5 || i === 6) ? transpose(t, [1, 0, 2]) : t,
  );
  return { ...node, inputs, attrs: { ...node.attrs, layout: { i: 1 } } };
}

/** onnxruntime's layout-0 outputs rearranged as layout 1: Y [batch, seq, dirs, hidden], states [batch, dirs, hidden]. */
const outputToBatchwise = (t: HostTensor, j: number): HostTensor =>
  j === 0 ? transpose(t, [2, 0, 1, 3]) : transpose(t, [1, 0, 2]);

/** Uniform random values in [-scale, scale) of dtype float32 or float64. */
export function random(dims: number[], rand: () => number, dtype: DType = 'float32', scale = 1): HostTensor {
  const t = randomTensor(dims, rand, scale);
  return dtype === 'float64' ? { ...t, dtype, data: Float64Array.from(t.data as Float32Array) } : t;
}

export const int32 = (values: number[]): HostTensor => tensorFromNumbers('int32', [values.length], values);

/** The first output that differs beyond the tolerance, or undefined. */
export function compareRecurrentWithOrt(
  c: RecurrentCase,
  rtol = 1e-4,
  atol = 1e-5,
): Promise<string | undefined> {
  const node = recurrentNode(c);
  return compareNodeWithOrt(node, {
    rtol,
    atol,
    oracleInFloat32: c.oracleInFloat32,
    kilnForm: c.batchwise ? { node: toBatchwise(node), expected: outputToBatchwise } : undefined,
  });
}
