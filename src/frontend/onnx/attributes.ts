/** AttributeProto → AttrValue. */
import type { AttrValue, Graph } from '../../ir/graph.js';
import { fail, invalid, q } from './errors.js';
import { hasField, onnx, protoIntToNumber, type OnnxTypes } from './proto.js';
import { tensorFromProto, type TensorSource } from './tensor.js';

const T = onnx.AttributeProto.AttributeType;
const utf8 = new TextDecoder('utf-8');

export interface AttrContext extends TensorSource {
  /** converts a subgraph held in a GRAPH/GRAPHS attribute; `where` names it for error messages */
  graph(g: OnnxTypes.IGraphProto, where: string): Graph;
}

/** The attribute's type; very old models leave `type` unset, so it is then taken from the one field present. */
function attrType(a: OnnxTypes.IAttributeProto): number {
  if (a.type) return a.type;
  const present: [number, boolean][] = [
    [T.FLOAT, hasField(a, 'f')],
    [T.INT, hasField(a, 'i')],
    [T.STRING, hasField(a, 's')],
    [T.TENSOR, !!a.t],
    [T.GRAPH, !!a.g],
    [T.FLOATS, (a.floats?.length ?? 0) > 0],
    [T.INTS, (a.ints?.length ?? 0) > 0],
    [T.STRINGS, (a.strings?.length ?? 0) > 0],
    [T.TENSORS, (a.tensors?.length ?? 0) > 0],
    [T.GRAPHS, (a.graphs?.length ?? 0) > 0],
  ];
  const found = present.filter(([, p]) => p);
  return found.length === 1 ? found[0][0] : T.UNDEFINED;
}

export function attrFromProto(a: OnnxTypes.IAttributeProto, where: string, ctx: AttrContext): AttrValue {
  if (a.refAttrName)
    throw fail(
      `${where} refers to function attribute ${q(a.refAttrName)}; attribute references are not supported`,
    );
  const type = attrType(a);
  const need = <V>(v: V | null | undefined, field: string): V => {
    if (v === null || v === undefined) throw invalid(`${where} has type ${T[type]} but no '${field}' value`);
    return v;
  };
  switch (type) {
    case T.FLOAT:
      return a.f ?? 0;
    case T.INT:
      return protoIntToNumber(a.i);
    case T.STRING:
      return utf8.decode(a.s ?? new Uint8Array());
    case T.TENSOR:
      return tensorFromProto(need(a.t, 't'), `tensor of ${where}`, ctx);
    case T.GRAPH:
      return ctx.graph(need(a.g, 'g'), `subgraph of ${where}`);
    case T.FLOATS:
      return [...(a.floats ?? [])];
    case T.INTS:
      return (a.ints ?? []).map(protoIntToNumber);
    case T.STRINGS:
      return (a.strings ?? []).map((s) => utf8.decode(s));
    case T.TENSORS:
      return (a.tensors ?? []).map((t, i) => tensorFromProto(t, `tensor ${i} of ${where}`, ctx));
    case T.GRAPHS:
      return (a.graphs ?? []).map((g, i) => ctx.graph(g, `subgraph ${i} of ${where}`));
    case T.SPARSE_TENSOR:
    case T.SPARSE_TENSORS:
    case T.TYPE_PROTO:
    case T.TYPE_PROTOS:
      throw fail(`${where} has type ${T[type]}, which is not supported`);
    default:
      throw invalid(`${where} has unknown or missing type ${a.type ?? 0}`);
  }
}
