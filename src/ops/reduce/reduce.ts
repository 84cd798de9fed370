/**
 * ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare. Axes come from an attribute in older
 * opsets and from an optional input in newer ones (ReduceSum from 13, the rest from 18): a constant, or
 * a model input read at run time (#11), whose output dims are then fed symbols (passes/data-shapes.ts).
 */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import { sizeOf, tensorToNumbers } from '../../ir/tensor.js';
import type { BufRef, Expr, Extent, Kernel, Scalar, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  cast,
  dim,
  forEachIndex,
  linearIndex,
  load,
  local,
  mul,
  set,
  store,
  stridesOf,
  sub,
  i32,
  un,
  v,
} from '../../kernels/build.js';
import { hasInput, rowMajorAt } from '../shape/common.js';
import { fedAxesBounds } from '../shape/reshape.js';
import {
  OpError,
  attrInt,
  attrInts,
  constInput,
  registerOp,
  type LowerIO,
  type OpContext,
  type OpDef,
} from '../registry.js';
import { NUMERIC, isUnsigned, typeExtreme, typedInput } from '../elementwise/common.js';
import { absOf, divide, isFloatScalar, k, maxOf, minOf } from '../elementwise/scalar.js';

interface Reducer {
  /** dtypes the op accepts */
  allowed: readonly DType[];
  /** reductions whose result is inherently real (sqrt, log) accumulate integers in f64 */
  realValued?: boolean;
  init(t: Scalar, dtype: DType): Expr;
  step(acc: Expr, x: Expr, dtype: DType): Expr;
  finish(acc: Expr, count: Expr, dtype: DType): Expr;
  /** LogSumExp subtracts the running maximum before exponentiating */
  needsMax?: boolean;
}

const identity = (acc: Expr) => acc;
const sumInit = (t: Scalar) => k(t, 0);

const REDUCERS: Record<string, Reducer> = {
  ReduceSum: { allowed: NUMERIC, init: sumInit, step: add, finish: identity },
  ReduceMean: {
    allowed: NUMERIC,
    init: sumInit,
    step: add,
    finish: (acc, count, dtype) => divide(acc, count, isUnsigned(dtype)),
  },
  ReduceMax: {
    allowed: NUMERIC,
    init: (_, dtype) => typeExtreme(dtype, 'min'),
    step: (acc, x, dtype) => maxOf(acc, x, isUnsigned(dtype)),
    finish: identity,
  },
  ReduceMin: {
    allowed: NUMERIC,
    init: (_, dtype) => typeExtreme(dtype, 'max'),
    step: (acc, x, dtype) => minOf(acc, x, isUnsigned(dtype)),
    finish: identity,
  },
  ReduceProd: { allowed: NUMERIC, init: (t) => k(t, 1), step: mul, finish: identity },
  ReduceL1: {
    allowed: NUMERIC,
    init: sumInit,
    step: (acc, x, dtype) => add(acc, absOf(x, isUnsigned(dtype))),
    finish: identity,
  },
  ReduceSumSquare: {
    allowed: NUMERIC,
    init: sumInit,
    step: (acc, x) => add(acc, mul(x, x)),
    finish: identity,
  },
  ReduceL2: {
    allowed: NUMERIC,
    realValued: true,
    init: sumInit,
    step: (acc, x) => add(acc, mul(x, x)),
    finish: (acc) => un('sqrt', acc),
  },
  ReduceLogSum: {
    allowed: NUMERIC,
    realValued: true,
    init: sumInit,
    step: add,
    finish: (acc) => un('log', acc),
  },
  ReduceLogSumExp: {
    allowed: NUMERIC,
    realValued: true,
    needsMax: true,
    init: sumInit,
    step: (acc, x) => add(acc, un('exp', x)),
    finish: (acc) => un('log', acc),
  },
};

type Plan = { type: TensorType; axes: number[] | 'noop' | 'fed'; keepdims: boolean };

/** The first opset whose `op` takes its axes as input 1. */
export const axesInputSince = (op: string) => (op === 'ReduceSum' ? 13 : 18);

/** Whether input 1 (axes) is read at run time: fed, not empty (an empty one reduces every axis or none). */
export const reduceAxesFed = (ctx: OpContext) =>
  ctx.opset >= axesInputSince(ctx.node.op) &&
  hasInput(ctx, 1) &&
  !ctx.consts[1] &&
  sizeOf(ctx.inputs[1]!.shape) > 0;

function readAxes(ctx: OpContext, rank: number, fromInput: boolean): number[] | 'noop' {
  let axes: number[];
  if (fromInput) {
    const given = ctx.inputs[1];
    axes = given && sizeOf(given.shape) > 0 ? tensorToNumbers(constInput(ctx, 1, 'axes')) : [];
    if (axes.length === 0 && attrInt(ctx.node, 'noop_with_empty_axes', 0) === 1) return 'noop';
  } else {
    axes = attrInts(ctx.node, 'axes', []);
  }
  if (axes.length === 0) return [...Array(rank).keys()];
  const normalized = axes.map((a) => {
    const n = a < 0 ? a + rank : a;
    if (n < 0 || n >= rank) throw new OpError(ctx.node, ctx.opset, `axis ${a} out of range for rank ${rank}`);
    return n;
  });
  if (new Set(normalized).size !== normalized.length)
    throw new OpError(ctx.node, ctx.opset, `axes [${axes.join(',')}] name an axis twice`);
  return normalized.sort((a, b) => a - b);
}

function plan(ctx: OpContext, reducer: Reducer, fromInput: boolean): Plan {
  const x = typedInput(ctx, 0, reducer.allowed);
  if (fromInput && ctx.inputs[1]) typedInput(ctx, 1, ['int64']);
  const keepdims = attrInt(ctx.node, 'keepdims', 1) === 1;
  if (fromInput && reduceAxesFed(ctx)) {
    // at the bounds: a kept dim, or 1 where reduced (keepdims); the dims an axis removed may shift into
    const removed = fedAxesBounds(ctx, 'squeeze');
    const shape = keepdims ? x.shape.map((d) => Math.max(d, 1)) : removed.shape;
    return { type: { dtype: x.dtype, shape }, axes: 'fed', keepdims };
  }
  const axes = readAxes(ctx, x.shape.length, fromInput);
  if (axes === 'noop') return { type: x, axes, keepdims };
  const shape = keepdims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
  return { type: { dtype: x.dtype, shape }, axes, keepdims };
}

/**
 * out[outIndex(o)] = finish(fold(step, init, element(o, r))) for each index o over `keptExtents`, r running
 * over `reducedExtents` inside: one accumulator per output element. LogSumExp first finds the maximum in a
 * separate pass.
 */
function reductionLoops(
  reducer: Reducer,
  dtype: DType,
  t: Scalar,
  extents: { kept: readonly Extent[]; reduced: readonly Extent[] },
  element: (o: Expr[], r: Expr[]) => Expr,
  count: Expr,
  storeResult: (o: Expr[], value: Expr) => Stmt,
): Stmt[] {
  const acc = v('acc', t);
  const mx = v('mx', t);
  const stmts: Stmt[] = [local('acc', t, k(t, 0))];
  if (reducer.needsMax) stmts.push(local('mx', t, k(t, 0)));
  const perOutput = (o: Expr[]) => {
    const body: Stmt[] = [];
    if (reducer.needsMax) {
      body.push(set('mx', k(t, -Infinity)));
      body.push(...forEachIndex(extents.reduced, 'm', (m) => [set('mx', maxOf(mx, element(o, m), false))]));
    }
    const shifted = (r: Expr[]) => (reducer.needsMax ? sub(element(o, r), mx) : element(o, r));
    body.push(set('acc', reducer.init(t, dtype)));
    body.push(
      ...forEachIndex(extents.reduced, 'r', (r) => [set('acc', reducer.step(acc, shifted(r), dtype))]),
    );
    let result = reducer.finish(acc, count, dtype);
    if (reducer.needsMax) result = add(mx, result);
    body.push(storeResult(o, result));
    return body;
  };
  return [...stmts, ...forEachIndex(extents.kept, 'o', perOutput)];
}

/** The accumulator's type: reductions whose result is real (sqrt, log) accumulate integers in f64. */
const accumulatorOf = (reducer: Reducer, dtype: DType): Scalar =>
  reducer.realValued && !isFloatScalar(scalarOf(dtype)) ? 'f64' : scalarOf(dtype);

/** The reduction over axes known at compile time: the kept dims loop outside, the reduced dims inside. */
function reduceKernel(
  name: string,
  reducer: Reducer,
  x: BufRef,
  shape: readonly number[],
  axes: number[],
  out: BufRef,
): Kernel {
  const dtype = x.dtype;
  const t = accumulatorOf(reducer, dtype);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const strides = stridesOf(shape);
  const element = (keptIdx: Expr[], reducedIdx: Expr[]): Expr => {
    const idx = new Array<Expr>(shape.length);
    kept.forEach((d, j) => (idx[d] = keptIdx[j]));
    axes.forEach((d, j) => (idx[d] = reducedIdx[j]));
    return cast(t, load(x, linearIndex(idx, strides)), isUnsigned(dtype));
  };
  const keptShape = kept.map((d) => shape[d]);
  const count = k(t, sizeOf(axes.map((a) => shape[a])));
  const body = reductionLoops(
    reducer,
    dtype,
    t,
    { kept: keptShape, reduced: axes.map((a) => shape[a]) },
    element,
    count,
    (o, value) => store(out, linearIndex(o, stridesOf(keptShape)), cast(scalarOf(out.dtype), value)),
  );
  return { name, body };
}

/**
 * The reduction over axes read at run time (passes/data-shapes.ts): per input axis, the kept extent is a
 * fed symbol the runtime resolves (1 where an axis names it, else the dim) and the reduced extent the other
 * way round, dim + 1 − kept; the output loops over the kept extents (its row-major offsets are the same
 * with or without keepdims), each output element over the reduced ones. Speed is not the point here.
 */
function fedAxesReduceKernel(
  name: string,
  reducer: Reducer,
  x: BufRef,
  shape: readonly number[],
  io: LowerIO,
): Kernel {
  const dtype = x.dtype;
  const out = io.outputs[0];
  const t = accumulatorOf(reducer, dtype);
  const kept = shape.map((_, a) => {
    const s = io.sizes!.find((z) => z.fed?.axes?.keepdims && z.fed.index === a)!;
    return dim(s.symbol);
  });
  const reduced = shape.map((d, a) => sub(i32(d + 1), kept[a]));
  const at = (o: Expr[], r: Expr[]) =>
    linearIndex(
      o.map((e, a) => add(e, r[a])),
      stridesOf(shape),
    );
  const body = reductionLoops(
    reducer,
    dtype,
    t,
    { kept, reduced },
    (o, r) => cast(t, load(x, at(o, r)), isUnsigned(dtype)),
    cast(
      t,
      reduced.reduce((n, e) => mul(n, e)),
    ),
    (o, value) => store(out, rowMajorAt(o, kept), cast(scalarOf(out.dtype), value)),
  );
  return { name, body };
}

function copyKernel(name: string, x: BufRef, out: BufRef): Kernel {
  return { name, body: forEachIndex([x.length], 'i', ([i]) => [store(out, i, load(x, i))]) };
}

function reduceOp(op: string, fromInput: boolean, sinceVersion: number): OpDef {
  const reducer = REDUCERS[op];
  return {
    sinceVersion,
    infer: (ctx) => [plan(ctx, reducer, fromInput).type],
    lower(ctx: OpContext, io: LowerIO): Kernel[] {
      const { axes } = plan(ctx, reducer, fromInput);
      const x = io.inputs[0]!;
      if (axes === 'noop') return [copyKernel(ctx.node.name, x, io.outputs[0])];
      if (axes === 'fed') return [fedAxesReduceKernel(ctx.node.name, reducer, x, ctx.inputs[0]!.shape, io)];
      return [reduceKernel(ctx.node.name, reducer, x, ctx.inputs[0]!.shape, axes, io.outputs[0])];
    },
  };
}

for (const op of Object.keys(REDUCERS)) {
  registerOp(op, reduceOp(op, false, 1));
  registerOp(op, reduceOp(op, true, axesInputSince(op)));
}

/** The reduce ops (their axes may be fed at run time, see reduceAxesFed). */
export const REDUCE_OPS = Object.keys(REDUCERS);
