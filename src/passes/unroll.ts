/**
 * What the compile-time unrolling of control flow (control-flow.ts) and the run-time one (run-time-loop.ts)
 * share: the specializer's environment, the unroll limits, and stacking per-iteration values.
 */
import type { AttrValue, Graph, Node, TensorType, ValueInfo } from '../ir/graph.js';
import { allocTensor, tensorFromNumbers, type HostTensor } from '../ir/tensor.js';
import { OpError } from '../ops/registry.js';
import type { Inlined } from './inline-if.js';
import type { DataShapeEnv } from './data-shapes.js';

/** A model that unrolls further than this is refused instead of growing without bound. */
export const MAX_UNROLLED_ITERATIONS = 10_000;
export const MAX_UNROLLED_NODES = 250_000;

/** What the specializer knows when it reaches a control-flow node. */
export interface ControlFlowEnv {
  consts: Map<string, HostTensor>;
  types: Map<string, TensorType>;
  /** the graph being specialized: its inputs are named when a value must be known at compile time */
  graph: Graph;
  /** the nodes kept so far (not folded), to trace a run-time value back to the model inputs it uses */
  kept: Node[];
  /** bounds and symbols of sizes fed at run time (a Loop's trip count) */
  dataShapes: DataShapeEnv;
}

/**
 * `values` stacked along a new `axis` into `output` (Unsqueeze each, then Concat). No values (zero
 * iterations) give an empty constant, whose type only the body's declaration can tell.
 */
export function stack(
  node: Node,
  opset: number,
  values: string[],
  axis: number,
  output: string,
  element: ValueInfo,
  what: string,
): Inlined {
  const name = `${node.name}/${output}`;
  if (values.length === 0) {
    const dims = element.shape.filter((d): d is number => typeof d === 'number');
    if (element.untyped || dims.length !== element.shape.length || element.dtype === 'string')
      throw new OpError(
        node,
        opset,
        `runs zero iterations, so the shape of ${what} ("${element.name}") must come from the body's declaration, which does not fix it (declared [${element.shape.join(',')}])`,
      );
    const at = normalizeAxis(node, opset, axis, dims.length + 1, what);
    dims.splice(at, 0, 0);
    return { nodes: [], initializers: new Map([[output, allocTensor(element.dtype, dims)]]) };
  }
  const initializers = new Map<string, HostTensor>();
  const axesName = `${name}:axes`;
  const axesAsInput = opset >= 13;
  if (axesAsInput) initializers.set(axesName, tensorFromNumbers('int64', [1], [axis]));
  const attrs: Record<string, AttrValue> = axesAsInput ? {} : { axes: [axis] };
  const nodes: Node[] = values.map((v, t) => ({
    op: 'Unsqueeze',
    domain: '',
    name: `${name}/unsqueeze_${t}`,
    inputs: axesAsInput ? [v, axesName] : [v],
    outputs: [`${name}:${t}`],
    attrs,
  }));
  nodes.push({
    op: 'Concat',
    domain: '',
    name: `${name}/concat`,
    inputs: nodes.map((n) => n.outputs[0]),
    outputs: [output],
    attrs: { axis },
  });
  return { nodes, initializers };
}

export function append(into: Inlined, from: Inlined): void {
  into.nodes.push(...from.nodes);
  for (const [name, t] of from.initializers) into.initializers.set(name, t);
}

export function normalizeAxis(node: Node, opset: number, axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw new OpError(node, opset, `axis ${axis} of ${what} is out of range for rank ${rank}`);
  return a;
}

export function checkUnrollSize(
  node: Node,
  opset: number,
  iterations: number,
  nodesPerIteration: number,
): void {
  if (iterations > MAX_UNROLLED_ITERATIONS)
    throw new OpError(
      node,
      opset,
      `would unroll more than ${MAX_UNROLLED_ITERATIONS} iterations; loops are unrolled at compile time`,
    );
  if (iterations * nodesPerIteration > MAX_UNROLLED_NODES)
    throw new OpError(
      node,
      opset,
      `would unroll ${iterations} iterations of ${nodesPerIteration} nodes, more than the ${MAX_UNROLLED_NODES} nodes allowed; loops are unrolled at compile time`,
    );
}
