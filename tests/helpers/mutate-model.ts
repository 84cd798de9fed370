/**
 * Seeded mutations of ONNX model bytes for fuzzing: byte-level damage and structured edits that keep the
 * protobuf decodable but make the model inconsistent. Reusable by full-compile fuzz tests.
 */
import { onnx, type OnnxTypes } from '../../src/frontend/onnx/proto.js';

export type Rand = () => number;

const int = (rand: Rand, n: number) => Math.floor(rand() * n);
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[int(rand, xs.length)];

function splice(bytes: Uint8Array, at: number, remove: number, insert: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

function randomBytes(rand: Rand, n: number): number[] {
  return Array.from({ length: n }, () => int(rand, 256));
}

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return out;
}

/** A varint encoding of a large or boundary value, to plant where lengths and tags are read. */
function hostileVarint(rand: Rand): number[] {
  return varint(
    pick(rand, [2n ** 31n, 2n ** 32n - 1n, 2n ** 35n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, 0n]),
  );
}

type ByteMutation = (b: Uint8Array, rand: Rand) => Uint8Array;

const BYTE_MUTATIONS: Record<string, ByteMutation> = {
  flip: (b, rand) => {
    const out = new Uint8Array(b); // a copy even for a Node Buffer, whose slice() is a view
    for (let k = 1 + int(rand, 4); k > 0 && out.length > 0; k--)
      out[int(rand, out.length)] ^= 1 << int(rand, 8);
    return out;
  },
  truncate: (b, rand) => new Uint8Array(b.subarray(0, int(rand, b.length))),
  insert: (b, rand) => splice(b, int(rand, b.length + 1), 0, randomBytes(rand, 1 + int(rand, 8))),
  delete: (b, rand) => {
    const at = int(rand, b.length);
    return splice(b, at, Math.min(1 + int(rand, 8), b.length - at), []);
  },
  varint: (b, rand) => {
    const at = int(rand, b.length);
    const v = hostileVarint(rand);
    return splice(b, at, Math.min(v.length, b.length - at), v);
  },
};

type Model = OnnxTypes.ModelProto;

/** All graphs of the model, subgraphs included. */
function graphs(m: Model): OnnxTypes.IGraphProto[] {
  const out: OnnxTypes.IGraphProto[] = [];
  const visit = (g: OnnxTypes.IGraphProto | null | undefined) => {
    if (!g) return;
    out.push(g);
    for (const n of g.node ?? [])
      for (const a of n.attribute ?? []) [a.g, ...(a.graphs ?? [])].forEach(visit);
  };
  visit(m.graph);
  return out;
}

const tensors = (m: Model) => graphs(m).flatMap((g) => g.initializer ?? []);
const nodes = (m: Model) => graphs(m).flatMap((g) => g.node ?? []);
const attributes = (m: Model) => nodes(m).flatMap((n) => n.attribute ?? []);
const valueInfos = (m: Model) => graphs(m).flatMap((g) => [...(g.input ?? []), ...(g.output ?? [])]);

/** Structured edits; each returns false when the model has nothing it applies to, or the model's bytes when it encodes them itself. */
const STRUCTURED: Record<string, (m: Model, rand: Rand) => boolean | Uint8Array> = {
  tensorDim: (m, rand) => {
    const t = pick(
      rand,
      tensors(m).filter((x) => (x.dims?.length ?? 0) > 0),
    );
    if (!t) return false;
    t.dims![int(rand, t.dims!.length)] = pick(rand, [-1, 2 ** 40, 2 ** 31, 0, 3]);
    return true;
  },
  valueDim: (m, rand) => {
    const dims = valueInfos(m).flatMap((v) => v.type?.tensorType?.shape?.dim ?? []);
    if (dims.length === 0) return false;
    pick(rand, dims).dimValue = pick(rand, [-1, 2 ** 40, 2 ** 53 + 2]);
    return true;
  },
  rawDataLength: (m, rand) => {
    const t = pick(rand, tensors(m));
    if (!t) return false;
    const len = t.rawData?.length ?? 0;
    t.rawData = new Uint8Array(Math.max(0, len + pick(rand, [-1, 1, -len, 7, 4096])));
    return true;
  },
  valueDtype: (m, rand) => {
    const types = valueInfos(m).flatMap((v) => (v.type?.tensorType ? [v.type.tensorType] : []));
    if (types.length === 0) return false;
    // undefined, string, complex64, bfloat16, out of range
    pick(rand, types).elemType = pick(rand, [0, 8, 14, 16, 99]);
    return true;
  },
  cycle: (m, rand) => {
    // an earlier node reads a later node's output: a cycle wherever the later one depends on it
    const ns = (m.graph?.node ?? []).filter((n) => (n.input?.length ?? 0) > 0 && (n.output?.length ?? 0) > 0);
    if (ns.length < 2) return false;
    const later = 1 + int(rand, ns.length - 1);
    const earlier = int(rand, later);
    ns[earlier].input![int(rand, ns[earlier].input!.length)] = ns[later].output![0];
    return true;
  },
  dataType: (m, rand) => {
    const t = pick(rand, tensors(m));
    if (!t) return false;
    t.dataType = int(rand, 24);
    return true;
  },
  attributeType: (m, rand) => {
    const a = pick(rand, attributes(m));
    if (!a) return false;
    a.type = pick(
      rand,
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 99],
    ) as OnnxTypes.AttributeProto.AttributeType;
    return true;
  },
  danglingInput: (m, rand) => {
    const n = pick(
      rand,
      nodes(m).filter((x) => (x.input?.length ?? 0) > 0),
    );
    if (!n) return false;
    n.input![int(rand, n.input!.length)] = 'no_such_value';
    return true;
  },
  duplicateOutput: (m, rand) => {
    const ns = m.graph?.node ?? [];
    if (ns.length < 2) return false;
    const [a, b] = [pick(rand, ns), pick(rand, ns)];
    if (a.output?.length && b.output?.length) b.output[0] = a.output[0];
    return true;
  },
  dropOpType: (m, rand) => {
    const n = pick(rand, nodes(m));
    if (!n) return false;
    n.opType = '';
    return true;
  },
  externalEscape: (m, rand) => {
    const t = pick(rand, tensors(m));
    if (!t) return false;
    t.dataLocation = 1;
    t.externalData = [{ key: 'location', value: pick(rand, ['../outside.bin', '/etc/passwd', 'w.bin']) }];
    return true;
  },
  dropOpsets: (m) => {
    m.opsetImport = [];
    return true;
  },
  deepNesting: (m, rand) => {
    // the graph as the then_branch of nested Ifs, sometimes far past the frontend's depth limit
    if (!m.graph) return false;
    return nestInIfs(m, pick(rand, [3, 40, 5000]));
  },
};

/** The key and length of a length-delimited protobuf field. */
const fieldHead = (field: number, length: number) => [
  ...varint(BigInt((field << 3) | 2)),
  ...varint(BigInt(length)),
];

/**
 * The model with its graph wrapped `depth` times as the then_branch of an If node, encoded from the
 * inside out: protobufjs encodes nested messages recursively, and thousands of levels overflow its stack.
 */
function nestInIfs(m: Model, depth: number): Uint8Array {
  const graph = m.graph!;
  const inner = onnx.GraphProto.encode(graph).finish();
  const levels: number[][] = [];
  let length = inner.length;
  for (let i = 0; i < depth; i++) {
    // GraphProto.node = 1, NodeProto.attribute = 5, AttributeProto.g = 6
    const attribute = [
      ...onnx.AttributeProto.encode({ name: 'then_branch', type: 5 }).finish(),
      ...fieldHead(6, length),
    ];
    const node = [
      ...onnx.NodeProto.encode({ opType: 'If' }).finish(),
      ...fieldHead(5, attribute.length + length),
    ];
    const nodeLength = node.length + attribute.length + length;
    const wrapper = [
      ...onnx.GraphProto.encode({ name: `wrap${i}`, output: graph.output }).finish(),
      ...fieldHead(1, nodeLength),
    ];
    levels.push([...wrapper, ...node, ...attribute]);
    length = wrapper.length + nodeLength;
  }
  m.graph = null;
  const head = [...onnx.ModelProto.encode(m).finish(), ...fieldHead(7, length)]; // ModelProto.graph = 7
  const out = new Uint8Array(head.length + levels.reduce((n, l) => n + l.length, 0) + inner.length);
  let at = 0;
  for (const part of [head, ...levels.reverse(), inner]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export const MUTATION_KINDS = [...Object.keys(BYTE_MUTATIONS), ...Object.keys(STRUCTURED)];

/** One random mutation of `bytes` (a valid ONNX model). `kind` says which, for failure reports. */
export function mutateModel(bytes: Uint8Array, rand: Rand): { kind: string; bytes: Uint8Array } {
  const kind = pick(rand, MUTATION_KINDS);
  if (kind in BYTE_MUTATIONS) return { kind, bytes: BYTE_MUTATIONS[kind](bytes, rand) };
  const model = onnx.ModelProto.decode(bytes);
  const edited = STRUCTURED[kind](model, rand);
  if (!edited) return { kind: 'flip', bytes: BYTE_MUTATIONS.flip(bytes, rand) };
  return { kind, bytes: edited instanceof Uint8Array ? edited : onnx.ModelProto.encode(model).finish() };
}
