/** Build small ONNX models in code (for tests, the oracle comparisons and the sample models). */
import { onnx, type OnnxTypes } from '../../src/frontend/onnx/proto.js';
import { onnxFromDtype, type DType } from '../../src/ir/dtype.js';
import { tensorBytes, type HostTensor } from '../../src/ir/tensor.js';

export type AttrSpec =
  | { i: number }
  | { f: number }
  | { ints: number[] }
  | { floats: number[] }
  | { s: string }
  | { strings: string[] }
  | { t: HostTensor }
  | { g: GraphSpec };

/** A graph input or output; subgraph values may leave out the type (`dtype`) or the shape. */
export interface ValueSpec {
  name: string;
  dtype?: DType;
  shape?: (number | string)[];
}

/** A subgraph (If branch, Loop or Scan body) held in a GRAPH attribute. */
export interface GraphSpec {
  name?: string;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: { name: string; tensor: HostTensor }[];
  nodes: NodeSpec[];
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrSpec>;
  name?: string;
  domain?: string;
}

export interface ModelSpec {
  name?: string;
  opset?: number;
  inputs: { name: string; dtype: DType; shape: (number | string)[] }[];
  outputs: { name: string; dtype: DType; shape?: (number | string)[] }[];
  initializers?: { name: string; tensor: HostTensor }[];
  nodes: NodeSpec[];
}

function tensorProto(name: string, t: HostTensor) {
  return { name, dims: t.dims, dataType: onnxFromDtype(t.dtype), rawData: tensorBytes(t).slice() };
}

export function valueInfo(v: ValueSpec): OnnxTypes.IValueInfoProto {
  if (!v.dtype) return { name: v.name };
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: onnxFromDtype(v.dtype),
        ...(v.shape
          ? {
              shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
            }
          : {}),
      },
    },
  };
}

function attribute(name: string, a: AttrSpec) {
  const T = onnx.AttributeProto.AttributeType;
  if ('i' in a) return { name, type: T.INT, i: a.i };
  if ('f' in a) return { name, type: T.FLOAT, f: a.f };
  if ('ints' in a) return { name, type: T.INTS, ints: a.ints };
  if ('floats' in a) return { name, type: T.FLOATS, floats: a.floats };
  if ('s' in a) return { name, type: T.STRING, s: new TextEncoder().encode(a.s) };
  if ('strings' in a)
    return { name, type: T.STRINGS, strings: a.strings.map((s) => new TextEncoder().encode(s)) };
  if ('g' in a) return { name, type: T.GRAPH, g: graphProto(a.g) };
  return { name, type: T.TENSOR, t: tensorProto('', a.t) };
}

function graphProto(g: GraphSpec): OnnxTypes.IGraphProto {
  return {
    name: g.name ?? 'graph',
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
    initializer: (g.initializers ?? []).map(({ name, tensor }) => tensorProto(name, tensor)),
    node: g.nodes.map((n, i) => ({
      opType: n.op,
      name: n.name ?? `${n.op}_${i}`,
      domain: n.domain ?? '',
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs ?? {}).map(([k, a]) => attribute(k, a)),
    })),
  };
}

/** The model as a protobuf object, for tests that then break it in ways the spec cannot say. */
export function modelProto(spec: ModelSpec): OnnxTypes.IModelProto {
  return {
    irVersion: 8,
    producerName: 'kiln-tests',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    graph: graphProto({ ...spec, name: spec.name ?? 'model' }),
  };
}

export function encodeModel(m: OnnxTypes.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish();
}

export function buildModel(spec: ModelSpec): Uint8Array {
  return encodeModel(modelProto(spec));
}

/** `y = Relu(x)` (float32 [2, 3]) as a protobuf object, with the given graph and model fields overridden. */
export function reluModel(
  graph: Partial<OnnxTypes.IGraphProto> = {},
  model: Partial<OnnxTypes.IModelProto> = {},
): OnnxTypes.IModelProto {
  const base = modelProto({
    name: 'relu',
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [2, 3] }],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  });
  return { ...base, graph: { ...base.graph, ...graph }, ...model };
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32) for weights, inputs and fuzzing. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomTensor(dims: number[], rand: () => number, scale = 1): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * scale;
  return { dtype: 'float32', dims, data };
}
