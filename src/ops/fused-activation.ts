/**
 * The Relu or Clip a Conv, Gemm or MatMul applies as its GEMM's epilogue: `activationOf` says whether a
 * node is one (fuse-activation fuses it when so), `fusedActivation` reads it back from the producer's
 * fused body (src/ops/fused.ts) for the lowerings.
 */
import type { Graph, Node } from '../ir/graph.js';
import type { Activation } from '../kernels/ir.js';
import { tensorToNumbers } from '../ir/tensor.js';
import { fusedBody, isFusedChain } from './fused.js';
import { opsetOf } from './registry.js';

/** The activation `node` computes, when it is a Relu or a Clip with constant bounds in `graph`. */
export function activationOf(node: Node, graph: Graph): Activation | undefined {
  if (node.domain !== '') return undefined;
  if (node.op === 'Relu') return { op: 'relu' };
  if (node.op !== 'Clip') return undefined;
  if (opsetOf(graph.opsets, node) < 11) {
    const lo = node.attrs.min;
    const hi = node.attrs.max;
    return {
      op: 'clip',
      min: typeof lo === 'number' ? lo : -Infinity,
      max: typeof hi === 'number' ? hi : Infinity,
    };
  }
  const bound = (i: number, dflt: number) => {
    const name = node.inputs[i];
    if (!name) return dflt;
    const t = graph.initializers.get(name);
    return t && t.data.length === 1 ? tensorToNumbers(t)[0] : undefined;
  };
  const lo = bound(1, -Infinity);
  const hi = bound(2, Infinity);
  return lo === undefined || hi === undefined ? undefined : { op: 'clip', min: lo, max: hi };
}

/**
 * The activation fused into a producer node, if any: its fused body's one Relu or Clip, after the bias
 * Add that passes/fuse-bias.ts puts first (the bias itself is the node's input).
 */
export function fusedActivation(node: Node): Activation | undefined {
  const body = fusedBody(node);
  if (!body || isFusedChain(node)) return undefined;
  const nodes = body.nodes[0].op === 'Add' ? body.nodes.slice(1) : body.nodes;
  if (nodes.length === 0) return undefined;
  const act = nodes.length === 1 ? activationOf(nodes[0], body) : undefined;
  if (!act)
    throw new Error(
      `internal: ${node.op} node "${node.name}" has fused ops other than a bias Add and one Relu or Clip`,
    );
  return act;
}
