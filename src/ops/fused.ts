/**
 * `kiln.Fused`: a chain of elementwise ops computed in one kernel. The fusion pass builds it; its
 * `body` attribute is a Graph holding the original nodes, their value types and the constants they read.
 * Each inner op contributes its own `elementwise` scalar function, so there is no second definition of
 * any op's math here.
 */
import type { Graph, Node, TensorType } from '../ir/graph.js';
import type { Expr, Kernel } from '../kernels/ir.js';
import { elementwiseKernel, operandsOf } from './elementwise/common.js';
import { contextOf, findOp, OpError, registerOp, type OpContext, type OpDef } from './registry.js';

export const FUSED_DOMAIN = 'kiln';

function body(ctx: OpContext): Graph {
  const g = ctx.node.attrs.body as Graph | undefined;
  if (!g || !('nodes' in g)) throw new OpError(ctx.node, ctx.opset, "missing attribute 'body'");
  return g;
}

/** The OpContext an inner node had before fusion (types and constants come from the body graph). */
export function innerContext(g: Graph, node: Node): { def: OpDef; ctx: OpContext } {
  const ctx = contextOf(
    node,
    g.opsets,
    (n) => g.types.get(n),
    (n) => g.initializers.get(n),
  );
  const def = findOp(node.op, node.domain, ctx.opset);
  if (!def?.elementwise) throw new Error(`internal: ${node.op} node "${node.name}" cannot be fused`);
  return { def, ctx };
}

const fused: OpDef = {
  infer(ctx): TensorType[] {
    const g = body(ctx);
    return [g.types.get(g.outputs[0].name)!];
  },
  lower(ctx, io): Kernel[] {
    const out = body(ctx).types.get(body(ctx).outputs[0].name)!;
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
