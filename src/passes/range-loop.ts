/**
 * Range as its ONNX function body expands it (the `_expanded` node tests, exporters that inline
 * functions): a Loop of trip count Cast(Relu(Ceil(Div(Cast(Sub(limit, start)), Cast(delta))))) whose body
 * adds delta to the carried value and scans out the value before the add. A Loop unrolls only with its
 * trip count known at compile time; as one Range node the count is read at run time (a fed size, see
 * passes/data-shapes.ts). Only that exact shape is taken back, and only when the loop's final carried
 * value is unused (Range has no such output).
 */
import type { Graph, Node } from '../ir/graph.js';
import type { Inlined } from './inline-if.js';

/** The one Range the Loop `node` computes, or undefined when it is not an expanded Range. */
export function rangeOfLoop(node: Node, graph: Graph, kept: readonly Node[]): Inlined | undefined {
  const body = node.attrs.body;
  if (typeof body !== 'object' || body === null || !('nodes' in body)) return undefined;
  const [trip, cond, start] = node.inputs;
  const [final, values] = node.outputs;
  if (node.inputs.length !== 3 || node.outputs.length !== 2 || !trip || !cond || !start) return undefined;
  if (isUsed(final, graph)) return undefined;

  const delta = bodyStep(body);
  if (!delta) return undefined;

  const producers = new Map<string, Node>();
  for (const n of kept) for (const out of n.outputs) producers.set(out, n);
  const made = (name: string, op: string) => {
    const n = producers.get(name);
    return n && n.op === op && n.domain === '' ? n : undefined;
  };
  const uncast = (name: string) => (made(name, 'Cast') ? producers.get(name)!.inputs[0] : name);

  const count = made(trip, 'Cast')?.inputs[0];
  if (!count || uncast(cond) !== count) return undefined;
  const div = made(made(made(count, 'Relu')?.inputs[0] ?? '', 'Ceil')?.inputs[0] ?? '', 'Div');
  if (!div || uncast(div.inputs[1]) !== delta) return undefined;
  const sub = made(uncast(div.inputs[0]), 'Sub');
  if (!sub || sub.inputs[1] !== start) return undefined;
  const range: Node = {
    op: 'Range',
    domain: '',
    name: node.name,
    inputs: [start, sub.inputs[0], delta],
    outputs: [values],
    attrs: {},
  };
  return { nodes: [range], initializers: new Map() };
}

/** Whether a node of the graph or a graph output reads `name`. */
const isUsed = (name: string, graph: Graph) =>
  name !== '' &&
  (graph.outputs.some((o) => o.name === name) || graph.nodes.some((n) => n.inputs.includes(name)));

/**
 * The outer-scope step of a body (iteration, cond, prev) → (Identity(cond), Add(prev, delta),
 * Identity(prev)), or undefined for any other body.
 */
function bodyStep(body: Graph): string | undefined {
  if (body.inputs.length !== 3 || body.outputs.length !== 3 || body.nodes.length !== 3) return undefined;
  const [, condIn, prev] = body.inputs.map((i) => i.name);
  const [condOut, next, scanned] = body.outputs.map((o) => o.name);
  const producer = (name: string) => body.nodes.find((n) => n.outputs.length === 1 && n.outputs[0] === name);
  const isIdentityOf = (name: string, of: string) => {
    const n = producer(name);
    return n?.op === 'Identity' && n.inputs[0] === of;
  };
  const add = producer(next);
  if (!isIdentityOf(condOut, condIn) || !isIdentityOf(scanned, prev) || add?.op !== 'Add') return undefined;
  const [a, b] = add.inputs;
  const delta = a === prev ? b : b === prev ? a : undefined;
  const local = new Set([...body.inputs.map((i) => i.name), ...body.nodes.flatMap((n) => n.outputs)]);
  return delta && !local.has(delta) && !body.initializers.has(delta) ? delta : undefined;
}
