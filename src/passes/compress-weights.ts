/**
 * Weight compression (`--weights fp16|int8`): each large float32 initializer is stored in a smaller
 * dtype and restored by a node that reads only constants. Lowering puts such nodes into init(), so the
 * float32 weights are rebuilt once at load, weights.bin shrinks 2× (fp16) or 4× (int8), and the run
 * path is unchanged.
 *
 *   fp16: W → W (float16) + Cast(to=FLOAT)
 *   int8: W → W (int8) + scale, symmetric (zero point 0, scale = max|w| / 127), restored by
 *         DequantizeLinear from opset 13 and by Cast + Mul before it (DequantizeLinear has no axis there).
 *
 * The stored tensor keeps the weight's name (the manifest's weights table lists it under it); the
 * restored float32 value gets a new name and the nodes reading the weight are rewired to it.
 */
import type { Graph, Node, TensorType } from '../ir/graph.js';
import type { HostTensor } from '../ir/tensor.js';
import type { WeightQuant } from '../bundle/manifest.js';
import { contextOf, findOp, opsetOf, type OpContext } from '../ops/registry.js';
import { halfBits } from '../ir/float16.js';

export type WeightFormat = 'fp16' | 'int8';

/**
 * int8 weight matrices and kernels (rank ≥ 2) from this size: the int8 kernels read them with no restore
 * node, so small convs (a MobileNet's squeeze-excite and narrow 1×1 layers) shrink 4× too.
 */
export const MIN_INT8_WEIGHT_BYTES = 4 * 1024;

const ONNX_FLOAT = 1;
const INT8_MAX = 127;

/**
 * A weight's quantization parameters as the passes know them: per axis with the scales' values, which
 * the manifest lists as the place in weights.bin that holds them (src/compiler/quant-scales.ts).
 */
export interface QuantParams extends Omit<WeightQuant, 'scalesAt'> {
  scales?: number[];
}

export interface CompressedWeights {
  graph: Graph;
  /** int8 weights: stored weight name → its quantization parameters */
  quant: Map<string, QuantParams>;
}

interface Use {
  node: Node;
  input: number;
}

/** Compresses the float32 weights of `minBytes` or more (the bundle format's MIN_COMPRESSED_BYTES). */
export function compressWeights(graph: Graph, format: WeightFormat, minBytes: number): CompressedWeights {
  const uses = usesOf(graph);
  const pinned = new Set([...graph.outputs.map((o) => o.name), ...subgraphReads(graph.nodes)]);
  const taken = new Set([
    ...graph.initializers.keys(),
    ...graph.inputs.map((i) => i.name),
    ...graph.nodes.flatMap((n) => [...n.outputs, n.name]),
  ]);
  const freshName = (base: string) => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };

  const initializers = new Map(graph.initializers);
  const types = new Map(graph.types);
  const quant = new Map<string, QuantParams>();
  const restores: Node[] = [];
  const renamed = new Map<string, string>(); // weight name → restored float32 value
  const opset = graph.opsets[''] ?? 1;

  for (const [name, w] of graph.initializers) {
    const readers = uses.get(name) ?? [];
    const least =
      format === 'int8' && w.dims.length >= 2 ? Math.min(minBytes, MIN_INT8_WEIGHT_BYTES) : minBytes;
    if (w.dtype !== 'float32' || w.data.length * 4 < least || pinned.has(name) || readers.length === 0)
      continue;
    if (!readers.every((u) => readsAtRunTime(graph, u.node, name))) continue;
    const restored = freshName(`${name}/float32`);
    renamed.set(name, restored);
    types.set(restored, { dtype: 'float32', shape: [...w.dims] });
    if (format === 'fp16') {
      initializers.set(name, toFloat16(w));
      types.set(name, { dtype: 'float16', shape: [...w.dims] });
      restores.push(castNode(freshName(`${name}/cast`), name, restored));
      continue;
    }
    const axis = channelAxis(readers, w.dims.length);
    const q = quantizeInt8(w, axis);
    initializers.set(name, q.tensor);
    types.set(name, { dtype: 'int8', shape: [...w.dims] });
    const scaleName = freshName(`${name}/scale`);
    quant.set(name, q.params);
    if (opset >= 13) {
      const scale = scaleTensor(q.scales, axis === undefined ? [] : [w.dims[axis]]);
      initializers.set(scaleName, scale);
      types.set(scaleName, { dtype: 'float32', shape: scale.dims });
      restores.push({
        op: 'DequantizeLinear',
        domain: '',
        name: freshName(`${name}/dequantize`),
        inputs: [name, scaleName],
        outputs: [restored],
        attrs: axis === undefined ? {} : { axis },
      });
    } else {
      // The scale broadcasts against the weight: [1, .., C, .., 1] per channel, a scalar per tensor.
      const dims = axis === undefined ? [] : w.dims.map((d, i) => (i === axis ? d : 1));
      const scale = scaleTensor(q.scales, dims);
      initializers.set(scaleName, scale);
      types.set(scaleName, { dtype: 'float32', shape: dims });
      const asFloat = freshName(`${name}/int8_as_float32`);
      types.set(asFloat, { dtype: 'float32', shape: [...w.dims] });
      restores.push(castNode(freshName(`${name}/cast`), name, asFloat), {
        op: 'Mul',
        domain: '',
        name: freshName(`${name}/scale_mul`),
        inputs: [asFloat, scaleName],
        outputs: [restored],
        attrs: {},
      });
    }
  }

  const rewired = graph.nodes.map((n) =>
    n.inputs.some((i) => renamed.has(i)) ? { ...n, inputs: n.inputs.map((i) => renamed.get(i) ?? i) } : n,
  );
  return { graph: { ...graph, initializers, types, nodes: [...restores, ...rewired] }, quant };
}

function usesOf(graph: Graph): Map<string, Use[]> {
  const uses = new Map<string, Use[]>();
  for (const node of graph.nodes)
    node.inputs.forEach((name, input) => {
      if (name !== '') uses.set(name, [...(uses.get(name) ?? []), { node, input }]);
    });
  return uses;
}

/** Names read inside If/Loop/Scan bodies: they may refer to outer constants by name, so those stay. */
function subgraphReads(nodes: Node[]): string[] {
  const names: string[] = [];
  for (const node of nodes)
    for (const a of Object.values(node.attrs)) {
      const graphs = (Array.isArray(a) ? a : [a]).filter(
        (g): g is Graph => typeof g === 'object' && 'nodes' in g,
      );
      for (const g of graphs) names.push(...g.nodes.flatMap((n) => n.inputs), ...subgraphReads(g.nodes));
    }
  return names;
}

/**
 * Whether the reader still types the same once the weight is a value computed by init() rather than a
 * compile-time constant: ops that need an input's values (a Resize scale, RoiAlign rois) keep float32.
 */
function readsAtRunTime(graph: Graph, node: Node, weight: string): boolean {
  const def = findOp(node.op, node.domain, opsetOf(graph.opsets, node));
  if (!def) return false;
  const ctx = (constant: (name: string) => HostTensor | undefined): OpContext =>
    contextOf(node, graph.opsets, (n) => graph.types.get(n), constant);
  try {
    const before = def.infer(ctx((n) => graph.initializers.get(n)));
    const after = def.infer(ctx((n) => (n === weight ? undefined : graph.initializers.get(n))));
    return sameTypes(before, after);
  } catch {
    return false;
  }
}

function sameTypes(a: TensorType[], b: TensorType[]): boolean {
  return (
    a.length === b.length && a.every((t, i) => t.dtype === b[i].dtype && t.shape.join() === b[i].shape.join())
  );
}

/**
 * The output-channel axis of a weight, so each channel gets its own scale: Conv W [M, C, ...] → 0,
 * ConvTranspose W [C, M/g, ...] → 1, Gemm B → 0 when transposed else 1, MatMul B [.., K, N] → last.
 * Other readers, or readers that disagree, get one scale for the whole tensor.
 */
function channelAxis(readers: Use[], rank: number): number | undefined {
  const axes = new Set(
    readers.map(({ node, input }): number | undefined => {
      if (node.domain !== '' || input !== 1 || rank < 2) return undefined;
      if (node.op === 'Conv') return 0;
      if (node.op === 'ConvTranspose') return 1;
      if (node.op === 'Gemm') return node.attrs.transB === 1 ? 0 : 1;
      if (node.op === 'MatMul') return rank - 1;
      return undefined;
    }),
  );
  return axes.size === 1 ? [...axes][0] : undefined;
}

function castNode(name: string, input: string, output: string): Node {
  return { op: 'Cast', domain: '', name, inputs: [input], outputs: [output], attrs: { to: ONNX_FLOAT } };
}

function scaleTensor(scales: number[], dims: number[]): HostTensor {
  return { dtype: 'float32', dims, data: Float32Array.from(scales) };
}

/** Symmetric int8: q = round(w / scale) in [−127, 127], so −w quantizes to −q. */
function quantizeInt8(
  w: HostTensor,
  axis: number | undefined,
): { tensor: HostTensor; scales: number[]; params: QuantParams } {
  const data = w.data as Float32Array;
  const channels = axis === undefined ? 1 : w.dims[axis];
  // Elements of one channel repeat in runs of `inner` every `channels * inner` elements.
  const inner = axis === undefined ? data.length : w.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const maxAbs = new Array<number>(channels).fill(0);
  for (let i = 0; i < data.length; i++) {
    const c = channelOf(i);
    maxAbs[c] = Math.max(maxAbs[c], Math.abs(data[i]));
  }
  // An all-zero channel quantizes to zeros under any scale; 1 keeps the division finite.
  const scales = maxAbs.map((m) => Math.fround(m > 0 ? m / INT8_MAX : 1));
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] / scales[channelOf(i)];
    q[i] = Math.max(-INT8_MAX, Math.min(INT8_MAX, Math.sign(v) * Math.round(Math.abs(v))));
  }
  const params: QuantParams = { scale: Math.max(...scales), zeroPoint: 0, dtype: 'int8' };
  return {
    tensor: { dtype: 'int8', dims: [...w.dims], data: q },
    scales,
    params: axis === undefined ? params : { ...params, axis, scales },
  };
}

function toFloat16(w: HostTensor): HostTensor {
  const data = w.data as Float32Array;
  const half = new Uint16Array(data.length);
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  for (let i = 0; i < data.length; i++) half[i] = halfBits(bits[i]);
  return { dtype: 'float16', dims: [...w.dims], data: half };
}
