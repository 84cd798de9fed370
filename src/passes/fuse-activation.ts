/**
 * Epilogue fusion: Relu or Clip right after a float32 Conv, Gemm or MatMul is applied by the GEMM as it
 * writes its tile (GemmStmt.act) instead of in a second pass over memory.
 *
 * Graph side: the producer takes over the activation's output and records it in `kiln_activation`.
 * Kernel side (`applyActivation`): when every write to the output is a GEMM that owns its elements,
 * the activation goes into those GEMMs; otherwise (e.g. a depthwise Conv's direct loops) an in-place
 * activation loop follows, so the result is right either way.
 */
import type { Graph, Node } from '../ir/graph.js';
import type { Activation, BufRef, Expr, Kernel, Stmt } from '../kernels/ir.js';
import { forEachIndex, load, store } from '../kernels/build.js';
import { activate } from '../kernels/rewrite/epilogue.js';
import { someExpr } from '../kernels/walk.js';
import { tensorToNumbers } from '../ir/tensor.js';
import { fusedActivation } from '../ops/activation-attr.js';
import { opsetOf } from '../ops/registry.js';

const PRODUCERS = new Set(['Conv', 'Gemm', 'MatMul']);

function activationOf(node: Node, graph: Graph): Activation | undefined {
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

export function fuseActivations(graph: Graph): Graph {
  const consumers = new Map<string, Node[]>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  for (const node of graph.nodes) {
    if (!PRODUCERS.has(node.op) || node.domain !== '' || node.outputs.length !== 1) continue;
    const out = node.outputs[0];
    if (graph.types.get(out)?.dtype !== 'float32' || graphOutputs.has(out)) continue;
    const users = consumers.get(out) ?? [];
    if (users.length !== 1 || users[0].inputs[0] !== out) continue;
    const act = activationOf(users[0], graph);
    if (!act) continue;
    removed.add(users[0]);
    replaced.set(node, {
      ...node,
      outputs: [users[0].outputs[0]],
      attrs: {
        ...node.attrs,
        kiln_activation: act.op,
        ...(act.op === 'clip' ? { kiln_clip: [act.min, act.max] } : {}),
      },
    });
  }
  return { ...graph, nodes: graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n) };
}

/** The activation a node carries from `fuseActivations`, if any (op lowerings read it too). */
export { fusedActivation };

export function applyActivation(kernels: Kernel[], out: BufRef, act: Activation): Kernel[] {
  const gemms: Extract<Stmt, { k: 'gemm' }>[] = [];
  let owned = true;
  const reads = (e: Expr) => someExpr(e, (x) => x.k === 'load' && x.buf.id === out.id);
  const walk = (stmts: Stmt[]) => {
    for (const s of stmts) {
      if (s.k === 'loop') walk(s.body);
      else if (s.k === 'if') {
        if (reads(s.cond)) owned = false;
        walk(s.then);
        walk(s.else ?? []);
      } else if (s.k === 'gemm') {
        if ([s.a, s.b, s.bias].some((m) => m?.buf.id === out.id) || s.act) owned = false;
        if (s.c.buf.id === out.id) gemms.push(s);
      } else if (s.k === 'store') {
        if (s.buf.id === out.id || reads(s.value) || reads(s.index)) owned = false;
      } else if (reads(s.k === 'set' ? s.value : s.init)) owned = false;
    }
  };
  for (const k of kernels) walk(k.body);
  if (owned && gemms.length > 0) {
    for (const g of gemms) g.act = act;
    return kernels;
  }
  const body = forEachIndex([out.length], 'act', ([i]) => [store(out, i, activate(act, load(out, i)))], {
    parallel: true,
  });
  return [...kernels, { name: 'activation', body }];
}
