/** Ops that generate tensors: ConstantOfShape, Range, EyeLike, OneHot. */
import type { DType } from '../../ir/dtype.js';
import { dtypeFromOnnx } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import { sizeOf, type HostTensor } from '../../ir/tensor.js';
import {
  add,
  cast,
  cmp,
  cnst,
  dim,
  forEachIndex,
  i32,
  load,
  loop,
  mul,
  select,
  store,
  v,
} from '../../kernels/build.js';
import { scalarOf, type Expr, type Extent } from '../../kernels/ir.js';
import { attrInt, normAxis, OpError, registerOp, type OpContext, type OpDef } from '../registry.js';
import {
  constInts,
  constScalar,
  dataInput,
  elementValue,
  expectDtype,
  rowMajor,
  rowMajorAt,
} from './common.js';

/** A scalar constant of a storage dtype's compute type; int64 values keep all 64 bits. */
function constOf(dtype: DType, value: number | bigint): Expr {
  const t = scalarOf(dtype);
  if (t === 'i64') return cnst(t, typeof value === 'bigint' ? value : BigInt(Math.trunc(value)));
  return cnst(t, t === 'i32' ? Math.trunc(Number(value)) : Number(value));
}

function fillKernel(name: string, out: { id: number; dtype: DType; length: number }, value: Expr) {
  return { name, body: forEachIndex([out.length], 'i', (idx) => [store(out, idx[0], value)]) };
}

function constantOfShapeValue(ctx: OpContext): HostTensor | undefined {
  const v = ctx.node.attrs.value;
  if (v === undefined) return undefined;
  const t = v as HostTensor;
  if (typeof t !== 'object' || !('dtype' in t) || sizeOf(t.dims) !== 1)
    throw new OpError(ctx.node, ctx.opset, 'attribute value must be a one-element tensor');
  if (t.dtype === 'string') throw new OpError(ctx.node, ctx.opset, 'a string value is unsupported');
  return t;
}

const constantOfShape: OpDef = {
  infer: (ctx) => {
    const target = expectDtype(ctx, 0, ['int64'], 'shape');
    const dtype = constantOfShapeValue(ctx)?.dtype ?? 'float32';
    if (!ctx.consts[0]) {
      if (target.shape.length !== 1)
        throw new OpError(ctx.node, ctx.opset, `shape (input 0) must be 1-D, found shape [${target.shape}]`);
      // fed at run time: passes/data-shapes.ts types each dim at its declared bound
      return [{ dtype, shape: Array<number>(target.shape[0]).fill(0) }];
    }
    const shape = constInts(ctx, 0, 'shape');
    if (shape.some((d) => d < 0))
      throw new OpError(ctx.node, ctx.opset, `shape [${shape}] has a negative dim`);
    return [{ dtype: constantOfShapeValue(ctx)?.dtype ?? 'float32', shape }];
  },
  lower: (ctx, io) => {
    const given = constantOfShapeValue(ctx);
    const out = io.outputs[0];
    const value = given
      ? constOf(given.dtype, typeof given.data[0] === 'bigint' ? given.data[0] : elementValue(given, 0))
      : constOf(out.dtype, 0);
    if (ctx.consts[0]) return [fillKernel(ctx.node.name, out, value)];
    // a shape fed at run time: fill the elements its dims (read from the dims block) multiply to
    const count = (io.sizes ?? []).reduce<Expr>((n, s) => mul(n, dim(s.symbol)), i32(1));
    return [{ name: ctx.node.name, body: [loop('i', count, [store(out, v('i'), value)])] }];
  },
};

const RANGE_DTYPES: DType[] = ['float32', 'float64', 'int16', 'int32', 'int64'];

function rangeParams(ctx: OpContext) {
  const t = expectDtype(ctx, 0, RANGE_DTYPES, 'start');
  for (const i of [1, 2])
    if (ctx.inputs[i]?.dtype !== t.dtype)
      throw new OpError(
        ctx.node,
        ctx.opset,
        `start, limit and delta must share a dtype: start is ${t.dtype}, input ${i} is ${ctx.inputs[i]?.dtype}`,
      );
  if (rangeFedAtRunTime(ctx)) return { dtype: t.dtype, count: 0 };
  const start = constScalar(ctx, 0, 'start');
  const limit = constScalar(ctx, 1, 'limit');
  const delta = constScalar(ctx, 2, 'delta');
  if (delta === 0) throw new OpError(ctx.node, ctx.opset, 'delta must not be 0');
  const count = Math.max(0, Math.ceil((limit - start) / delta));
  return { dtype: t.dtype, count };
}

/**
 * Whether any of Range's start, limit and delta is read at run time (passes/data-shapes.ts makes its
 * count a fed symbol; inferred, the count is a placeholder the rule replaces by its bound).
 */
export const rangeFedAtRunTime = (ctx: OpContext) => [0, 1, 2].some((i) => !ctx.consts[i]);

const range: OpDef = {
  infer: (ctx) => {
    const { dtype, count } = rangeParams(ctx);
    return [{ dtype, shape: [count] }];
  },
  lower: (ctx, io) => {
    const { dtype, count } = rangeParams(ctx);
    const t = scalarOf(dtype);
    // a value read at run time is loaded from its input
    const value = (i: number, what: string) =>
      ctx.consts[i] ? constOf(dtype, constScalar(ctx, i, what)) : load(io.inputs[i]!, i32(0));
    const extent = rangeFedAtRunTime(ctx) ? dim(io.sizes![0].symbol) : count;
    const body = forEachIndex([extent], 'i', ([i]) => [
      store(io.outputs[0], i, add(value(0, 'start'), mul(cast(t, i), value(2, 'delta')))),
    ]);
    return [{ name: ctx.node.name, body }];
  },
};

function eyeLikeType(ctx: OpContext): TensorType {
  const x = dataInput(ctx, 0);
  if (x.shape.length !== 2)
    throw new OpError(ctx.node, ctx.opset, `input must be 2-D, found shape [${x.shape}]`);
  const code = ctx.node.attrs.dtype;
  let dtype = x.dtype;
  if (code !== undefined) {
    try {
      dtype = dtypeFromOnnx(attrInt(ctx.node, 'dtype'));
    } catch (e) {
      throw new OpError(ctx.node, ctx.opset, (e as Error).message);
    }
    if (dtype === 'string') throw new OpError(ctx.node, ctx.opset, 'dtype string is unsupported');
  }
  return { dtype, shape: [...x.shape] };
}

const eyeLike: OpDef = {
  infer: (ctx) => [eyeLikeType(ctx)],
  lower: (ctx, io) => {
    const { dtype, shape } = eyeLikeType(ctx);
    const k = attrInt(ctx.node, 'k', 0);
    const body = forEachIndex(shape, 'i', ([r, c]) => [
      store(
        io.outputs[0],
        rowMajor([r, c], shape),
        select(cmp('eq', c, add(r, i32(k))), constOf(dtype, 1), constOf(dtype, 0)),
      ),
    ]);
    return [{ name: ctx.node.name, body }];
  },
};

/**
 * OneHot's layout. A depth read at run time (passes/data-shapes.ts) is `fedDepth`, its dims-block symbol,
 * when lowering; when inferring, 1 (a placeholder the data-shapes rule replaces by its bound).
 */
function oneHotLayout(ctx: OpContext, fedDepth?: Expr) {
  const indices = dataInput(ctx, 0);
  if (indices.dtype === 'bool') throw new OpError(ctx.node, ctx.opset, 'indices must be numeric, found bool');
  dataInput(ctx, 1);
  if (!ctx.consts[1] && sizeOf(ctx.inputs[1]!.shape) !== 1)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `depth must hold one value, found shape [${ctx.inputs[1]!.shape}]`,
    );
  const depth: Extent = ctx.consts[1] ? Math.trunc(constScalar(ctx, 1, 'depth')) : (fedDepth ?? 1);
  if (typeof depth === 'number' && depth < 1)
    throw new OpError(ctx.node, ctx.opset, `depth must be positive, found ${depth}`);
  const values = dataInput(ctx, 2);
  if (sizeOf(values.shape) !== 2)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `values must hold [off_value, on_value], found shape [${values.shape}]`,
    );
  const rank = indices.shape.length + 1;
  const axis = normAxis(attrInt(ctx.node, 'axis', -1), rank, ctx);
  const outShape: Extent[] = [...indices.shape.slice(0, axis), depth, ...indices.shape.slice(axis)];
  return { indices, depth, values, axis, outShape };
}

const oneHot: OpDef = {
  infer: (ctx) => {
    const { values, outShape } = oneHotLayout(ctx);
    return [{ dtype: values.dtype, shape: outShape as number[] }];
  },
  lower: (ctx, io) => {
    const fedDepth = io.sizes?.length ? dim(io.sizes[0].symbol) : undefined;
    const { indices, depth, axis, outShape } = oneHotLayout(ctx, fedDepth);
    const vals = io.inputs[2]!;
    const body = forEachIndex(outShape, 'i', (idx) => {
      // Indices compare as i64 (floats truncate); negative ones count back from depth.
      const raw = cast(
        'i64',
        load(io.inputs[0]!, rowMajor([...idx.slice(0, axis), ...idx.slice(axis + 1)], indices.shape)),
      );
      const size = typeof depth === 'number' ? cnst('i64', depth) : cast('i64', depth);
      const at = select(cmp('lt', raw, cnst('i64', 0)), add(raw, size), raw);
      const hot = cmp('eq', at, cast('i64', idx[axis]));
      return [
        store(io.outputs[0], rowMajorAt(idx, outShape), select(hot, load(vals, i32(1)), load(vals, i32(0)))),
      ];
    });
    return [{ name: ctx.node.name, body }];
  },
};

registerOp('ConstantOfShape', constantOfShape);
registerOp('Range', range);
registerOp('EyeLike', eyeLike);
registerOp('OneHot', oneHot);
