/**
 * Elementwise fusion: a value produced by an elementwise op and read only by another elementwise op of
 * the same output shape is never stored; the chain becomes one `kiln.Fused` node (src/ops/fused.ts: one
 * loop, one pass over memory). Only dtypes whose compute type stores exactly are fused through, so a
 * fused chain rounds and wraps exactly like the unfused one.
 */
import type { Graph, Node } from '../ir/graph.js';
import type { DType } from '../ir/dtype.js';
import { findOp, opsetOf } from '../ops/registry.js';
import { FUSED_DOMAIN, withFused } from '../ops/fused.js';

const EXACT_INTERMEDIATES: readonly DType[] = [
  'float32',
  'float64',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'bool',
];

export function fuseElementwise(graph: Graph): Graph {
  const consumers = new Map<string, number>();
  for (const n of graph.nodes)
    for (const i of n.inputs) if (i !== '') consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const isElementwise = (n: Node) =>
    n.outputs.length === 1 && !!findOp(n.op, n.domain, opsetOf(graph.opsets, n))?.elementwise;

  // value name → the group (list of nodes, in order) whose last node produces it
  const groups = new Map<string, Node[]>();
  const order: Node[][] = [];
  for (const node of graph.nodes) {
    let group: Node[] = [node];
    if (isElementwise(node)) {
      const outShape = graph.types.get(node.outputs[0])!.shape.join(',');
      const absorbed: Node[] = [];
      for (const input of new Set(node.inputs)) {
        const producer = groups.get(input);
        const t = graph.types.get(input);
        if (
          producer &&
          t &&
          consumers.get(input) === 1 &&
          !graphOutputs.has(input) &&
          EXACT_INTERMEDIATES.includes(t.dtype) &&
          t.shape.join(',') === outShape
        ) {
          absorbed.push(...producer);
          groups.delete(input);
          order.splice(order.indexOf(producer), 1);
        }
      }
      group = [...absorbed, node];
      groups.set(node.outputs[0], group);
    }
    order.push(group);
  }
  return { ...graph, nodes: order.map((g) => (g.length === 1 ? g[0] : fusedNode(graph, g))) };
}

function fusedNode(graph: Graph, nodes: Node[]): Node {
  const produced = new Set(nodes.map((n) => n.outputs[0]));
  const inputs = [...new Set(nodes.flatMap((n) => n.inputs).filter((i) => i !== '' && !produced.has(i)))];
  const chain: Node = {
    op: 'Fused',
    domain: FUSED_DOMAIN,
    name: nodes.map((n) => n.name).join('+'),
    inputs,
    outputs: [],
    attrs: {},
  };
  return withFused(graph, chain, nodes);
}
