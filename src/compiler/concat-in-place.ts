/**
 * Concats that cost nothing: where each input of a Concat is one contiguous block of its output
 * (`concatBlocks`: channels of one image, as SqueezeNet's fire modules and Inception-style blocks
 * concatenate) starting 16-byte aligned, computed by a run kernel for the Concat alone, the kernel writes its block of the output
 * in place and the Concat has no kernel. Without it the inputs and the output are all in the arena at
 * the Concat (SqueezeNet's fire2: two 0.74 MiB expands and their 1.48 MiB concatenation, the arena's
 * peak once the first conv is pooled in bands).
 */
import type { Graph, Node } from '../ir/graph.js';
import type { OpContext } from '../ops/registry.js';
import { concatBlocks, UPSAMPLED_INPUTS_ATTR } from '../ops/shape/concat-split.js';
import { dtypeBytes } from '../ir/dtype.js';
import { BUFFER_ALIGNMENT } from '../bundle/layout.js';

export interface Block {
  /** the Concat's output that the value is part of */
  into: string;
  /** the value's first element in it */
  offset: number;
}

interface Step {
  node: Node;
  ctx: OpContext;
  aliased: boolean;
}

/**
 * The values written into a Concat's output in place, and the Concat nodes that need no kernel.
 * `runSteps` in order; `graph` for every reader of a value (init and run steps, graph outputs).
 */
export function inPlaceConcats(
  graph: Graph,
  runSteps: readonly Step[],
): { blocks: Map<string, Block>; skipped: Set<Node> } {
  const readers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  for (const o of graph.outputs) readers.set(o.name, (readers.get(o.name) ?? 0) + 1);
  // values a run kernel computes as an output of its own (not an alias of its input)
  const computed = new Set(runSteps.flatMap((s) => (s.aliased ? s.node.outputs.slice(1) : s.node.outputs)));
  const blocks = new Map<string, Block>();
  const skipped = new Set<Node>();
  for (const { node, ctx } of runSteps) {
    if (node.op !== 'Concat' || node.domain !== '' || graph.types.get(node.outputs[0])?.symbolic) continue;
    // a coarse map that the Concat upsamples as it copies it is no block of its output
    if (node.attrs[UPSAMPLED_INPUTS_ATTR] !== undefined) continue;
    const offsets = concatBlocks(ctx);
    const ins = node.inputs;
    const own = (name: string) =>
      name !== '' &&
      computed.has(name) &&
      readers.get(name) === 1 &&
      !graph.types.get(name)?.symbolic &&
      ins.indexOf(name) === ins.lastIndexOf(name);
    // the code generator places every buffer 16-byte aligned: so must each block start
    const bytes = dtypeBytes(graph.types.get(node.outputs[0])!.dtype);
    const aligned = offsets?.every((o) => (o * bytes) % BUFFER_ALIGNMENT === 0);
    if (!offsets || !aligned || !ins.every(own)) continue;
    ins.forEach((name, i) => blocks.set(name, { into: node.outputs[0], offset: offsets[i] }));
    skipped.add(node);
  }
  return { blocks, skipped };
}
