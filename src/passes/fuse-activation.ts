/**
 * Epilogue fusion: Relu or Clip right after a float32 Conv, ConvTranspose, Gemm or MatMul is applied by the
 * GEMM as it writes its tile (GemmStmt.act), or by the store that writes each output element (a
 * ConvTranspose's col2im), instead of in a second pass over memory.
 *
 * Graph side: the producer takes over the activation's output and carries the activation node in its
 * fused body (src/ops/fused.ts, the one encoding of fusion; read back by `fusedActivation`), after the
 * bias Add that passes/fuse-bias.ts may have put there.
 * Kernel side: the op's lowering applies it (`fusesActivation`), or lowering applies it to the kernels
 * (`applyActivation` in src/kernels/rewrite/epilogue.ts).
 */
import { readersOf, type Graph, type Node } from '../ir/graph.js';
import { activationOf } from '../ops/fused-activation.js';
import { fusedBody, withFused } from '../ops/fused.js';

const PRODUCERS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export function fuseActivations(graph: Graph): Graph {
  const consumers = readersOf(graph);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  for (const node of graph.nodes) {
    if (!PRODUCERS.has(node.op) || node.domain !== '' || node.outputs.length !== 1) continue;
    const out = node.outputs[0];
    if (graph.types.get(out)?.dtype !== 'float32' || graphOutputs.has(out)) continue;
    const users = consumers.get(out) ?? [];
    if (users.length !== 1 || users[0].inputs[0] !== out) continue;
    if (!activationOf(users[0], graph)) continue;
    removed.add(users[0]);
    replaced.set(node, withFused(graph, node, [...(fusedBody(node)?.nodes ?? []), users[0]]));
  }
  return { ...graph, nodes: graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n) };
}
