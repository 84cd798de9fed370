/** Cast and CastLike between every storage dtype Kiln has (string and the float8/bfloat16 family excluded). */
import { dtypeFromOnnx, type DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import type { Expr, Kernel } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { cast } from '../../kernels/build.js';
import { OpError, attrInt, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { elementwiseKernel, inputOf, isFloatType, isUnsigned } from './common.js';
import { truthy } from './scalar.js';

/**
 * Convert one element. Floats → integers truncate toward zero (saturating at the i32/i64 range, then
 * wrapping into narrow types on store); integer sources read as unsigned where their dtype is.
 */
export function convert(x: Expr, from: DType, to: DType): Expr {
  if (to === 'bool') return truthy(x);
  const t = scalarOf(to);
  // uint32 spans past i32's range, so floats reach it through i64 and wrap.
  if (to === 'uint32' && isFloatType(from)) return cast('i32', cast('i64', x));
  return cast(t, x, isUnsigned(from));
}

function requireCastable(ctx: OpContext, dtype: DType, role: string): void {
  if (dtype === 'string') throw new OpError(ctx.node, ctx.opset, `casting ${role} string is not supported`);
}

function castTarget(ctx: OpContext): DType {
  const code = attrInt(ctx.node, 'to');
  try {
    return dtypeFromOnnx(code);
  } catch (e) {
    throw new OpError(ctx.node, ctx.opset, `attribute to: ${(e as Error).message}`);
  }
}

function castDef(target: (ctx: OpContext) => DType, arity: number): OpDef {
  const types = (ctx: OpContext): { from: TensorType; to: DType } => {
    if (ctx.inputs.length !== arity)
      throw new OpError(ctx.node, ctx.opset, `expected ${arity} input(s), found ${ctx.inputs.length}`);
    const from = inputOf(ctx, 0);
    const to = target(ctx);
    requireCastable(ctx, from.dtype, 'from');
    requireCastable(ctx, to, 'to');
    return { from, to };
  };
  return {
    infer(ctx) {
      const { from, to } = types(ctx);
      return [{ dtype: to, shape: from.shape }];
    },
    lower(ctx: OpContext, io: LowerIO): Kernel[] {
      const { from, to } = types(ctx);
      const x = io.inputs[0]!;
      return [
        elementwiseKernel(ctx.node.name, io.outputs[0], from.shape, [{ buf: x, shape: from.shape }], ([v]) =>
          convert(v, from.dtype, to),
        ),
      ];
    },
  };
}

registerOp('Cast', castDef(castTarget, 1));
registerOp('CastLike', { ...castDef((ctx) => inputOf(ctx, 1).dtype, 2), sinceVersion: 15 });
