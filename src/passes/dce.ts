/** Dead-code elimination: keep only nodes that contribute to a graph output. */
import type { Graph } from '../ir/graph.js';

export function eliminateDeadCode(graph: Graph): Graph {
  const needed = new Set(graph.outputs.map((o) => o.name));
  const kept = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (!node.outputs.some((o) => needed.has(o))) continue;
    kept.push(node);
    for (const name of node.inputs) if (name !== '') needed.add(name);
  }
  kept.reverse();
  const initializers = new Map([...graph.initializers].filter(([name]) => needed.has(name)));
  return { ...graph, nodes: kept, initializers };
}
