/** Run one ONNX node through Kiln (compile + wasm) and through onnxruntime-node, and compare the outputs. */
import * as ort from 'onnxruntime-node';
import { compileModel } from '../../../src/compiler/compile.js';
import { loadModel } from '../../../src/runtime/index.js';
import type { DType, TypedArray } from '../../../src/ir/dtype.js';
import { allocTensor, sizeOf, type HostTensor } from '../../../src/ir/tensor.js';
import { buildModel, seededRandom, type AttrSpec } from '../../helpers/onnx-builder.js';
import { compareTensors } from '../../../scripts/compare.js';
import type { Feed } from '../../../src/runtime/types.js';

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

function floatToHalf(x: number): number {
  const f = new Float32Array([x]);
  const bits = new Uint32Array(f.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const mant = bits & 0x7fffff;
  if (exp <= 0) return sign; // tests use values far from the subnormal range
  return sign | (exp << 10) | Math.round(mant / 8192);
}

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

function toFloat32(t: HostTensor): HostTensor {
  return t.dtype === 'float64'
    ? { dtype: 'float32', dims: t.dims, data: Float32Array.from(t.data as Float64Array) }
    : t;
}

function trimTrailingEmpty(names: string[]): string[] {
  let n = names.length;
  while (n > 0 && names[n - 1] === '') n--;
  return names.slice(0, n);
}

/** Kiln's outputs vs onnxruntime's; returns the first difference (or undefined). */
export async function compareWithOrt(c: NodeCase, seed = 7): Promise<string | undefined> {
  const rand = seededRandom(seed);
  const tensors = c.inputs.map((s) => (s ? makeTensor(s, rand) : undefined));
  const names = c.inputs.map((s, i) => (s ? `in${i}` : ''));
  const outNames = c.outputs.map((d, j) => (d ? `out${j}` : ''));
  const runtime = c.inputs.flatMap((s, i) => (s && !s.weight ? [i] : []));
  const oracleTensors = c.oracleInFloat32 ? tensors.map((t) => t && toFloat32(t)) : tensors;
  const build = (ts: (HostTensor | undefined)[], shapes?: number[][]) =>
    buildModel({
      opset: c.opset ?? 17,
      inputs: runtime.map((i) => ({ name: names[i], dtype: ts[i]!.dtype, shape: ts[i]!.dims })),
      outputs: c.outputs.flatMap((d, j) =>
        d
          ? [{ name: outNames[j], dtype: c.oracleInFloat32 && !shapes ? 'float32' : d, shape: shapes?.[j] }]
          : [],
      ),
      initializers: c.inputs.flatMap((s, i) => (s?.weight ? [{ name: names[i], tensor: ts[i]! }] : [])),
      // onnxruntime wants omitted trailing inputs left out rather than named ''.
      nodes: [
        { op: c.op, inputs: trimTrailingEmpty(names), outputs: trimTrailingEmpty(outNames), attrs: c.attrs },
      ],
    });
  // onnxruntime infers the output shapes; Kiln's frontend wants them declared.
  const session = await ort.InferenceSession.create(build(oracleTensors));
  const ortFeeds = Object.fromEntries(
    runtime.map((i) => {
      const t = oracleTensors[i]!;
      return [names[i], new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims)];
    }),
  );
  const theirs = await session.run(ortFeeds);
  const shapes = outNames.map((n) => (n ? [...theirs[n].dims] : []));
  const feeds = Object.fromEntries(runtime.map((i) => [names[i], tensors[i]! as Feed]));
  const model = await loadModel(await compileModel(build(tensors, shapes), {}), { backend: 'wasm' });
  try {
    const ours = await model.run(feeds);
    for (const name of outNames.filter((n) => n)) {
      const t = theirs[name];
      const expected: HostTensor = { dtype: t.type as DType, dims: [...t.dims], data: t.data as TypedArray };
      const actual = c.oracleInFloat32 ? toFloat32(ours[name] as HostTensor) : (ours[name] as HostTensor);
      const problem = compareTensors(actual, expected, c.rtol ?? 1e-4, c.atol ?? 1e-5);
      if (problem) return `${name}: ${problem}`;
    }
    return undefined;
  } finally {
    model.dispose();
  }
}
