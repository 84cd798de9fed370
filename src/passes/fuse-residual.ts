/**
 * Residual epilogue fusion: a float32 Conv, Gemm or MatMul whose result only an Add of another tensor
 * of the same shape reads (a residual connection: ResNet's Conv → Add(skip) → Relu, BERT's MatMul + bias
 * → Add(residual) → LayerNorm) adds that tensor as its GEMM writes each tile (GemmStmt.residual), then
 * the activation after the Add: act(y + skip), the sum never stored and read back.
 *
 * Graph side: the producer takes the skip tensor as its input RESIDUAL_INPUT (src/ops/fused-activation.ts;
 * '' pads the optional bias before it) and carries the Add, with the Relu, Clip or chain of scalar
 * elementwise ops after it that passes/fuse-elementwise.ts put in one `kiln.Fused` node, in its fused
 * body; it moves to the Add's place, where the skip tensor has been computed. Kernel side: the compiler
 * applies the residual and that activation to the producer's kernels (`applyActivation`).
 *
 * Refused: a producer that already applies an activation (act(y) + skip is not act(y + skip)), a
 * broadcast skip tensor, a Conv with dims known only at run time (its spatial lowering applies its own
 * epilogue). The WGSL generator has no residual operand: compile.ts runs this pass on the graph of the
 * wasm lowering only (the webgpu target lowers the unfused graph).
 */
import { readersOf, type Graph, type Node, type TensorType } from '../ir/graph.js';
import {
  fusedActivation,
  RESIDUAL_INPUT,
  RESIDUAL_PRODUCERS,
  residualActivation,
  residualOf,
  RESIDUAL_BLOCKS_ATTR,
} from '../ops/fused-activation.js';
import { fusedBody, isFusedChain, withFused } from '../ops/fused.js';
import { isMappable } from '../kernels/rewrite/epilogue.js';
import { graphContextOf } from '../ops/registry.js';
import { geometry } from '../ops/nn/conv.js';
import { upsampledResidualFits } from '../ops/nn/conv-upsampled-residual.js';
import { staticBlockFactors } from '../ops/shape/resize.js';

/** the ops that add the skip tensor: Add, or Sum of two as older exporters (opset < 7 ResNets) write it */
const ADDS = new Set(['Add', 'Sum']);

/** `upsamples`: whether a nearest Resize of the skip tensor folds into the conv (`upsampledSkip`). */
export function fuseResiduals(graph: Graph, upsamples = true): Graph {
  const readers = readersOf(graph);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const removed = new Set<Node>();
  const placed = new Map<Node, Node>();
  for (const node of graph.nodes) {
    if (node.domain !== '' || !RESIDUAL_PRODUCERS.has(node.op) || node.outputs.length !== 1) continue;
    if (fusedActivation(node) || residualOf(node) !== undefined) continue;
    const out = node.outputs[0];
    const type = graph.types.get(out);
    if (type?.dtype !== 'float32' || graphOutputs.has(out)) continue;
    if (node.op === 'Conv' && type.symbolic) continue;
    const users = readers.get(out) ?? [];
    if (users.length !== 1 || placed.has(users[0])) continue;
    const chain = residualChain(graph, users[0], out);
    if (!chain || !sameType(type, graph.types.get(chain.skip))) continue;
    if (!sameType(type, graph.types.get(users[0].outputs[0]))) continue;
    const upsampled = upsamples ? upsampledSkip(graph, readers, node, chain.skip) : undefined;
    const inputs = [...node.inputs, '', ''].slice(0, RESIDUAL_INPUT);
    const merged: Graph = {
      ...graph,
      types: new Map([...graph.types, ...chain.types]),
      initializers: new Map([...graph.initializers, ...chain.initializers]),
    };
    const producer: Node = upsampled
      ? {
          ...node,
          inputs: [...inputs, upsampled.coarse],
          attrs: { ...node.attrs, [RESIDUAL_BLOCKS_ATTR]: upsampled.blocks },
        }
      : { ...node, inputs: [...inputs, chain.skip] };
    const fused = withFused(merged, producer, [...(fusedBody(node)?.nodes ?? []), ...chain.nodes]);
    const act = residualActivation(fused);
    if (act?.op === 'map' && !isMappable(act.value)) continue;
    removed.add(node);
    if (upsampled) removed.add(upsampled.resize);
    placed.set(users[0], fused);
  }
  if (removed.size === 0) return graph;
  return { ...graph, nodes: graph.nodes.filter((n) => !removed.has(n)).map((n) => placed.get(n) ?? n) };
}

/**
 * When `skip` is a nearest upsampling by whole factors (Resize or Upsample: each element copied to a
 * kh×kw block) read by the Add alone, and `conv` a 1×1 stride-1 unpadded one of one group with static
 * shapes: the coarse map, the factors and the Resize node, so that the conv reads the coarse map in blocks
 * (ops/nn/conv-upsampled-residual.ts) and the full-size upsampled map is never written nor read (an FPN's
 * top-down path: DBNet's conv(lateral) + Resize ×2 (coarser level)). Not for a bundle with the webgpu
 * target (compile.ts), whose lowering keeps the Resize and reads its constants.
 */
function upsampledSkip(
  graph: Graph,
  readers: Map<string, Node[]>,
  conv: Node,
  skip: string,
): { coarse: string; blocks: number[]; resize: Node } | undefined {
  if (conv.op !== 'Conv') return undefined;
  const resize = graph.nodes.find((n) => n.outputs[0] === skip);
  if (!resize || resize.domain !== '' || !['Resize', 'Upsample'].includes(resize.op)) return undefined;
  if ((readers.get(skip) ?? []).length !== 1 || graph.outputs.some((o) => o.name === skip)) return undefined;
  const ctxOf = (n: Node) => graphContextOf(graph, n);
  const coarse = graph.types.get(resize.inputs[0]);
  if (coarse?.dtype !== 'float32' || coarse.symbolic || coarse.shape.length !== 4) return undefined;
  const blocks = staticBlockFactors(ctxOf(resize));
  if (!blocks || !upsampledResidualFits(geometry(ctxOf(conv)))) return undefined;
  return { coarse: resize.inputs[0], blocks, resize };
}

/** Same dtype and shape, dims known at run time included. */
const sameType = (a: TensorType, b: TensorType | undefined): boolean =>
  b !== undefined &&
  a.dtype === b.dtype &&
  a.shape.join(',') === b.shape.join(',') &&
  JSON.stringify(a.symbolic ?? null) === JSON.stringify(b.symbolic ?? null);

/**
 * `user`'s nodes, with the types and constants they read, when it is an Add (or a Sum of two) of `out` and
 * another tensor
 * (`skip`), or a `kiln.Fused` chain starting with such an Add whose other nodes read only values of the
 * chain and one-element float32 constants.
 */
function residualChain(
  graph: Graph,
  user: Node,
  out: string,
): (Pick<Graph, 'nodes' | 'types' | 'initializers'> & { skip: string }) | undefined {
  const body: Pick<Graph, 'nodes' | 'types' | 'initializers'> = isFusedChain(user)
    ? fusedBody(user)!
    : { nodes: [user], types: graph.types, initializers: graph.initializers };
  const [add, ...rest] = body.nodes;
  if (!ADDS.has(add.op) || add.domain !== '' || add.inputs.length !== 2 || !add.inputs.includes(out))
    return undefined;
  const skip = add.inputs[0] === out ? add.inputs[1] : add.inputs[0];
  if (skip === out || skip === '') return undefined;
  const produced = new Set(body.nodes.flatMap((n) => n.outputs));
  const scalarConstant = (name: string) => {
    const t = body.initializers.get(name);
    return t?.dtype === 'float32' && t.data.length === 1;
  };
  if (!rest.every((n) => n.inputs.every((i) => produced.has(i) || scalarConstant(i)))) return undefined;
  return { ...body, skip };
}
