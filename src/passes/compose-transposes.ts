/**
 * Transpose of a Transpose → one Transpose by the composed permutation (output axis i walks the first
 * one's input axis p1[p2[i]]): attention's K goes [b, s, h, d] → [b, h, s, d] → [b, h, d, s] as exporters
 * write it (BERT's Transpose(0,2,1,3) then Transpose(0,1,3,2) for Kᵀ), one copy of the tensor instead of
 * two. Exact: both write the same elements. Taken when the inner result is read only by the outer
 * Transpose and is no graph output. compile.ts runs it for both targets, after fuse-layer-norm.
 */
import { readersOf, type Graph, type Node } from '../ir/graph.js';
import { permOf } from '../ops/shape/transpose.js';

export function composeTransposes(graph: Graph): Graph {
  const readers = readersOf(graph);
  const producers = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const isTranspose = (n: Node | undefined): n is Node => n?.op === 'Transpose' && n.domain === '';
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  for (const outer of graph.nodes) {
    if (!isTranspose(outer)) continue;
    const mid = outer.inputs[0];
    // an inner Transpose already composed into another one is that one's input now: take the newest node
    const inner = producers.get(mid);
    if (!isTranspose(inner) || graphOutputs.has(mid) || readers.get(mid)?.length !== 1) continue;
    const innerNow = replaced.get(inner) ?? inner;
    const rank = graph.types.get(mid)?.shape.length;
    if (rank === undefined) continue;
    const p1 = permOf(innerNow, rank);
    const p2 = permOf(outer, rank);
    removed.add(inner);
    replaced.set(outer, {
      ...outer,
      inputs: [innerNow.inputs[0]],
      attrs: { ...outer.attrs, perm: p2.map((p) => p1[p]) },
    });
  }
  if (removed.size === 0) return graph;
  return {
    ...graph,
    nodes: graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n),
  };
}
