/**
 * Activation functions: Relu, PRelu, Shrink and Clip. The float activations (Elu, Sigmoid, HardSwish,
 * Gelu...) are written in the kernel language: float-activation.ts.
 */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Expr, Kernel } from '../../kernels/ir.js';
import { add, cast, cmp, mul, select, sub, un } from '../../kernels/build.js';
import { OpError, attrFloat, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import {
  FLOATS,
  NUMERIC,
  SIGNED,
  broadcastOrThrow,
  elementwiseKernel,
  elementwiseOp,
  isUnsigned,
  typedInput,
  type Operand,
} from './common.js';
import { isFloatScalar, k, maxOf, minOf } from './scalar.js';

const zero = (x: Expr) => k(x.t, 0);
const isNegative = (x: Expr) => cmp('lt', x, zero(x));

registerOp(
  'Relu',
  elementwiseOp({ arity: 1, allowed: SIGNED, compute: (_, [x]) => maxOf(x, zero(x), false) }),
);

// Shrink accepts integer types too; the comparison and shift happen in floating point, then truncate back.
registerOp(
  'Shrink',
  elementwiseOp(
    {
      arity: 1,
      allowed: NUMERIC,
      compute: (ctx, [x], dtype) => {
        const ft = isFloatScalar(x.t) ? x.t : 'f64';
        const xf = cast(ft, x, isUnsigned(dtype));
        const lambd = k(ft, attrFloat(ctx.node, 'lambd', 0.5));
        const bias = k(ft, attrFloat(ctx.node, 'bias', 0));
        const y = select(
          cmp('lt', xf, un('neg', lambd)),
          add(xf, bias),
          select(cmp('gt', xf, lambd), sub(xf, bias), k(ft, 0)),
        );
        return cast(x.t, y);
      },
    },
    9,
  ),
);

// PRelu: slope broadcasts to X (unidirectionally); the output has X's shape.
function preluTypes(ctx: OpContext): TensorType {
  if (ctx.inputs.length !== 2)
    throw new OpError(ctx.node, ctx.opset, `expected 2 inputs, found ${ctx.inputs.length}`);
  const allowed = ctx.opset >= 16 ? ([...FLOATS, 'int32', 'int64', 'uint32', 'uint64'] as DType[]) : FLOATS;
  const x = typedInput(ctx, 0, allowed);
  const slope = typedInput(ctx, 1, [x.dtype]);
  const shape = broadcastOrThrow(ctx, [x.shape, slope.shape]);
  if (shape.length !== x.shape.length || shape.some((d, i) => d !== x.shape[i]))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `slope of shape [${slope.shape.join(',')}] does not broadcast to X of shape [${x.shape.join(',')}]`,
    );
  return x;
}
const prelu: OpDef = {
  infer: (ctx) => [preluTypes(ctx)],
  lower(ctx: OpContext, io: LowerIO): Kernel[] {
    const x = preluTypes(ctx);
    const operands: Operand[] = [
      { buf: io.inputs[0]!, shape: x.shape },
      { buf: io.inputs[1]!, shape: ctx.inputs[1]!.shape },
    ];
    return [
      elementwiseKernel(ctx.node.name, io.outputs[0], x.shape, operands, ([v, slope]) =>
        isUnsigned(x.dtype) ? v : select(isNegative(v), mul(slope, v), v),
      ),
    ];
  },
};
registerOp('PRelu', prelu);

// Clip before opset 11 takes bounds as attributes (opset 6 defaults them to ±FLT_MAX).
const FLT_MAX = 3.4028234663852886e38;
function clipWithAttributes(defaultBound: number | undefined, sinceVersion: number): OpDef {
  return elementwiseOp(
    {
      arity: 1,
      allowed: FLOATS,
      compute: (ctx, [x]) => {
        const bound = (name: 'min' | 'max', sign: number): Expr | undefined => {
          if (ctx.node.attrs[name] !== undefined) return k(x.t, attrFloat(ctx.node, name));
          return defaultBound === undefined ? undefined : k(x.t, sign * defaultBound);
        };
        return clamp(x, bound('min', -1), bound('max', 1), false);
      },
    },
    sinceVersion,
  );
}

/** min(max(x, lo), hi): when lo > hi every element becomes hi, as in ONNX Runtime. */
function clamp(x: Expr, lo: Expr | undefined, hi: Expr | undefined, unsigned: boolean): Expr {
  const low = lo ? maxOf(x, lo, unsigned) : x;
  return hi ? minOf(low, hi, unsigned) : low;
}

// Clip from opset 11: optional scalar inputs min (1) and max (2), which may be computed at run time.
function clipTypes(ctx: OpContext): TensorType {
  const x = typedInput(ctx, 0, NUMERIC);
  for (const i of [1, 2]) {
    const bound = ctx.inputs[i];
    if (!bound) continue;
    typedInput(ctx, i, [x.dtype]);
    if (sizeOf(bound.shape) !== 1)
      throw new OpError(
        ctx.node,
        ctx.opset,
        `input ${i} (${i === 1 ? 'min' : 'max'}) must be a scalar, found shape [${bound.shape.join(',')}]`,
      );
  }
  return x;
}
const clipInputs: OpDef = {
  sinceVersion: 11,
  infer: (ctx) => [clipTypes(ctx)],
  lower(ctx: OpContext, io: LowerIO): Kernel[] {
    const x = clipTypes(ctx);
    const operands: Operand[] = [{ buf: io.inputs[0]!, shape: x.shape }];
    const hasLo = !!io.inputs[1];
    const hasHi = !!io.inputs[2];
    if (hasLo) operands.push({ buf: io.inputs[1]!, shape: [] });
    if (hasHi) operands.push({ buf: io.inputs[2]!, shape: [] });
    return [
      elementwiseKernel(ctx.node.name, io.outputs[0], x.shape, operands, ([v, ...rest]) =>
        clamp(v, hasLo ? rest[0] : undefined, hasHi ? rest[hasLo ? 1 : 0] : undefined, isUnsigned(x.dtype)),
      ),
    ];
  },
};
registerOp('Clip', clipWithAttributes(undefined, 1));
registerOp('Clip', clipWithAttributes(FLT_MAX, 6));
registerOp('Clip', clipInputs);
