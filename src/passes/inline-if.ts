/** `If` with a condition known at compile time becomes the chosen branch's nodes. */
import type { Graph, Node } from '../ir/graph.js';
import type { HostTensor } from '../ir/tensor.js';
import { OpError } from '../ops/registry.js';

export function inlineBranch(
  node: Node,
  cond: HostTensor | undefined,
  opset: number,
): { nodes: Node[]; initializers: Map<string, HostTensor> } {
  if (!cond)
    throw new OpError(
      node,
      opset,
      'the condition is not known at compile time; fix the inputs it depends on with --const or --shape',
    );
  if (cond.data.length !== 1)
    throw new OpError(node, opset, `the condition must have one element, got ${cond.data.length}`);
  const taken = Number(cond.data[0]) !== 0 ? 'then_branch' : 'else_branch';
  const branch = node.attrs[taken] as Graph | undefined;
  if (!branch || !('nodes' in branch)) throw new OpError(node, opset, `missing attribute '${taken}'`);
  if (branch.outputs.length !== node.outputs.length)
    throw new OpError(
      node,
      opset,
      `${taken} has ${branch.outputs.length} outputs, the node ${node.outputs.length}`,
    );

  // Names defined inside the branch get a prefix so they cannot collide with the enclosing graph.
  const prefix = `${node.name}/${taken}/`;
  const local = new Set<string>([...branch.initializers.keys(), ...branch.nodes.flatMap((n) => n.outputs)]);
  const rename = (name: string) => (name !== '' && local.has(name) ? prefix + name : name);

  const nodes: Node[] = branch.nodes.map((n) => ({
    ...n,
    name: prefix + n.name,
    inputs: n.inputs.map(rename),
    outputs: n.outputs.map(rename),
  }));
  branch.outputs.forEach((out, i) => {
    if (node.outputs[i] === '') return;
    nodes.push({
      op: 'Identity',
      domain: '',
      name: `${prefix}output_${i}`,
      inputs: [rename(out.name)],
      outputs: [node.outputs[i]],
      attrs: {},
    });
  });
  const initializers = new Map([...branch.initializers].map(([k, t]) => [prefix + k, t] as const));
  return { nodes, initializers };
}
