/**
 * Shape values: small integer tensors whose elements are shape expressions — what exporters compute
 * from a tensor's shape (Shape → Gather → Unsqueeze → Concat, arithmetic on dims) to feed a Reshape.
 * Where the shape holds a symbol, these are no compile-time constants; they fold to expressions here
 * instead, and a Reshape reads its target from them. Any other consumer is refused (specialize.ts).
 */
import type { Node, TensorType } from '../ir/graph.js';
import * as sym from '../ir/symbolic.js';
import { sizeOf, tensorFromNumbers, tensorToNumbers, type HostTensor } from '../ir/tensor.js';
import { attrInt, normAxis, type OpContext } from '../ops/registry.js';

/** A rank-0 or rank-1 integer tensor of shape expressions. */
export interface ShapeValue {
  dims: number[];
  values: sym.SymLike[];
}

type Read = (name: string) => ShapeValue | undefined;

/** A small integer constant as a shape value. */
export function constShapeValue(t: HostTensor | undefined): ShapeValue | undefined {
  if (!t || (t.dtype !== 'int64' && t.dtype !== 'int32') || t.dims.length > 1 || sizeOf(t.dims) > 64)
    return undefined;
  return { dims: [...t.dims], values: tensorToNumbers(t) };
}

/** The shape value with every expression at its upper bound (what the op's own inference sees). */
export function boundTensor(v: ShapeValue, ranges: Readonly<Record<string, sym.Range>>): HostTensor {
  return tensorFromNumbers(
    'int64',
    v.dims,
    v.values.map((d) => sym.bounds(d, ranges).max),
  );
}

/** The value as a constant when no element depends on a symbol. */
export function constantOf(v: ShapeValue): HostTensor | undefined {
  const numbers = v.values.map((d) => sym.constValue(d));
  if (numbers.some((n) => n === undefined)) return undefined;
  return tensorFromNumbers('int64', v.dims, numbers as number[]);
}

/**
 * The node's output as a shape value, when it computes one from a symbolic shape or from other shape
 * values; undefined when it does not (then it is typed and folded as usual).
 */
export function shapeValueOf(
  node: Node,
  ctx: OpContext,
  read: Read,
  isShapeValue: (name: string) => boolean,
): ShapeValue | undefined {
  if (node.domain !== '') return undefined;
  if (node.op === 'Shape') {
    const x = ctx.inputs[0];
    if (!x?.symbolic) return undefined;
    const r = x.symbolic.length;
    const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
    const start = ctx.opset >= 15 ? clamp(attrInt(node, 'start', 0)) : 0;
    const end = ctx.opset >= 15 && node.attrs.end !== undefined ? clamp(attrInt(node, 'end')) : r;
    const values = x.symbolic.slice(start, Math.max(start, end));
    return { dims: [values.length], values };
  }
  if (!node.inputs.some((n) => n !== '' && isShapeValue(n))) return undefined;
  const ins = node.inputs.map((n) => (n === '' ? undefined : read(n)));
  if (ins.some((v, i) => v === undefined && node.inputs[i] !== '')) return undefined;
  const [a, b] = ins;
  switch (node.op) {
    case 'Identity':
    case 'Cast':
      return a;
    case 'Gather': {
      if (attrInt(node, 'axis', 0) !== 0 || a!.dims.length !== 1) return undefined;
      const picked = b!.values.map((i) => sym.constValue(i));
      if (picked.some((i) => i === undefined || i < -a!.values.length || i >= a!.values.length))
        return undefined;
      return { dims: b!.dims, values: picked.map((i) => a!.values[i! < 0 ? i! + a!.values.length : i!]) };
    }
    case 'Unsqueeze':
      return a!.dims.length === 0 ? { dims: [1], values: a!.values } : undefined;
    case 'Squeeze':
      return a!.dims.length === 1 && a!.values.length === 1 ? { dims: [], values: a!.values } : undefined;
    case 'Concat': {
      if (ins.some((v) => v!.dims.length !== 1)) return undefined;
      const values = ins.flatMap((v) => v!.values);
      return { dims: [values.length], values };
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
      return arithmetic(node.op, a!, b!);
    case 'Slice': {
      if (a!.dims.length !== 1 || ctx.opset < 10) return undefined;
      const n = a!.values.length;
      const at = (v: ShapeValue | undefined, dflt: number) => (v ? sym.constValue(v.values[0]) : dflt);
      const [start, end, axis, step] = [at(ins[1], 0), at(ins[2], n), at(ins[3], 0), at(ins[4], 1)];
      if (start === undefined || end === undefined || step !== 1 || axis === undefined) return undefined;
      normAxis(axis, 1, ctx);
      const clamp = (v: number) => Math.min(n, Math.max(0, v < 0 ? v + n : v));
      const values = a!.values.slice(clamp(start), Math.max(clamp(start), clamp(end)));
      return { dims: [values.length], values };
    }
    default:
      return undefined;
  }
}

/** Elementwise integer arithmetic of two shape values (one may be a single element); Div of sizes floors. */
function arithmetic(op: 'Add' | 'Sub' | 'Mul' | 'Div', a: ShapeValue, b: ShapeValue): ShapeValue | undefined {
  const n = Math.max(a.values.length, b.values.length);
  if ((a.values.length !== n && a.values.length !== 1) || (b.values.length !== n && b.values.length !== 1))
    return undefined;
  const f = { Add: sym.add, Sub: sym.sub, Mul: sym.mul, Div: sym.floorDiv }[op];
  const values = Array.from({ length: n }, (_, i) =>
    f(a.values[a.values.length === 1 ? 0 : i], b.values[b.values.length === 1 ? 0 : i]),
  );
  return { dims: a.dims.length >= b.dims.length ? a.dims : b.dims, values };
}

/** The type of a shape value. */
export const shapeValueType = (v: ShapeValue): TensorType => ({ dtype: 'int64', shape: [...v.dims] });
