/**
 * The indices a node reads from a model input's values (manifest IndexCheck): the runtime refuses an index
 * out of range before the run, naming the input, the node and the bound, as onnxruntime errors there. The
 * kernels themselves clamp every loaded index (ops/shape/common.ts safeIndex), which keeps them inside
 * their buffers but gives a wrong answer, so only indices no feed decides go unchecked: constants (checked
 * when folded), indices computed from other values (ArgMax's, TopK's), and axes known only at run time.
 */
import type { IndexCheck } from '../bundle/manifest.js';
import type { Graph, Node } from '../ir/graph.js';
import * as sym from '../ir/symbolic.js';
import { attrInt } from '../ops/registry.js';

/** The data axes an op's index tuple addresses, one per element of a tuple, given data's and indices' ranks. */
const INDEXED_AXES: Record<string, (node: Node, dataRank: number, indices: readonly number[]) => number[]> = {
  Gather: (node, r) => [axisOf(node, r)],
  GatherElements: (node, r) => [axisOf(node, r)],
  ScatterElements: (node, r) => [axisOf(node, r)],
  Scatter: (node, r) => [axisOf(node, r)],
  GatherND: (node, _r, indices) => tupleAxes(attrInt(node, 'batch_dims', 0), indices),
  ScatterND: (_node, _r, indices) => tupleAxes(0, indices),
};

const axisOf = (node: Node, rank: number) => {
  const axis = attrInt(node, 'axis', 0);
  return axis < 0 ? axis + rank : axis;
};

/** GatherND's and ScatterND's tuples: the last dim of indices, addressing data's axes from `first` on. */
const tupleAxes = (first: number, indices: readonly number[]) =>
  Array.from({ length: indices[indices.length - 1] ?? 0 }, (_, j) => first + j);

/** One check per node of `graph` that reads indices straight from one of `fed` (the model's inputs). */
export function fedIndexChecks(graph: Graph, fed: readonly string[]): IndexCheck[] {
  return graph.nodes.flatMap((node) => {
    const axesOf = node.domain === '' ? INDEXED_AXES[node.op] : undefined;
    const [dataName, input] = node.inputs;
    const [data, indices] = [graph.types.get(dataName), graph.types.get(input)];
    if (!axesOf || !fed.includes(input) || !data || !indices) return [];
    const axes = axesOf(node, data.shape.length, indices.shape);
    const dims = axes.map((a) => (data.symbolic ? sym.constValue(data.symbolic[a]) : data.shape[a]));
    // an axis known only at run time: its size is not in the manifest's terms here; the kernel clamps
    if (axes.length === 0 || dims.some((d) => d === undefined)) return [];
    return [{ input, node: node.name, op: node.op, axes, sizes: dims as number[] }];
  });
}
