/**
 * Bias epilogue fusion: exporters write a Linear layer as MatMul followed by an Add of a constant bias
 * broadcast along the last axis ([N] or [1,…,1,N], either operand order). When that Add is the MatMul's
 * only reader, the GEMM adds the bias as it writes its tile (GemmStmt.bias) instead of a second pass
 * over the activations.
 *
 * Graph side: the MatMul takes the bias as a third input (as Gemm's C, always shaped [N]) and the Add's
 * output, and carries the Add as the first node of its fused body (src/ops/fused.ts); fuse-activation
 * may append a Relu or Clip after it. Only float32 products of rank ≥ 2 operands whose dims known at run
 * time, if any, lead A's rows.
 */
import { readersOf, type Graph, type Node, type TensorType } from '../ir/graph.js';
import { withFused } from '../ops/fused.js';
import { constValue } from '../ir/symbolic.js';

export function fuseMatMulBias(graph: Graph): Graph {
  const readers = readersOf(graph);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const initializers = new Map(graph.initializers);
  const types = new Map(graph.types);
  const rows = new Map<string, string>();
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  for (const node of graph.nodes) {
    if (node.op !== 'MatMul' || node.domain !== '' || node.inputs.length !== 2) continue;
    const out = node.outputs[0];
    const users = readers.get(out) ?? [];
    if (graphOutputs.has(out) || users.length !== 1) continue;
    const add = users[0];
    const bias = biasOf(graph, node, add);
    if (bias === undefined) continue;
    const t = graph.initializers.get(bias)!;
    let row = t.dims.length === 1 ? bias : rows.get(bias);
    if (row === undefined) {
      row = freshName(`${bias}/row`, (n) => types.has(n) || initializers.has(n));
      rows.set(bias, row);
      initializers.set(row, { ...t, dims: [t.dims.at(-1)!] });
      types.set(row, { dtype: 'float32', shape: [t.dims.at(-1)!] });
    }
    removed.add(add);
    replaced.set(node, withFused(graph, { ...node, inputs: [...node.inputs, row] }, [add]));
  }
  if (removed.size === 0) return graph;
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  return { ...graph, nodes, initializers, types };
}

/** The constant `add` adds to `matmul`'s result along its last axis, when the GEMM can take it as bias. */
function biasOf(graph: Graph, matmul: Node, add: Node): string | undefined {
  if (add.op !== 'Add' || add.domain !== '' || add.inputs.length !== 2) return undefined;
  const out = matmul.outputs[0];
  const other = add.inputs[0] === out ? add.inputs[1] : add.inputs[0];
  if (other === out) return undefined;
  const [a, b, y] = [...matmul.inputs, out].map((n) => graph.types.get(n));
  const c = graph.types.get(other);
  const constant = graph.initializers.get(other);
  if (!a || !b || !y || !c || !constant || y.dtype !== 'float32' || c.dtype !== 'float32') return undefined;
  if (a.shape.length < 2 || b.shape.length < 2 || !rowsLead(a, b)) return undefined;
  const N = y.shape.at(-1)!;
  const alongLastAxis =
    c.shape.length <= y.shape.length && c.shape.at(-1) === N && c.shape.slice(0, -1).every((d) => d === 1);
  return alongLastAxis ? other : undefined;
}

/**
 * Whether the product's dims known at run time are only A's leading ones (B a matrix of static dims,
 * A's last dim static): then it is lowered row block by row block (compiler/lower-rows.ts), where the
 * GEMM takes the bias; elsewhere (attention's products) the bias stays an Add.
 */
function rowsLead(a: TensorType, b: TensorType): boolean {
  if (!a.symbolic && !b.symbolic) return true;
  return !b.symbolic && b.shape.length === 2 && constValue(a.symbolic!.at(-1)!) !== undefined;
}

/** `base`, or `base` with the first number that makes it a name no value has. */
function freshName(base: string, taken: (name: string) => boolean): string {
  let name = base;
  for (let i = 1; taken(name); i++) name = `${base}${i}`;
  return name;
}
