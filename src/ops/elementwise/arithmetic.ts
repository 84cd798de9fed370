/** Add Sub Mul Div Mod Pow and the variadic Sum Mean Min Max, with multidirectional broadcasting. */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import type { Expr, Kernel } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { add, bin, cast, cmp, div, mul, select, sub } from '../../kernels/build.js';
import { OpError, attrInt, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import {
  FLOATS,
  NUMERIC,
  broadcastOrThrow,
  elementwiseKernel,
  elementwiseOp,
  isFloatType,
  isUnsigned,
  operandsOf,
  typedInput,
} from './common.js';
import { divide, isFloatScalar, k, maxOf, minOf, safeDivisor, toFloat } from './scalar.js';

/** Mod: fmod=1 is C fmod (sign of the dividend); fmod=0 is Python's % (sign of the divisor), integers only. */
function modulo(ctx: OpContext, a: Expr, b: Expr, dtype: DType): Expr {
  if (isFloatScalar(a.t)) return bin('rem', a, b);
  const zeroDivisor = cmp('eq', b, k(b.t, 0));
  const r = select(zeroDivisor, k(a.t, 0), bin(isUnsigned(dtype) ? 'rem_u' : 'rem', a, safeDivisor(b)));
  if (attrInt(ctx.node, 'fmod', 0) === 1 || isUnsigned(dtype)) return r;
  const signsDiffer = cmp('ne', cmp('lt', r, k(r.t, 0)), cmp('lt', b, k(b.t, 0)));
  const adjust = bin('and', cmp('ne', r, k(r.t, 0)), signsDiffer);
  return select(adjust, add(r, b), r);
}

const checkFmod = (ctx: OpContext, dtype: DType) => {
  const fmod = attrInt(ctx.node, 'fmod', 0);
  if (fmod !== 0 && fmod !== 1)
    throw new OpError(ctx.node, ctx.opset, `attribute fmod must be 0 or 1, found ${fmod}`);
  if (fmod === 0 && isFloatType(dtype))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `fmod=0 is not defined for ${dtype} inputs; floating-point Mod needs fmod=1`,
    );
};

registerOp('Add', elementwiseOp({ arity: 2, allowed: NUMERIC, compute: (_, [a, b]) => add(a, b) }));
registerOp('Sub', elementwiseOp({ arity: 2, allowed: NUMERIC, compute: (_, [a, b]) => sub(a, b) }));
registerOp('Mul', elementwiseOp({ arity: 2, allowed: NUMERIC, compute: (_, [a, b]) => mul(a, b) }));
registerOp(
  'Div',
  elementwiseOp({ arity: 2, allowed: NUMERIC, compute: (_, [a, b], d) => divide(a, b, isUnsigned(d)) }),
);
registerOp(
  'Mod',
  elementwiseOp({
    arity: 2,
    allowed: NUMERIC,
    check: checkFmod,
    compute: (ctx, [a, b], d) => modulo(ctx, a, b, d),
  }),
);

registerOp('Sum', elementwiseOp({ arity: 'variadic', allowed: NUMERIC, compute: (_, xs) => xs.reduce(add) }));
registerOp(
  'Mean',
  elementwiseOp({
    arity: 'variadic',
    allowed: FLOATS,
    compute: (_, xs) => div(xs.reduce(add), k(xs[0].t, xs.length)),
  }),
);
registerOp(
  'Min',
  elementwiseOp({
    arity: 'variadic',
    allowed: NUMERIC,
    compute: (_, xs, d) => xs.reduce((a, b) => minOf(a, b, isUnsigned(d))),
  }),
);
registerOp(
  'Max',
  elementwiseOp({
    arity: 'variadic',
    allowed: NUMERIC,
    compute: (_, xs, d) => xs.reduce((a, b) => maxOf(a, b, isUnsigned(d))),
  }),
);

// Pow: base T and exponent T1 may differ; the output has the base's dtype.
const POW_BASE: readonly DType[] = [...FLOATS, 'int32', 'int64'];

function powTypes(ctx: OpContext): { base: TensorType; exponent: TensorType; shape: number[] } {
  if (ctx.inputs.length !== 2)
    throw new OpError(ctx.node, ctx.opset, `expected 2 inputs, found ${ctx.inputs.length}`);
  const base = typedInput(ctx, 0, POW_BASE);
  const exponent = typedInput(ctx, 1, NUMERIC);
  return { base, exponent, shape: broadcastOrThrow(ctx, [base.shape, exponent.shape]) };
}

const pow: OpDef = {
  infer(ctx) {
    const { base, shape } = powTypes(ctx);
    return [{ dtype: base.dtype, shape }];
  },
  lower(ctx: OpContext, io: LowerIO): Kernel[] {
    const { base, exponent, shape } = powTypes(ctx);
    const t = scalarOf(base.dtype);
    // Integer bases compute in f64 (exact for every result that fits) and truncate back, like NumPy.
    const ft = isFloatScalar(t) ? (t as 'f32' | 'f64') : 'f64';
    return [
      elementwiseKernel(ctx.node.name, io.outputs[0], shape, operandsOf(ctx, io.inputs), ([a, b]) =>
        cast(t, bin('pow', toFloat(ft, a, false), toFloat(ft, b, isUnsigned(exponent.dtype)))),
      ),
    ];
  },
};
registerOp('Pow', pow);
