/**
 * `If` whose condition is known only at run time (a model input, or computed from one): both branches are
 * inlined, then a selection node — reached by the specializer once both branches are typed — makes each
 * output Where(cond, then, else). The branches' outputs must agree in type and shape (a data-dependent
 * size the same symbol), else the If is refused: one output buffer cannot hold two shapes. Both branches
 * run; the condition picks the values.
 */
import type { Graph, Node, TensorType } from '../ir/graph.js';
import * as sym from '../ir/symbolic.js';
import { sizeOf } from '../ir/tensor.js';
import { OpError } from '../ops/registry.js';
import { inlineSubgraph, type Inlined } from './inline-if.js';

interface Selection {
  node: Node;
  opset: number;
  then: string[];
  else: string[];
}

/** Selection nodes (see the file comment) and the If each one completes. */
const selections = new WeakMap<Node, Selection>();

/** The selection `node` stands for, if it is one. */
export const selectionOf = (node: Node): Selection | undefined => selections.get(node);

function branchGraph(node: Node, opset: number, name: 'then_branch' | 'else_branch'): Graph {
  const g = node.attrs[name];
  if (typeof g !== 'object' || g === null || !('nodes' in g))
    throw new OpError(node, opset, `missing graph attribute '${name}'`);
  if (g.outputs.length !== node.outputs.length)
    throw new OpError(
      node,
      opset,
      `${name} has ${g.outputs.length} outputs, the node ${node.outputs.length}`,
    );
  return g;
}

/**
 * Both branches of `node`, then its selection node; `source` is the model input the condition comes
 * from (what --const can fix), if any.
 */
export function inlineBothBranches(node: Node, opset: number, source: string | undefined): Inlined {
  const [thenBranch, elseBranch] = [
    branchGraph(node, opset, 'then_branch'),
    branchGraph(node, opset, 'else_branch'),
  ];
  const inline = (branch: Graph, name: string) => {
    try {
      return inlineSubgraph(branch, `${node.name}/${name}/`, new Map());
    } catch (e) {
      // a branch returning a sequence or optional: --const keeps only the other one
      throw new Error(
        `${(e as Error).message}; the condition (input 0, "${node.inputs[0]}") is known only at run time, so both branches are compiled${source ? `: pass "${source}" with --const to keep one` : ''}`,
      );
    }
  };
  const [a, b] = [inline(thenBranch, 'then_branch'), inline(elseBranch, 'else_branch')];
  const select: Node = {
    op: 'If',
    domain: '',
    name: `${node.name}/select`,
    inputs: [node.inputs[0], ...a.outputs, ...b.outputs],
    outputs: [],
    attrs: {},
  };
  selections.set(select, { node, opset, then: a.outputs, else: b.outputs });
  return {
    nodes: [...a.nodes, ...b.nodes, select],
    initializers: new Map([...a.initializers, ...b.initializers]),
  };
}

export const describeType = (t: TensorType) =>
  `${t.dtype}[${(t.symbolic ?? t.shape).map((d) => sym.symText(d)).join(',')}]`;

/** Whether two values have one dtype and one shape (symbolic dims equal as expressions). */
export function sameType(a: TensorType, b: TensorType): boolean {
  const [da, db] = [a.symbolic ?? a.shape, b.symbolic ?? b.shape];
  return a.dtype === b.dtype && da.length === db.length && da.every((d, i) => sym.symEqual(d, db[i]));
}

/** Each output of the If as Where(cond, then, else), once both branches are typed. */
export function selectBranch(s: Selection, types: Map<string, TensorType>): Inlined {
  const { node, opset } = s;
  const cond = types.get(node.inputs[0])!;
  const what = `the condition (input 0, "${node.inputs[0]}")`;
  if (cond.dtype !== 'bool' || sizeOf(cond.shape) !== 1)
    throw new OpError(node, opset, `${what} must be one bool, found ${describeType(cond)}`);
  const nodes: Node[] = [];
  node.outputs.forEach((output, i) => {
    if (output === '') return;
    const [a, b] = [types.get(s.then[i])!, types.get(s.else[i])!];
    if (!sameType(a, b))
      throw new OpError(
        node,
        opset,
        `${what} is known only at run time, and its branches' output ${i} differ (then ${describeType(a)}, else ${describeType(b)}), which is not supported (one output holds one shape); pass the condition with --const`,
      );
    nodes.push({
      op: 'Where',
      domain: '',
      name: `${node.name}/select_${i}`,
      inputs: [node.inputs[0], s.then[i], s.else[i]],
      outputs: [output],
      attrs: {},
    });
  });
  return { nodes, initializers: new Map() };
}
