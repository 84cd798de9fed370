/**
 * Inlining subgraphs: `If` with a condition known at compile time becomes the chosen branch's nodes;
 * Loop and Scan (control-flow.ts) inline their body once per iteration with the same helper.
 */
import type { AttrValue, Graph, Node } from '../ir/graph.js';
import type { HostTensor } from '../ir/tensor.js';
import { OpError } from '../ops/registry.js';

export interface Inlined {
  nodes: Node[];
  initializers: Map<string, HostTensor>;
}

export interface InlinedSubgraph extends Inlined {
  /** the enclosing-graph names of the subgraph's outputs */
  outputs: string[];
}

/**
 * Copy a subgraph's nodes into the enclosing graph. Names defined inside it get `prefix` so they cannot
 * collide with the enclosing graph (or with another copy of the same body); its inputs are replaced by
 * the values `bindings` maps them to; names of enclosing graphs stay as they are.
 */
export function inlineSubgraph(graph: Graph, prefix: string, bindings: Map<string, string>): InlinedSubgraph {
  // checked here, not when the model is read: an If branch that folds away may hold such values
  const unsupported = [...graph.inputs, ...graph.outputs].find((v) => v.unsupported !== undefined);
  if (unsupported) throw new Error(unsupported.unsupported);
  const local = new Set<string>([...graph.initializers.keys(), ...graph.nodes.flatMap((n) => n.outputs)]);
  const rename = (name: string) =>
    name === '' ? name : (bindings.get(name) ?? (local.has(name) ? prefix + name : name));
  const nodes = graph.nodes.map((n) => renameNode(n, prefix + n.name, rename));
  const initializers = new Map([...graph.initializers].map(([k, t]) => [prefix + k, t] as const));
  return { nodes, initializers, outputs: graph.outputs.map((o) => rename(o.name)) };
}

function renameNode(node: Node, name: string, rename: (name: string) => string): Node {
  const attrs: Record<string, AttrValue> = Object.create(null);
  for (const [key, value] of Object.entries(node.attrs)) attrs[key] = renameInAttr(value, rename);
  return { ...node, name, inputs: node.inputs.map(rename), outputs: node.outputs.map(rename), attrs };
}

function isGraph(value: unknown): value is Graph {
  return typeof value === 'object' && value !== null && 'nodes' in value;
}

/** A nested subgraph refers to the inlined values by their old names: rename those references too. */
function renameInAttr(value: AttrValue, rename: (name: string) => string): AttrValue {
  if (isGraph(value)) return renameOuterReferences(value, rename);
  if (Array.isArray(value) && value.every(isGraph)) return value.map((g) => renameOuterReferences(g, rename));
  return value;
}

function renameOuterReferences(graph: Graph, rename: (name: string) => string): Graph {
  const local = new Set<string>([
    ...graph.inputs.map((i) => i.name),
    ...graph.initializers.keys(),
    ...graph.nodes.flatMap((n) => n.outputs),
  ]);
  const outer = (name: string) => (name === '' || local.has(name) ? name : rename(name));
  return {
    ...graph,
    outputs: graph.outputs.map((o) => ({ ...o, name: outer(o.name) })),
    nodes: graph.nodes.map((n) => renameNode(n, n.name, outer)),
  };
}

/** The chosen branch of an `If` whose condition `cond` is known. */
export function inlineBranch(node: Node, cond: HostTensor, opset: number): Inlined {
  if (cond.data.length !== 1)
    throw new OpError(node, opset, `the condition must have one element, got ${cond.data.length}`);
  const taken = Number(cond.data[0]) !== 0 ? 'then_branch' : 'else_branch';
  const branch = node.attrs[taken];
  if (!isGraph(branch)) throw new OpError(node, opset, `missing graph attribute '${taken}'`);
  if (branch.outputs.length !== node.outputs.length)
    throw new OpError(
      node,
      opset,
      `${taken} has ${branch.outputs.length} outputs, the node ${node.outputs.length}`,
    );
  const prefix = `${node.name}/${taken}/`;
  const inlined = inlineSubgraph(branch, prefix, new Map());
  const nodes = [...inlined.nodes];
  inlined.outputs.forEach((value, i) => {
    if (node.outputs[i] !== '') nodes.push(identity(`${prefix}output_${i}`, value, node.outputs[i]));
  });
  return { nodes, initializers: inlined.initializers };
}

export function identity(name: string, input: string, output: string): Node {
  return { op: 'Identity', domain: '', name, inputs: [input], outputs: [output], attrs: {} };
}
