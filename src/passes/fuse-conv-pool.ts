/**
 * Conv (or kiln.Int8Conv) → MaxPool as one node on the wasm target (src/ops/nn/conv-pool.ts): the pool
 * reads the conv's output band by band as it is made, so the whole conv output, a network's largest
 * activation after its first conv, is never in the arena. Fused when the conv output is float32 NCHW
 * with fixed shapes, read by that MaxPool alone (without Indices) and no graph output, adds no residual
 * (passes/fuse-residual.ts: the sum is what is pooled), and the conv is a
 * dense 2-D one that the panel or im2col lowering computes (not depthwise, one group, not a 1×1).
 * The WGSL generator keeps the two nodes (compile.ts runs this pass on the graph of the wasm lowering only;
 * the webgpu target lowers the unfused graph).
 */
import { readersOf, type Graph, type Node } from '../ir/graph.js';
import { graphContextOf } from '../ops/registry.js';
import { FUSED_DOMAIN } from '../ops/fused.js';
import { residualOf } from '../ops/fused-activation.js';
import { geometry } from '../ops/nn/conv.js';
import { shiftedConvFits } from '../ops/nn/conv-shifted.js';
import { bandsFit, pooledBy, poolWindow, withPool } from '../ops/nn/conv-pool.js';

const isConv = (n: Node) =>
  (n.op === 'Conv' && n.domain === '') || (n.op === 'Int8Conv' && n.domain === FUSED_DOMAIN);

export function fuseConvPools(graph: Graph): Graph {
  const consumers = readersOf(graph);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  for (const node of graph.nodes) {
    if (!isConv(node) || node.outputs.length !== 1 || residualOf(node) !== undefined) continue;
    const out = node.outputs[0];
    const users = consumers.get(out) ?? [];
    const pool = users[0];
    if (graphOutputs.has(out) || users.length !== 1 || pool.op !== 'MaxPool' || pool.domain !== '') continue;
    if (pool.inputs[0] !== out || pool.outputs.slice(1).some((o) => o !== '')) continue;
    const fused = withPool(graph, node, pool);
    if (!fits(graph, fused)) continue;
    removed.add(pool);
    replaced.set(node, fused);
  }
  return { ...graph, nodes: graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n) };
}

/** Whether `fused` (a conv carrying its MaxPool) lowers band by band: see the top of this file. */
function fits(graph: Graph, fused: Node): boolean {
  const body = pooledBy(fused)!;
  const types = [fused.inputs[0], body.nodes[0].inputs[0], fused.outputs[0]].map((n) => graph.types.get(n));
  if (types.some((t) => !t || t.dtype !== 'float32' || t.symbolic || t.shape.length !== 4)) return false;
  const ctx = graphContextOf(graph, fused);
  // kiln.Int8Conv's W is int8: Conv's geometry checks read it as float32
  const g = geometry({
    ...ctx,
    inputs: ctx.inputs.map((t, i) => (i === 1 && t ? { ...t, dtype: 'float32' } : t)),
  });
  const pointwise = g.window.kernel.every((k) => k === 1);
  if (g.group !== 1 || pointwise || (fused.op === 'Conv' && shiftedConvFits(g))) return false;
  return bandsFit(poolWindow(body, types[1]!), g.window.out);
}
