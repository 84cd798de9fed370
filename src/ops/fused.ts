/**
 * Fusion's one encoding: a node's `kiln_fused` attribute is a Graph of the elementwise ops its result goes
 * through before it is stored (the original nodes, their value types and the constants they read).
 * - `kiln.Fused` (built by passes/fuse-elementwise.ts) has no op of its own: its body is a chain of
 *   elementwise ops over the node's inputs, computed in one kernel. Each inner op contributes its own
 *   `elementwise` scalar function, so there is no second definition of any op's math here.
 * - A Conv, Gemm or MatMul (passes/fuse-activation.ts) carries the Relu or Clip that reads its result;
 *   the lowering applies it as the GEMM's epilogue (see `fusedActivation`), as it does a residual Add
 *   of a skip tensor and the activation after it (passes/fuse-residual.ts, `residualOf`).
 */
import type { Graph, Node, TensorType } from '../ir/graph.js';
import type { Expr, Kernel } from '../kernels/ir.js';
import { elementwiseKernel, operandsOf } from './elementwise/common.js';
import { findOp, graphContextOf, OpError, registerOp, type OpContext, type OpDef } from './registry.js';

export const FUSED_DOMAIN = 'kiln';
const FUSED_ATTR = 'kiln_fused';

/** The elementwise ops fused into a node, if any. */
export function fusedBody(node: Node): Graph | undefined {
  const g = node.attrs[FUSED_ATTR] as Graph | undefined;
  return g && 'nodes' in g ? g : undefined;
}

/** Whether the node is a `kiln.Fused` chain (no op of its own, only its fused body). */
export const isFusedChain = (node: Node): boolean => node.domain === FUSED_DOMAIN && node.op === 'Fused';

/**
 * `node` with `nodes` (elementwise, in order, the last one's output the result) fused into it: it now
 * writes the last node's output, and its body holds the nodes with the types and constants of `graph`.
 */
export function withFused(graph: Graph, node: Node, nodes: Node[]): Node {
  const last = nodes[nodes.length - 1];
  const names = new Set(nodes.flatMap((n) => [...n.inputs, ...n.outputs]));
  const out = graph.types.get(last.outputs[0])!;
  const body: Graph = {
    name: `fused ${last.name}`,
    inputs: [],
    outputs: [{ name: last.outputs[0], dtype: out.dtype, shape: out.shape }],
    initializers: new Map([...graph.initializers].filter(([k]) => names.has(k))),
    nodes,
    opsets: graph.opsets,
    types: new Map([...graph.types].filter(([k]) => names.has(k))),
  };
  return { ...node, outputs: [last.outputs[0]], attrs: { ...node.attrs, [FUSED_ATTR]: body } };
}

function body(ctx: OpContext): Graph {
  const g = fusedBody(ctx.node);
  if (!g) throw new OpError(ctx.node, ctx.opset, `missing attribute '${FUSED_ATTR}'`);
  return g;
}

/** The OpContext an inner node had before fusion (types and constants come from the body graph). */
export function innerContext(g: Graph, node: Node): { def: OpDef; ctx: OpContext } {
  const ctx = graphContextOf(g, node);
  const def = findOp(node.op, node.domain, ctx.opset);
  if (!def?.elementwise) throw new Error(`internal: ${node.op} node "${node.name}" cannot be fused`);
  return { def, ctx };
}

/** The type of what the node's fused chain computes (its body's result). */
export function fusedResultType(ctx: OpContext): TensorType {
  const g = body(ctx);
  return g.types.get(g.outputs[0].name)!;
}

const fused: OpDef = {
  infer: (ctx) => [fusedResultType(ctx)],
  lower(ctx, io): Kernel[] {
    const out = fusedResultType(ctx);
    return [
      elementwiseKernel(
        ctx.node.name,
        io.outputs[0],
        out.shape,
        operandsOf(ctx, io.inputs),
        fusedCompute(ctx),
      ),
    ];
  },
};

/** The fused chain's output element from its inputs' elements (in the node's input order). */
export function fusedCompute(ctx: OpContext): (values: Expr[]) => Expr {
  const g = body(ctx);
  const inner = g.nodes.map((n) => innerContext(g, n));
  return (values) => {
    const env = new Map<string, Expr>();
    ctx.node.inputs.forEach((name, i) => env.set(name, values[i]));
    for (const { def, ctx: c } of inner)
      env.set(
        c.node.outputs[0],
        def.elementwise!(
          c,
          c.node.inputs.filter((n) => n !== '').map((n) => env.get(n)!),
        ),
      );
    return env.get(g.outputs[0].name)!;
  };
}

registerOp('Fused', fused, FUSED_DOMAIN);
