/** GraphProto → Graph, recursively for subgraphs held in attributes. */
import { dtypeFromOnnx, type DType } from '../../ir/dtype.js';
import type { AttrValue, Dim, Graph, Node, ValueInfo } from '../../ir/graph.js';
import type { HostTensor } from '../../ir/tensor.js';
import { attrFromProto } from './attributes.js';
import { constantValue } from './constant.js';
import { fail, invalid, q } from './errors.js';
import { hasField, protoIntToNumber, type OnnxTypes } from './proto.js';
import { tensorFromProto, type TensorSource } from './tensor.js';

/** Deeper If/Loop nesting than this is hostile input, not a model. */
const MAX_SUBGRAPH_DEPTH = 32;

export interface GraphContext extends TensorSource {
  opsets: Record<string, number>;
  /** `domain::name` of the model-local functions */
  functions: Set<string>;
  /** first node found in the default domain, to report when the model imports no default opset */
  firstDefaultDomainNode?: string;
}

export function graphFromProto(
  gp: OnnxTypes.IGraphProto,
  ctx: GraphContext,
  where: string,
  depth = 0,
): Graph {
  if (depth > MAX_SUBGRAPH_DEPTH) throw invalid(`subgraphs are nested more than ${MAX_SUBGRAPH_DEPTH} deep`);
  const name = gp.name ?? '';
  const initializers = new Map<string, HostTensor>();
  for (const tp of gp.initializer ?? []) {
    const tname = tp.name ?? '';
    if (tname === '') throw invalid(`${where}: an initializer has no name`);
    if (initializers.has(tname)) throw invalid(`${where}: initializer ${q(tname)} is defined twice`);
    initializers.set(tname, tensorFromProto(tp, `initializer ${q(tname)}`, ctx));
  }
  const sparse = gp.sparseInitializer ?? [];
  if (sparse.length > 0)
    throw fail(`${where}: sparse initializer ${q(sparse[0].values?.name)} is not supported`);

  const inputs = (gp.input ?? [])
    .filter((vi) => !initializers.has(vi.name ?? ''))
    .map((vi) => valueInfoFromProto(vi, 'input', where, depth > 0));
  const outputs = (gp.output ?? []).map((vi) => valueInfoFromProto(vi, 'output', where, depth > 0));

  const nodes: Node[] = [];
  (gp.node ?? []).forEach((np, index) => {
    const node = nodeFromProto(np, index, ctx, where, depth);
    const constant = node.op === 'Constant' && node.domain === '' ? constantValue(node) : undefined;
    if (constant) {
      if (initializers.has(node.outputs[0]))
        throw invalid(`${where}: Constant node ${q(node.name)} redefines initializer ${q(node.outputs[0])}`);
      initializers.set(node.outputs[0], constant);
    } else nodes.push(node);
  });
  return { name, inputs, outputs, initializers, nodes, opsets: ctx.opsets, types: new Map() };
}

/**
 * A declared graph input or output. Subgraph values and graph outputs may leave out the element type or
 * the shape (ONNX takes them from the values bound at run time, Kiln infers them); they are marked
 * `untyped` and get placeholders.
 */
function valueInfoFromProto(
  vi: OnnxTypes.IValueInfoProto,
  kind: 'input' | 'output',
  where: string,
  inSubgraph: boolean,
): ValueInfo {
  const name = vi.name ?? '';
  const what = `${where}: ${kind} ${q(name)}`;
  if (name === '') throw invalid(`${where}: a graph ${kind} has no name`);
  const untyped = (dtype: DType): ValueInfo => ({ name, dtype, shape: [], untyped: true });
  // Outputs' types are inferred anyway, so any graph's outputs may leave them out.
  const mayBeUntyped = inSubgraph || kind === 'output';
  if (!vi.type) {
    if (mayBeUntyped) return untyped('float32');
    throw fail(`${what} has no type`);
  }
  const tt = vi.type.tensorType;
  if (!tt) {
    const unsupported = `${what} is not a tensor (sequence, map and optional values are not supported)`;
    // a subgraph is refused for it only where it is inlined: an If branch may fold away
    if (inSubgraph) return { ...untyped('float32'), unsupported };
    throw fail(unsupported);
  }
  if (mayBeUntyped && !tt.elemType) return untyped('float32');
  let dtype: DType;
  try {
    dtype = dtypeFromOnnx(tt.elemType ?? 0);
  } catch (e) {
    throw fail(`${what}: ${(e as Error).message}`);
  }
  if (!tt.shape) {
    if (mayBeUntyped) return untyped(dtype);
    throw fail(`${what} has unknown rank; its shape must list every dimension`);
  }
  const shape: Dim[] = (tt.shape.dim ?? []).map((d, i) => {
    if (hasField(d, 'dimValue')) {
      const v = protoIntToNumber(d.dimValue);
      if (!Number.isSafeInteger(v) || v < 0)
        throw invalid(`${what}: dim ${i} is ${v}, expected a non-negative integer`);
      return v;
    }
    return d.dimParam ? d.dimParam : `${name}:${i}`;
  });
  return { name, dtype, shape };
}

function nodeFromProto(
  np: OnnxTypes.INodeProto,
  index: number,
  ctx: GraphContext,
  where: string,
  depth: number,
): Node {
  const op = np.opType ?? '';
  if (op === '') throw invalid(`${where}: node ${index} (${q(np.name)}) has no op_type`);
  const domain = np.domain === 'ai.onnx' ? '' : (np.domain ?? '');
  const name = np.name || `${op}_${index}`;
  const label = `node ${q(name)}`;
  if (ctx.functions.has(`${domain}::${op}`))
    throw fail(`${label}: function ${q(op)}${domain ? ` (domain ${q(domain)})` : ''} is not supported`);
  if (domain === '') ctx.firstDefaultDomainNode ??= `${op} ${label}`;

  // No prototype: an attribute named "__proto__" or "constructor" must be an ordinary key.
  const attrs: Record<string, AttrValue> = Object.create(null);
  for (const a of np.attribute ?? []) {
    const aname = a.name ?? '';
    if (aname === '') throw invalid(`${op} ${label}: an attribute has no name`);
    if (Object.prototype.hasOwnProperty.call(attrs, aname))
      throw invalid(`${op} ${label}: attribute ${q(aname)} is given twice`);
    attrs[aname] = attrFromProto(a, `attribute ${q(aname)} of ${op} ${label}`, {
      readExternal: ctx.readExternal,
      graph: (g, gwhere) => graphFromProto(g, ctx, gwhere, depth + 1),
    });
  }
  return { op, domain, name, inputs: [...(np.input ?? [])], outputs: [...(np.output ?? [])], attrs };
}
