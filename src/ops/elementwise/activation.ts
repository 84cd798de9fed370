/** Activation functions: Relu family, sigmoids, Softplus/Softsign, Gelu, Mish, Shrink and Clip. */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Expr, Kernel } from '../../kernels/ir.js';
import { add, cast, cmp, div, mul, select, sub, un } from '../../kernels/build.js';
import {
  OpError,
  attrFloat,
  attrString,
  registerOp,
  type LowerIO,
  type OpContext,
  type OpDef,
} from '../registry.js';
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

/** A float-only activation y = f(x) with float attributes read through `attr(name, default)`. */
function floatActivation(
  f: (x: Expr, attr: (name: string, dflt: number) => number) => Expr,
  sinceVersion = 1,
) {
  return elementwiseOp(
    {
      arity: 1,
      allowed: FLOATS,
      compute: (ctx, [x]) => f(x, (name, dflt) => attrFloat(ctx.node, name, dflt)),
    },
    sinceVersion,
  );
}

const one = (x: Expr) => k(x.t, 1);
const zero = (x: Expr) => k(x.t, 0);
const exp = (x: Expr) => un('exp', x);
const isNegative = (x: Expr) => cmp('lt', x, zero(x));
const sigmoid = (x: Expr) => div(one(x), add(one(x), exp(un('neg', x))));
/** log(1 + e^x) without overflow: max(x, 0) + log(1 + e^-|x|). */
const softplus = (x: Expr) =>
  add(maxOf(x, zero(x), false), un('log', add(one(x), exp(un('neg', un('abs', x))))));

registerOp(
  'Relu',
  elementwiseOp({ arity: 1, allowed: SIGNED, compute: (_, [x]) => maxOf(x, zero(x), false) }),
);
registerOp(
  'LeakyRelu',
  floatActivation((x, attr) => select(isNegative(x), mul(k(x.t, attr('alpha', 0.01)), x), x)),
);
registerOp(
  'ThresholdedRelu',
  floatActivation((x, attr) => select(cmp('gt', x, k(x.t, attr('alpha', 1))), x, zero(x)), 10),
);
registerOp(
  'Elu',
  floatActivation((x, attr) => select(isNegative(x), mul(k(x.t, attr('alpha', 1)), sub(exp(x), one(x))), x)),
);
registerOp(
  'Selu',
  floatActivation((x, attr) => {
    const alpha = k(x.t, attr('alpha', 1.6732632423543772));
    const gamma = k(x.t, attr('gamma', 1.0507009873554805));
    return mul(gamma, select(cmp('gt', x, zero(x)), x, mul(alpha, sub(exp(x), one(x)))));
  }),
);
registerOp(
  'Celu',
  floatActivation((x, attr) => {
    const alpha = k(x.t, attr('alpha', 1));
    const negativePart = mul(alpha, sub(exp(div(x, alpha)), one(x)));
    return add(maxOf(x, zero(x), false), minOf(negativePart, zero(x), false));
  }, 12),
);
registerOp(
  'Sigmoid',
  floatActivation((x) => sigmoid(x)),
);
registerOp(
  'HardSigmoid',
  floatActivation((x, attr) => {
    const linear = add(mul(k(x.t, attr('alpha', 0.2)), x), k(x.t, attr('beta', 0.5)));
    return maxOf(zero(x), minOf(one(x), linear, false), false);
  }),
);
registerOp(
  'HardSwish',
  floatActivation(
    (x) => mul(x, maxOf(zero(x), minOf(one(x), add(div(x, k(x.t, 6)), k(x.t, 0.5)), false), false)),
    14,
  ),
);
registerOp(
  'Softplus',
  floatActivation((x) => softplus(x)),
);
registerOp(
  'Softsign',
  floatActivation((x) => div(x, add(one(x), un('abs', x)))),
);
registerOp(
  'Mish',
  floatActivation((x) => mul(x, un('tanh', softplus(x))), 18),
);

registerOp(
  'Gelu',
  elementwiseOp(
    {
      arity: 1,
      allowed: FLOATS,
      check: (ctx) => {
        const approximate = attrString(ctx.node, 'approximate', 'none');
        if (approximate !== 'none' && approximate !== 'tanh')
          throw new OpError(
            ctx.node,
            ctx.opset,
            `attribute approximate must be "none" or "tanh", found "${approximate}"`,
          );
      },
      compute: (ctx, [x]) => {
        const half = mul(k(x.t, 0.5), x);
        if (attrString(ctx.node, 'approximate', 'none') === 'tanh') {
          const cube = mul(mul(x, x), x);
          const inner = mul(k(x.t, Math.sqrt(2 / Math.PI)), add(x, mul(k(x.t, 0.044715), cube)));
          return mul(half, add(one(x), un('tanh', inner)));
        }
        return mul(half, add(one(x), un('erf', mul(x, k(x.t, Math.SQRT1_2)))));
      },
    },
    20,
  ),
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
