/**
 * The indices a node reads from a model input's values (manifest IndexCheck): the runtime refuses one out
 * of range before the run, naming the input, the node and the bounds, as onnxruntime errors there. The
 * kernels themselves clamp every loaded index (ops/shape/common.ts safeIndex; ReverseSequence's lengths,
 * MaxUnpool's skipped), which keeps them inside their buffers but gives a wrong answer. Constant indices
 * of a node that runs are refused here, at compile. Unchecked: indices computed from other values
 * (ArgMax's, TopK's), those of a node folded at compile (its result clamped as the kernel would), and
 * sizes known only at run time.
 */
import type { IndexBound, IndexCheck } from '../bundle/manifest.js';
import type { Graph, Node, TensorType } from '../ir/graph.js';
import * as sym from '../ir/symbolic.js';
import { sizeOf, tensorToNumbers } from '../ir/tensor.js';
import { attrInt, OpError, opsetOf } from '../ops/registry.js';

/** A data dim's size, or undefined when it is known only at run time. */
const fixedDim = (t: TensorType, axis: number) =>
  t.symbolic ? sym.constValue(t.symbolic[axis]) : t.shape[axis];

/** An index into `axis` of data: -size..size-1 (a negative one counts from the end). */
const axisIndex = (data: TensorType, axis: number): IndexBound | undefined => {
  const size = fixedDim(data, axis);
  return size === undefined
    ? undefined
    : { min: -size, max: size - 1, what: `an index into axis ${axis} (size ${size})` };
};

/** The bounds of each element of an op's index tuple, from data (input 0), indices and the output. */
type Bounds = (
  node: Node,
  data: TensorType,
  indices: TensorType,
  out: TensorType,
) => (IndexBound | undefined)[];

const axisOf = (node: Node, rank: number) => {
  const axis = attrInt(node, 'axis', 0);
  return axis < 0 ? axis + rank : axis;
};

/** GatherND's and ScatterND's tuples: the last dim of indices, addressing data's axes from `first` on. */
const tupleBounds = (first: number, data: TensorType, indices: TensorType) =>
  Array.from({ length: indices.shape[indices.shape.length - 1] ?? 0 }, (_, j) => axisIndex(data, first + j));

const alongAxis: Bounds = (node, data) => [axisIndex(data, axisOf(node, data.shape.length))];

const BOUNDS: Record<string, Bounds> = {
  Gather: alongAxis,
  GatherElements: alongAxis,
  ScatterElements: alongAxis,
  Scatter: alongAxis,
  GatherND: (node, data, indices) => tupleBounds(attrInt(node, 'batch_dims', 0), data, indices),
  ScatterND: (_node, data, indices) => tupleBounds(0, data, indices),
  ReverseSequence: (node, data) => {
    const axis = attrInt(node, 'time_axis', 0);
    const steps = fixedDim(data, axis);
    return [
      steps === undefined
        ? undefined
        : { min: 0, max: steps, what: `a length along axis ${axis} (size ${steps})` },
    ];
  },
  // flat positions in the output (the pooled tensor's shape) unless output_shape gives it another
  MaxUnpool: (node, _data, _indices, out) => {
    const count = sizeOf(out.shape);
    return node.inputs[2] || out.symbolic
      ? [undefined]
      : [{ min: 0, max: count - 1, what: `a position in its output of ${count} elements` }];
  },
};

/**
 * One check per node of `graph` that reads indices straight from one of `fed` (the model's inputs); a node
 * whose indices are a constant out of range is refused here, naming the element and the bounds.
 */
export function fedIndexChecks(graph: Graph, fed: readonly string[]): IndexCheck[] {
  return graph.nodes.flatMap((node) => {
    const boundsOf = node.domain === '' ? BOUNDS[node.op] : undefined;
    const [dataName, input] = node.inputs;
    const [data, indices, out] = [dataName, input, node.outputs[0]].map((n) => graph.types.get(n));
    const constant = graph.initializers.get(input);
    if (!boundsOf || !(fed.includes(input) || constant) || !data || !indices || !out) return [];
    const bounds = boundsOf(node, data, indices, out);
    if (bounds.length === 0 || bounds.some((b) => b === undefined)) return [];
    const check = { input, node: node.name, op: node.op, bounds: bounds as IndexBound[] };
    if (!constant) return [check];
    refuseOutOfRange(node, opsetOf(graph.opsets, node), check, tensorToNumbers(constant));
    return [];
  });
}

function refuseOutOfRange(node: Node, opset: number, check: IndexCheck, values: number[]): void {
  values.forEach((value, p) => {
    const { min, max, what } = check.bounds[p % check.bounds.length];
    if (value < min || value > max)
      throw new OpError(
        node,
        opset,
        `constant "${check.input}" element ${p} is ${value}, outside ${min}..${max}: the node reads it as ${what}`,
      );
  });
}
