/**
 * The Relu or Clip a Conv, Gemm or MatMul applies as its GEMM's epilogue: `activationOf` says whether a
 * node is one (fuse-activation fuses it when so), `fusedActivation` reads it back from the producer's
 * fused body (src/ops/fused.ts) for the lowerings.
 */
import type { Graph, Node } from '../ir/graph.js';
import { EPILOGUE_INPUT, type Activation, type Expr } from '../kernels/ir.js';
import { f32 } from '../kernels/build.js';
import { tensorToNumbers } from '../ir/tensor.js';
import { fusedBody, innerContext, isFusedChain } from './fused.js';
import { opsetOf } from './registry.js';

/** The activation `node` computes, when it is a Relu or a Clip with constant bounds in `graph`. */
export function activationOf(node: Node, graph: Graph): Activation | undefined {
  if (node.domain !== '') return undefined;
  if (node.op === 'Relu') return { op: 'relu' };
  if (node.op !== 'Clip') return undefined;
  if (opsetOf(graph.opsets, node) < 11) {
    const lo = node.attrs.min;
    const hi = node.attrs.max;
    return {
      op: 'clip',
      min: typeof lo === 'number' ? lo : -Infinity,
      max: typeof hi === 'number' ? hi : Infinity,
    };
  }
  const bound = (i: number, dflt: number) => {
    const name = node.inputs[i];
    if (!name) return dflt;
    const t = graph.initializers.get(name);
    return t && t.data.length === 1 ? tensorToNumbers(t)[0] : undefined;
  };
  const lo = bound(1, -Infinity);
  const hi = bound(2, Infinity);
  return lo === undefined || hi === undefined ? undefined : { op: 'clip', min: lo, max: hi };
}

/**
 * The activation fused into a producer node, if any: its fused body after the bias Add that
 * passes/fuse-bias.ts puts first (the bias itself is the node's input). One Relu or Clip is that
 * activation; any other elementwise chain of the result and scalar constants (passes/fuse-epilogue.ts)
 * is a `map` of it, each op's own `elementwise` scalar function applied in turn.
 * A producer with a residual (`residualOf`) has none its lowering applies: the compiler applies the
 * residual and the activation after it (`residualActivation`) to its kernels.
 */
export function fusedActivation(node: Node): Activation | undefined {
  return residualOf(node) === undefined ? bodyActivation(node, 0) : undefined;
}

/**
 * The input index of a Conv, Gemm or MatMul's residual (passes/fuse-residual.ts): a tensor of the
 * result's shape added to it before its activation.
 */
export const RESIDUAL_INPUT = 3;

/** The ops that take a residual (passes/fuse-residual.ts). */
export const RESIDUAL_PRODUCERS: ReadonlySet<string> = new Set(['Conv', 'Gemm', 'MatMul']);

/** The residual a Conv, Gemm or MatMul adds to its result, if any (its input RESIDUAL_INPUT). */
export const residualOf = (node: Node): string | undefined =>
  node.domain === '' && RESIDUAL_PRODUCERS.has(node.op) && node.inputs[RESIDUAL_INPUT]
    ? node.inputs[RESIDUAL_INPUT]
    : undefined;

/**
 * The attribute of a Conv whose residual (input RESIDUAL_INPUT) is a coarser map read in kh×kw blocks, the
 * nearest upsampling that passes/fuse-residual.ts folded into it: [kh, kw]. Its lowering
 * (ops/nn/conv-upsampled-residual.ts) adds the residual and the activation after it itself.
 */
export const RESIDUAL_BLOCKS_ATTR = 'kiln_residual_blocks';

/** A producer's residual block factors (RESIDUAL_BLOCKS_ATTR), if its residual is upsampled. */
export const residualBlocksOf = (node: Node): number[] | undefined =>
  residualOf(node) === undefined ? undefined : (node.attrs[RESIDUAL_BLOCKS_ATTR] as number[] | undefined);

/** The activation after a producer's residual Add (which follows the bias Add, if any), if any. */
export const residualActivation = (node: Node): Activation | undefined => bodyActivation(node, 1);

/** The activation of a producer's fused body after its bias Add and the `skip` nodes that follow it. */
function bodyActivation(node: Node, skip: number): Activation | undefined {
  const body = fusedBody(node);
  if (!body || isFusedChain(node)) return undefined;
  const nodes = body.nodes.slice((hasBiasAdd(node, body) ? 1 : 0) + skip);
  if (nodes.length === 0) return undefined;
  const act = nodes.length === 1 ? activationOf(nodes[0], body) : undefined;
  return act ?? { op: 'map', value: mappedValue(node, body, nodes) };
}

/**
 * Whether the body starts with the bias Add of passes/fuse-bias.ts, which gives the MatMul the bias as its
 * third input (a kiln.Int8MatMul made of it: its fourth, after the scales): a chain that fuse-epilogue
 * puts in a body of its own may start with an Add too.
 */
const hasBiasAdd = (node: Node, body: Graph): boolean =>
  body.nodes[0].op === 'Add' &&
  ((node.op === 'MatMul' && !!node.inputs[2]) || (node.op === 'Int8MatMul' && node.inputs.length === 4));

/** The value `nodes` (a fused body's elementwise chain) compute, over `var EPILOGUE_INPUT` (their input). */
function mappedValue(node: Node, body: Graph, nodes: Node[]): Expr {
  const produced = new Set(nodes.flatMap((n) => n.outputs));
  const operand = (name: string): Expr => {
    const constant = body.initializers.get(name);
    if (constant?.dtype === 'float32' && constant.data.length === 1) return f32(tensorToNumbers(constant)[0]);
    if (constant || produced.has(name))
      throw new Error(
        `internal: ${node.op} node "${node.name}" has a fused operand "${name}" it cannot read`,
      );
    return { k: 'var', t: 'f32', name: EPILOGUE_INPUT };
  };
  const env = new Map<string, Expr>();
  for (const inner of nodes) {
    const { def, ctx } = innerContext(body, inner);
    const values = inner.inputs.filter((n) => n !== '').map((n) => env.get(n) ?? operand(n));
    env.set(inner.outputs[0], def.elementwise!(ctx, values));
  }
  return env.get(nodes[nodes.length - 1].outputs[0])!;
}
