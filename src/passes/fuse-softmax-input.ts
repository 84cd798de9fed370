/**
 * Softmax over the last axis whose input only an elementwise chain makes — attention's scores scaled by
 * √d and masked, MatMul(Q,Kᵀ) → Div (or Mul) → Add(mask) → Softmax as exporters write it, which
 * passes/fuse-elementwise.ts has made one `kiln.Fused` node — becomes one kiln.FusedSoftmax node
 * (src/ops/reduce/fused-softmax.ts) that computes the chain as it reads each row: the scaled, masked scores
 * are never stored and read back. Fused when the chain's result is float32, read by that Softmax alone and
 * no graph output. The WGSL generator keeps the two nodes (compile.ts runs this pass on the graph of the
 * wasm lowering only; the webgpu target lowers the unfused graph).
 */
import { readersOf, type Graph, type Node, type TensorType } from '../ir/graph.js';
import { FUSED_DOMAIN, fusedBody, isFusedChain, withFused } from '../ops/fused.js';
import { FUSED_SOFTMAX } from '../ops/reduce/fused-softmax.js';
import { attrInt, findOp, opsetOf } from '../ops/registry.js';

export function fuseSoftmaxInputs(graph: Graph): Graph {
  const readers = readersOf(graph);
  const producers = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  for (const softmax of graph.nodes) {
    if (!overLastAxis(graph, softmax)) continue;
    const input = softmax.inputs[0];
    const chain = producers.get(input);
    if (!chain || graphOutputs.has(input) || readers.get(input)?.length !== 1) continue;
    const body = chainBody(graph, chain);
    if (!body) continue;
    const merged: Graph = {
      ...graph,
      types: new Map([...graph.types, ...body.types]),
      initializers: new Map([...graph.initializers, ...body.initializers]),
    };
    const node: Node = {
      name: `${chain.name}+${softmax.name}`,
      op: FUSED_SOFTMAX,
      domain: FUSED_DOMAIN,
      inputs: chain.inputs,
      outputs: softmax.outputs,
      attrs: {},
    };
    const nodes = body.nodes.flatMap((n) => scaledByReciprocal(merged, n));
    for (const n of nodes) if (!merged.types.has(n.outputs[0])) merged.types.set(n.outputs[0], scalarType);
    removed.add(chain);
    replaced.set(softmax, { ...withFused(merged, node, nodes), outputs: softmax.outputs });
  }
  if (removed.size === 0) return graph;
  return { ...graph, nodes: graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n) };
}

const scalarType: TensorType = { dtype: 'float32', shape: [] };

/**
 * A Div by a one-element float32 constant (the scale 1/√d) as a Mul by its Reciprocal: the row loops
 * compute 1/c once (a loop-invariant value) and multiply each score, as onnxruntime's own attention
 * multiplies by its scale, rather than divide (an f32x4.div per four scores, the costliest op of the
 * row's first pass). x·(1/c) is within an ulp of x/c.
 */
function scaledByReciprocal(graph: Graph, node: Node): Node[] {
  const divisor = graph.initializers.get(node.inputs[1]);
  if (node.op !== 'Div' || node.domain !== '' || divisor?.dtype !== 'float32' || divisor.data.length !== 1)
    return [node];
  const reciprocal = `${node.outputs[0]}/reciprocal`;
  return [
    {
      name: `${node.name}/reciprocal`,
      op: 'Reciprocal',
      domain: '',
      inputs: [node.inputs[1]],
      outputs: [reciprocal],
      attrs: {},
    },
    { ...node, op: 'Mul', inputs: [node.inputs[0], reciprocal] },
  ];
}

/** Whether `node` is a float32 Softmax over its input's last axis (the 2-D coercion of opset < 13 too). */
function overLastAxis(graph: Graph, node: Node): boolean {
  if (node.op !== 'Softmax' || node.domain !== '' || node.outputs.length !== 1) return false;
  const x = graph.types.get(node.inputs[0]);
  if (x?.dtype !== 'float32' || x.shape.length === 0) return false;
  const rank = x.shape.length;
  const axis = attrInt(node, 'axis', opsetOf(graph.opsets, node) < 13 ? 1 : -1);
  return axis === -1 || axis === rank - 1;
}

/** The elementwise nodes `chain` computes: a `kiln.Fused` node's body, or the one elementwise node. */
function chainBody(graph: Graph, chain: Node): Pick<Graph, 'nodes' | 'types' | 'initializers'> | undefined {
  if (chain.outputs.length !== 1) return undefined;
  if (isFusedChain(chain)) return fusedBody(chain);
  const def = findOp(chain.op, chain.domain, opsetOf(graph.opsets, chain));
  return chain.domain === '' && def?.elementwise
    ? { nodes: [chain], types: graph.types, initializers: graph.initializers }
    : undefined;
}
