/**
 * Run one recurrent node through Kiln and onnxruntime-node and compare. Unlike the nn oracle this
 * takes explicit tensors (sequence lengths matter) and string-list attributes (activations).
 */
import * as ort from 'onnxruntime-node';
import { compileModel } from '../../../src/compiler/compile.js';
import { loadModel } from '../../../src/runtime/index.js';
import type { DType, TypedArray } from '../../../src/ir/dtype.js';
import type { HostTensor } from '../../../src/ir/tensor.js';
import { onnx } from '../../../src/frontend/onnx/proto.js';
import { buildModel, randomTensor, seededRandom, type AttrSpec } from '../../helpers/onnx-builder.js';
import { compareTensors } from '../../../scripts/compare.js';
import type { Feed } from '../../../src/runtime/types.js';

export interface RecurrentCase {
  op: 'RNN' | 'GRU' | 'LSTM';
  opset?: number;
  /** in the op's input order; null = omitted */
  inputs: (HostTensor | null)[];
  /** indices of inputs that are initializers (weights) rather than runtime inputs */
  weights: number[];
  attrs?: Record<string, AttrSpec>;
  /** string-list attributes (the test model builder has no such attribute type) */
  strings?: Record<string, string[]>;
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

const asFloat32 = (t: HostTensor): HostTensor =>
  t.dtype === 'float64'
    ? { dtype: 'float32', dims: t.dims, data: Float32Array.from(t.data as Float64Array) }
    : t;

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

/** The same case in batch-major layout 1: X [batch, seq, input], states [batch, dirs, hidden]. */
function toBatchwise(c: RecurrentCase): RecurrentCase {
  const inputs = c.inputs.map((t, i) => (t && (i === 0 || i === 5 || i === 6) ? transpose(t, [1, 0, 2]) : t));
  return { ...c, inputs, attrs: { ...c.attrs, layout: { i: 1 } } };
}

/** onnxruntime's layout-0 outputs rearranged as layout 1: Y [batch, seq, dirs, hidden], states [batch, dirs, hidden]. */
const outputToBatchwise = (t: HostTensor, j: number): HostTensor =>
  j === 0 ? transpose(t, [2, 0, 1, 3]) : transpose(t, [1, 0, 2]);

/** Uniform random values in [-scale, scale) of dtype float32 or float64. */
export function random(dims: number[], rand: () => number, dtype: DType = 'float32', scale = 1): HostTensor {
  const t = randomTensor(dims, rand, scale);
  return dtype === 'float64' ? { ...t, dtype, data: Float64Array.from(t.data as Float32Array) } : t;
}

export const int32 = (values: number[]): HostTensor => ({
  dtype: 'int32',
  dims: [values.length],
  data: Int32Array.from(values),
});

export { seededRandom };

function build(c: RecurrentCase, shapes?: number[][]): Uint8Array {
  const names = c.inputs.map((t, i) => (t ? `in${i}` : ''));
  while (names.length && names[names.length - 1] === '') names.pop();
  const outNames = c.outputs.map((want, j) => (want ? `out${j}` : ''));
  while (outNames.length && outNames[outNames.length - 1] === '') outNames.pop();
  const dtype = c.inputs[0]!.dtype;
  const bytes = buildModel({
    opset: c.opset ?? 14,
    inputs: c.inputs.flatMap((t, i) =>
      t && !c.weights.includes(i) ? [{ name: names[i], dtype: t.dtype, shape: t.dims }] : [],
    ),
    outputs: outNames.flatMap((n, j) => (n ? [{ name: n, dtype, shape: shapes?.[j] }] : [])),
    initializers: c.inputs.flatMap((t, i) =>
      t && c.weights.includes(i) ? [{ name: names[i], tensor: t }] : [],
    ),
    nodes: [{ op: c.op, inputs: names, outputs: outNames, attrs: c.attrs }],
  });
  if (!c.strings) return bytes;
  const model = onnx.ModelProto.decode(bytes);
  for (const [name, list] of Object.entries(c.strings))
    model.graph!.node![0].attribute!.push({
      name,
      type: onnx.AttributeProto.AttributeType.STRINGS,
      strings: list.map((s) => new TextEncoder().encode(s)),
    });
  return onnx.ModelProto.encode(model).finish();
}

/** The first output that differs beyond the tolerance, or undefined. */
export async function compareRecurrentWithOrt(
  c: RecurrentCase,
  rtol = 1e-4,
  atol = 1e-5,
): Promise<string | undefined> {
  const oracle = c.oracleInFloat32 ? { ...c, inputs: c.inputs.map((t) => t && asFloat32(t)) } : c;
  const session = await ort.InferenceSession.create(build(oracle));
  const runtime = oracle.inputs.flatMap((t, i) =>
    t && !c.weights.includes(i) ? [[`in${i}`, t] as const] : [],
  );
  const theirs = await session.run(
    Object.fromEntries(
      runtime.map(([n, t]) => [n, new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims)]),
    ),
  );
  const outNames = c.outputs.map((want, j) => (want ? `out${j}` : ''));
  const expectedOf = (j: number): HostTensor => {
    const t = theirs[outNames[j]];
    const host: HostTensor = { dtype: t.type as DType, dims: [...t.dims], data: t.data as TypedArray };
    return c.batchwise ? outputToBatchwise(host, j) : host;
  };
  const kilnCase = c.batchwise ? toBatchwise(c) : c;
  const kilnShapes = outNames.map((n, j) => (n ? expectedOf(j).dims : []));
  const model = await loadModel(await compileModel(build(kilnCase, kilnShapes), {}), { backend: 'wasm' });
  try {
    const feeds = kilnCase.inputs.flatMap((t, i) =>
      t && !c.weights.includes(i) ? [[`in${i}`, t as Feed]] : [],
    );
    const ours = await model.run(Object.fromEntries(feeds));
    for (const [j, name] of outNames.entries()) {
      if (!name) continue;
      const expected = expectedOf(j);
      const actual = ours[name] as HostTensor;
      const problem = compareTensors(c.oracleInFloat32 ? asFloat32(actual) : actual, expected, rtol, atol);
      if (problem) return `${name}: ${problem}`;
    }
    return undefined;
  } finally {
    model.dispose();
  }
}

/** Kiln alone: compile the one-node model with declared output shapes and run it. */
export async function runKiln(c: RecurrentCase, shapes: number[][]): Promise<Record<string, HostTensor>> {
  const model = await loadModel(await compileModel(build(c, shapes), {}), { backend: 'wasm' });
  try {
    const feeds = c.inputs.flatMap((t, i) => (t && !c.weights.includes(i) ? [[`in${i}`, t as Feed]] : []));
    return (await model.run(Object.fromEntries(feeds))) as Record<string, HostTensor>;
  } finally {
    model.dispose();
  }
}
