/**
 * Softmax over the last axis whose input only an elementwise chain makes — attention's scores scaled by
 * √d and masked, MatMul(Q,Kᵀ) → Div (or Mul) → Add(mask) → Softmax as exporters write it, which
 * passes/fuse-elementwise.ts has made one `kiln.Fused` node — becomes one kiln.FusedSoftmax node
 * (src/ops/reduce/fused-softmax.ts) that computes the chain as it reads each row: the scaled, masked scores
 * are never stored and read back. Fused when the chain's result is float32, read by that Softmax alone and
 * no graph output. The WGSL generator keeps the two nodes (compile.ts runs this pass on the graph of the
 * wasm lowering only; the webgpu target lowers the unfused graph).
 */
import { readersOf, type Graph, type Node } from '../ir/graph.js';
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
    removed.add(chain);
    replaced.set(softmax, { ...withFused(merged, node, body.nodes), outputs: softmax.outputs });
  }
  if (removed.size === 0) return graph;
  return { ...graph, nodes: graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n) };
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
