/**
 * Elementwise epilogue fusion: a float32 Conv, ConvTranspose, Gemm or MatMul (or its int8-weight form) whose result only an elementwise chain of
 * that result and scalar constants reads — HardSwish as exporters write it (x · HardSigmoid(x), the
 * result read twice), Swish (x · Sigmoid(x)), GELU decomposed (Div → Erf → Add → Mul → Mul) — computes
 * the chain as its GEMM writes each tile (a `map` activation, see src/ops/fused-activation.ts), so the
 * result is never stored and read back.
 *
 * It runs after passes/fuse-elementwise.ts, which has made such a chain one `kiln.Fused` node reading the
 * producer's result (however many times its body does): that node's body joins the producer's fused body
 * (after a bias Add and a Relu or Clip that passes/fuse-bias.ts and fuse-activation.ts put there). Only
 * chains whose math both code generators render lane-wise (`isMappable`) are taken.
 */
import type { Graph, Node } from '../ir/graph.js';
import { fusedActivation } from '../ops/fused-activation.js';
import { FUSED_DOMAIN, fusedBody, isFusedChain, withFused } from '../ops/fused.js';
import { findOp, opsetOf } from '../ops/registry.js';
import { isMappable } from '../kernels/rewrite/epilogue.js';

/** The producers by domain: the float32 GEMMs and the int8-weight ones passes/int8-kernels.ts makes. */
const PRODUCERS: Record<string, Set<string>> = {
  '': new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']),
  [FUSED_DOMAIN]: new Set(['Int8Conv', 'Int8MatMul']),
};

export function fuseEpilogues(graph: Graph): Graph {
  const readers = new Map<string, Set<Node>>();
  for (const n of graph.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? new Set()).add(n));
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  for (const node of graph.nodes) {
    if (!PRODUCERS[node.domain]?.has(node.op) || node.outputs.length !== 1) continue;
    const out = node.outputs[0];
    const type = graph.types.get(out);
    if (type?.dtype !== 'float32' || graphOutputs.has(out)) continue;
    const users = [...(readers.get(out) ?? [])];
    if (users.length !== 1) continue;
    const chain = chainOf(graph, users[0], out);
    if (!chain) continue;
    const outType = graph.types.get(users[0].outputs[0]);
    if (outType?.dtype !== 'float32' || outType.shape.join(',') !== type.shape.join(',')) continue;
    const merged: Graph = {
      ...graph,
      types: new Map([...graph.types, ...chain.types]),
      initializers: new Map([...graph.initializers, ...chain.initializers]),
    };
    const fused = withFused(merged, node, [...(fusedBody(node)?.nodes ?? []), ...chain.nodes]);
    const act = fusedActivation(fused);
    if (act?.op !== 'map' || !isMappable(act.value)) continue;
    removed.add(users[0]);
    replaced.set(node, fused);
  }
  if (removed.size === 0) return graph;
  return { ...graph, nodes: graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n) };
}

/**
 * `user`'s elementwise nodes with the types and constants they read, when every value it reads is `out`
 * or a one-element float32 constant: a `kiln.Fused` chain's body, or one elementwise node.
 */
function chainOf(
  graph: Graph,
  user: Node,
  out: string,
): Pick<Graph, 'nodes' | 'types' | 'initializers'> | undefined {
  const scalarConstant = (name: string) => {
    const t = graph.initializers.get(name);
    return t?.dtype === 'float32' && t.data.length === 1;
  };
  if (!user.inputs.every((i) => i === out || scalarConstant(i))) return undefined;
  if (isFusedChain(user)) return fusedBody(user);
  const def = findOp(user.op, user.domain, opsetOf(graph.opsets, user));
  if (user.outputs.length !== 1 || !def?.elementwise) return undefined;
  return { nodes: [user], types: graph.types, initializers: graph.initializers };
}
