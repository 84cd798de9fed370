/**
 * ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare. Axes come from an attribute in older
 * opsets and from an optional constant input in newer ones (ReduceSum from 13, the rest from 18).
 */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import { sizeOf, tensorToNumbers } from '../../ir/tensor.js';
import type { BufRef, Expr, Kernel, Scalar, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  cast,
  forEachIndex,
  linearIndex,
  load,
  local,
  mul,
  set,
  store,
  stridesOf,
  sub,
  un,
  v,
} from '../../kernels/build.js';
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
  finish(acc: Expr, count: number, dtype: DType): Expr;
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
    finish: (acc, count, dtype) => divide(acc, k(acc.t, count), isUnsigned(dtype)),
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

type Plan = { type: TensorType; axes: number[] | 'noop'; keepdims: boolean };

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
  const axes = readAxes(ctx, x.shape.length, fromInput);
  if (axes === 'noop') return { type: x, axes, keepdims };
  const shape = keepdims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
  return { type: { dtype: x.dtype, shape }, axes, keepdims };
}

/**
 * out[kept] = finish(fold(step, init, x[kept, reduced])): loops over the kept dims hold one accumulator
 * each; the reduced dims loop inside. LogSumExp first finds the maximum in a separate pass.
 */
function reduceKernel(
  name: string,
  reducer: Reducer,
  x: BufRef,
  shape: readonly number[],
  axes: number[],
  out: BufRef,
): Kernel {
  const dtype = x.dtype;
  const t = reducer.realValued && !isFloatScalar(scalarOf(dtype)) ? 'f64' : scalarOf(dtype);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const strides = stridesOf(shape);
  const count = sizeOf(axes.map((a) => shape[a]));
  const element = (keptIdx: Expr[], reducedIdx: Expr[]): Expr => {
    const idx = new Array<Expr>(shape.length);
    kept.forEach((d, j) => (idx[d] = keptIdx[j]));
    axes.forEach((d, j) => (idx[d] = reducedIdx[j]));
    return cast(t, load(x, linearIndex(idx, strides)), isUnsigned(dtype));
  };
  const reducedShape = axes.map((a) => shape[a]);
  const body: Stmt[] = [local('acc', t, k(t, 0))];
  if (reducer.needsMax) body.push(local('mx', t, k(t, 0)));
  const acc = v('acc', t);
  const mx = v('mx', t);
  body.push(
    ...forEachIndex(
      kept.map((d) => shape[d]),
      'o',
      (keptIdx) => {
        const stmts: Stmt[] = [];
        if (reducer.needsMax) {
          stmts.push(set('mx', k(t, -Infinity)));
          stmts.push(
            ...forEachIndex(reducedShape, 'm', (r) => [set('mx', maxOf(mx, element(keptIdx, r), false))]),
          );
        }
        const shifted = (r: Expr[]) =>
          reducer.needsMax ? sub(element(keptIdx, r), mx) : element(keptIdx, r);
        stmts.push(set('acc', reducer.init(t, dtype)));
        stmts.push(
          ...forEachIndex(reducedShape, 'r', (r) => [set('acc', reducer.step(acc, shifted(r), dtype))]),
        );
        let result = reducer.finish(acc, count, dtype);
        if (reducer.needsMax) result = add(mx, result);
        stmts.push(
          store(
            out,
            linearIndex(keptIdx, stridesOf(kept.map((d) => shape[d]))),
            cast(scalarOf(out.dtype), result),
          ),
        );
        return stmts;
      },
    ),
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
      return [reduceKernel(ctx.node.name, reducer, x, ctx.inputs[0]!.shape, axes, io.outputs[0])];
    },
  };
}

for (const op of Object.keys(REDUCERS)) {
  const axesInputSince = op === 'ReduceSum' ? 13 : 18;
  registerOp(op, reduceOp(op, false, 1));
  registerOp(op, reduceOp(op, true, axesInputSince));
}
