/**
 * Weight pre-packing: rewrite nodes so constant weights arrive in the layout the kernels want.
 * A table of pattern → rewrite; each rewrite inserts ops that constant folding then evaluates at
 * compile time, so the packed weights land in weights.bin and nothing is repacked per run.
 */
import type { Graph, Node } from '../ir/graph.js';

interface Rewrite {
  op: string;
  /** the nodes replacing `node`, or undefined when the pattern does not apply */
  apply(node: Node, graph: Graph): Node[] | undefined;
}

const REWRITES: Rewrite[] = [
  {
    // Gemm(A, Bᵀ): the SIMD GEMM streams rows of B, so store B transposed once instead.
    op: 'Gemm',
    apply(node, graph) {
      const b = node.inputs[1];
      if (node.attrs.transB !== 1 || !graph.initializers.has(b)) return undefined;
      if (graph.initializers.get(b)!.dims.length !== 2) return undefined;
      const packed = `${b}/packed_kn`;
      const transpose: Node = {
        op: 'Transpose',
        domain: '',
        name: `${node.name}/pack_b`,
        inputs: [b],
        outputs: [packed],
        attrs: { perm: [1, 0] },
      };
      const inputs = [...node.inputs];
      inputs[1] = packed;
      return [transpose, { ...node, inputs, attrs: { ...node.attrs, transB: 0 } }];
    },
  },
];

export function prepackWeights(graph: Graph): Graph {
  const nodes = graph.nodes.flatMap((node) => {
    if (node.domain !== '') return [node];
    for (const r of REWRITES) if (r.op === node.op) return r.apply(node, graph) ?? [node];
    return [node];
  });
  return { ...graph, nodes };
}
