/**
 * A nearest Resize by whole factors (each element copied to a kh×kw block: ops/shape/upsample-blocks.ts)
 * whose only reader is a Concat folds into it on the wasm target: the Concat reads the coarse map and
 * writes its blocks straight into its own output (UPSAMPLED_INPUTS_ATTR), so the upsampled map is never
 * written nor copied again. DBNet's head concatenates its four FPN levels upsampled ×8, ×4, ×2 to the
 * finest one: three 1.2 MiB maps written, then read and written again by the Concat's copies.
 *
 * Folded where the Concat's output has fixed dims, every dim before its axis 1 and the axis before the
 * last two (channels of one image: each input is one contiguous block of the output). The wasm lowering
 * (compiler/lower.ts `lowerGraph`) folds them where it copies Concats: one written in place
 * (compiler/concat-in-place.ts) needs no fold, its Resizes writing their blocks of it; not for a bundle
 * with the webgpu target, whose lowering keeps the Resize, whose constants both must place in weights.bin.
 */
import { readersOf, type Graph, type Node } from '../ir/graph.js';
import { graphContextOf } from '../ops/registry.js';
import { staticBlockFactors } from '../ops/shape/resize.js';
import { concatAxis, UPSAMPLED_INPUTS_ATTR } from '../ops/shape/concat-split.js';

export function foldConcatUpsamples(graph: Graph): Graph {
  const readers = readersOf(graph);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const producer = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const ctxOf = (n: Node) => graphContextOf(graph, n);
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  for (const node of graph.nodes) {
    if (node.op !== 'Concat' || node.domain !== '' || node.attrs[UPSAMPLED_INPUTS_ATTR] !== undefined)
      continue;
    const out = graph.types.get(node.outputs[0]);
    if (!out || out.symbolic || out.shape.length < 3) continue;
    const rank = out.shape.length;
    const axis = concatAxis(ctxOf(node), rank);
    if (axis >= rank - 2 || out.shape.slice(0, axis).some((d) => d !== 1)) continue;
    const inputs = [...node.inputs];
    const factors: number[] = [];
    const folded: Node[] = [];
    node.inputs.forEach((name, i) => {
      const resize = producer.get(name);
      const once = (readers.get(name) ?? []).length === 1 && node.inputs.indexOf(name) === i;
      const upsamples =
        resize?.domain === '' &&
        ['Resize', 'Upsample'].includes(resize.op) &&
        once &&
        !graphOutputs.has(name);
      const coarse = upsamples ? graph.types.get(resize.inputs[0]) : undefined;
      const blocks =
        coarse && !coarse.symbolic && coarse.dtype === out.dtype
          ? staticBlockFactors(ctxOf(resize!))
          : undefined;
      if (!blocks) {
        factors.push(1, 1);
        return;
      }
      inputs[i] = resize!.inputs[0];
      factors.push(...blocks);
      folded.push(resize!);
    });
    if (folded.length === 0) continue;
    folded.forEach((n) => removed.add(n));
    replaced.set(node, { ...node, inputs, attrs: { ...node.attrs, [UPSAMPLED_INPUTS_ATTR]: factors } });
  }
  if (removed.size === 0) return graph;
  return { ...graph, nodes: graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n) };
}
