/**
 * onnxruntime-node as the oracle: run a model (or one ONNX node) through Kiln's compile + wasm runtime and
 * through onnxruntime, and report the first output that differs.
 */
import * as ort from 'onnxruntime-node';
import { compileModel } from '../../src/compiler/compile.js';
import type { CompileOptions } from '../../src/compiler/options.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import type { Feed } from '../../src/runtime/types.js';
import type { DType, TypedArray } from '../../src/ir/dtype.js';
import { allocTensor, sizeOf, type HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { buildModel, seededRandom, type AttrSpec } from './onnx-builder.js';
import { floatToHalf } from '../../src/ir/float16.js';

export async function runOrt(
  bytes: Uint8Array,
  feeds: Record<string, HostTensor>,
): Promise<Record<string, HostTensor>> {
  const session = await ort.InferenceSession.create(bytes);
  const outputs = await session.run(
    Object.fromEntries(
      Object.entries(feeds).map(([name, t]) => [
        name,
        new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims),
      ]),
    ),
  );
  return Object.fromEntries(
    Object.entries(outputs).map(([name, t]) => [
      name,
      { dtype: t.type as DType, dims: [...t.dims], data: t.data as TypedArray },
    ]),
  );
}

/** Compile with Kiln, load on the wasm backend, run once and dispose. */
export async function runKiln(
  bytes: Uint8Array,
  feeds: Record<string, HostTensor>,
  options: CompileOptions = {},
): Promise<Record<string, HostTensor>> {
  const model = await loadModel(await compileModel(bytes, options), { backend: 'wasm' });
  try {
    return (await model.run(feeds as Record<string, Feed>)) as Record<string, HostTensor>;
  } finally {
    model.dispose();
  }
}

/** `model`'s outputs for `feeds` against onnxruntime's (rtol 1e-3, atol 1e-5): one line per output that differs. */
export async function ortMismatches(
  bytes: Uint8Array,
  model: Model,
  feeds: Record<string, HostTensor>,
): Promise<string[]> {
  const want = await runOrt(bytes, feeds);
  const got = (await model.run(feeds as Record<string, Feed>)) as Record<string, HostTensor>;
  return Object.entries(want).flatMap(([name, expected]) => {
    const problem = got[name] ? compareTensors(got[name], expected, 1e-3, 1e-5) : 'missing';
    return problem ? [`${name}: ${problem}`] : [];
  });
}

/** One ONNX node on given tensors; inputs are named `in<i>` and outputs `out<j>`. */
export interface NodeRun {
  op: string;
  opset: number;
  /** in the op's input order; null = omitted optional input */
  inputs: (HostTensor | null)[];
  /** indices of inputs given as initializers (like trained weights) rather than run-time inputs */
  weights?: number[];
  attrs?: Record<string, AttrSpec>;
  /** output dtypes in the op's order; null = omitted optional output */
  outputs: (DType | null)[];
}

export interface OracleOptions {
  rtol?: number;
  atol?: number;
  /** onnxruntime has no float64 kernel for some ops: it runs on the inputs rounded to float32 */
  oracleInFloat32?: boolean;
  /** Kiln runs this form of the node instead (another layout); `expected` maps onnxruntime's outputs to it. */
  kilnForm?: { node: NodeRun; expected: (t: HostTensor, output: number) => HostTensor };
}

const asFloat32 = (t: HostTensor): HostTensor =>
  t.dtype === 'float64'
    ? { dtype: 'float32', dims: t.dims, data: Float32Array.from(t.data as Float64Array) }
    : t;

/** onnxruntime wants omitted trailing inputs and outputs left out rather than named ''. */
function trimTrailingEmpty(names: string[]): string[] {
  let n = names.length;
  while (n > 0 && names[n - 1] === '') n--;
  return names.slice(0, n);
}

const outputNames = (node: NodeRun) => node.outputs.map((d, j) => (d ? `out${j}` : ''));
const isRuntimeInput = (node: NodeRun, i: number) => !!node.inputs[i] && !node.weights?.includes(i);

/** The one-node model; Kiln's frontend wants output shapes declared, onnxruntime infers them. */
export function singleNodeModel(node: NodeRun, outputShapes?: number[][]): Uint8Array {
  const names = node.inputs.map((t, i) => (t ? `in${i}` : ''));
  const outNames = outputNames(node);
  return buildModel({
    opset: node.opset,
    inputs: node.inputs.flatMap((t, i) =>
      t && isRuntimeInput(node, i) ? [{ name: names[i], dtype: t.dtype, shape: t.dims }] : [],
    ),
    outputs: node.outputs.flatMap((d, j) =>
      d ? [{ name: outNames[j], dtype: d, shape: outputShapes?.[j] }] : [],
    ),
    initializers: node.inputs.flatMap((t, i) =>
      t && !isRuntimeInput(node, i) ? [{ name: names[i], tensor: t }] : [],
    ),
    nodes: [
      {
        op: node.op,
        inputs: trimTrailingEmpty(names),
        outputs: trimTrailingEmpty(outNames),
        attrs: node.attrs,
      },
    ],
  });
}

const runtimeFeeds = (node: NodeRun): Record<string, HostTensor> =>
  Object.fromEntries(node.inputs.flatMap((t, i) => (t && isRuntimeInput(node, i) ? [[`in${i}`, t]] : [])));

/** Kiln alone: compile the one-node model with the given output shapes and run it (outputs keyed `out<j>`). */
export function runNodeInKiln(node: NodeRun, outputShapes: number[][]): Promise<Record<string, HostTensor>> {
  return runKiln(singleNodeModel(node, outputShapes), runtimeFeeds(node));
}

/** Kiln's outputs vs onnxruntime's; returns the first difference (or undefined). */
export async function compareNodeWithOrt(
  node: NodeRun,
  opts: OracleOptions = {},
): Promise<string | undefined> {
  const oracle: NodeRun = opts.oracleInFloat32
    ? {
        ...node,
        inputs: node.inputs.map((t) => t && asFloat32(t)),
        outputs: node.outputs.map((d) => (d === 'float64' ? 'float32' : d)),
      }
    : node;
  const theirs = await runOrt(singleNodeModel(oracle), runtimeFeeds(oracle));
  const outNames = outputNames(node);
  const expected = outNames.map((n, j) =>
    n ? (opts.kilnForm ? opts.kilnForm.expected(theirs[n], j) : theirs[n]) : undefined,
  );
  const kilnNode = opts.kilnForm?.node ?? node;
  const ours = await runNodeInKiln(
    kilnNode,
    expected.map((t) => t?.dims ?? []),
  );
  for (const [j, name] of outNames.entries()) {
    if (!name) continue;
    const actual = opts.oracleInFloat32 ? asFloat32(ours[name]) : ours[name];
    const problem = compareTensors(actual, expected[j]!, opts.rtol ?? 1e-4, opts.atol ?? 1e-5);
    if (problem) return `${name}: ${problem}`;
  }
  return undefined;
}

/** An operand described by dtype and dims, with random values unless given. */
export interface OperandSpec {
  dtype: DType;
  dims: number[];
  /** an initializer (like trained weights) rather than a runtime input */
  weight?: boolean;
  /** explicit values; random otherwise */
  values?: number[];
  /** for random values: strictly positive (variances) */
  positive?: boolean;
}

export interface NodeCase {
  op: string;
  opset?: number;
  /** null = omitted optional input */
  inputs: (OperandSpec | null)[];
  attrs?: Record<string, AttrSpec>;
  /** output dtypes; null = omitted optional output */
  outputs: (DType | null)[];
  rtol?: number;
  atol?: number;
  /** onnxruntime has no float64 kernel for some ops: run its float32 version as the oracle */
  oracleInFloat32?: boolean;
}

/** Floats uniform in [-1, 1) (or [0.2, 1.2) when positive), integers uniform in [-8, 8] (or [0, 16] unsigned). */
function makeTensor(spec: OperandSpec, rand: () => number): HostTensor {
  const t = allocTensor(spec.dtype, spec.dims);
  const data = t.data as TypedArray;
  for (let i = 0; i < sizeOf(spec.dims); i++) {
    const r = rand();
    const x = spec.values ? spec.values[i] : spec.positive ? 0.2 + r : r * 2 - 1;
    if (data instanceof BigInt64Array || data instanceof BigUint64Array)
      data[i] = BigInt(spec.values ? x : Math.floor(r * 17) - (spec.dtype === 'uint64' ? 0 : 8));
    else if (spec.dtype === 'float16') data[i] = floatToHalf(x);
    else if (spec.dtype.startsWith('float')) data[i] = x;
    else if (spec.dtype.startsWith('uint')) data[i] = spec.values ? x : Math.floor(r * 17);
    else data[i] = spec.values ? x : Math.floor(r * 17) - 8;
  }
  return t;
}

/** compareNodeWithOrt on operands made from their specs (random values from `seed`). */
export function compareWithOrt(c: NodeCase, seed = 7): Promise<string | undefined> {
  const rand = seededRandom(seed);
  return compareNodeWithOrt(
    {
      op: c.op,
      opset: c.opset ?? 17,
      inputs: c.inputs.map((s) => (s ? makeTensor(s, rand) : null)),
      weights: c.inputs.flatMap((s, i) => (s?.weight ? [i] : [])),
      attrs: c.attrs,
      outputs: c.outputs,
    },
    { rtol: c.rtol, atol: c.atol, oracleInFloat32: c.oracleInFloat32 },
  );
}
