/**
 * HannWindow, HammingWindow, BlackmanWindow (opset 17): generalized cosine windows
 * y[n] = a0 − a1·cos(2πn/N) + a2·cos(4πn/N), N = size (periodic, the default) or size − 1 (symmetric).
 * The size is a constant input, or one fed at run time (passes/data-shapes.ts: a size the kernel reads from
 * the dims block, bounded by `--dim SIZE=MIN..MAX`); values are computed in f64.
 */
import type { Extent, Kernel } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { sizeOf } from '../../ir/tensor.js';
import { add, cast, dim, div, f64, i32, loop, mul, store, sub, un, v } from '../../kernels/build.js';
import { OpError, attrInt, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { constIntScalar, outputDatatype } from './common.js';
import { typedInput } from '../elementwise/common.js';

/** The window's size: a constant, or undefined when it is fed at run time. */
function windowSize(ctx: OpContext): number | undefined {
  if (ctx.inputs[0] && !ctx.consts[0]) {
    typedInput(ctx, 0, ['int32', 'int64']);
    if (sizeOf(ctx.inputs[0].shape) !== 1 || ctx.inputs[0].shape.length > 1)
      throw new OpError(ctx.node, ctx.opset, `size must be a scalar, found shape [${ctx.inputs[0].shape}]`);
    return undefined;
  }
  const size = constIntScalar(ctx, 0, 'size');
  if (size === undefined) throw new OpError(ctx.node, ctx.opset, 'input 0 (size) is required');
  if (!Number.isInteger(size) || size < 0)
    throw new OpError(ctx.node, ctx.opset, `size must be a non-negative integer, found ${size}`);
  return size;
}

function cosineWindow(a0: number, a1: number, a2: number): OpDef {
  return {
    sinceVersion: 17,
    // a size fed at run time is typed at its bound by passes/data-shapes.ts
    infer: (ctx) => [{ dtype: outputDatatype(ctx), shape: [windowSize(ctx) ?? 0] }],
    lower(ctx: OpContext, io: LowerIO): Kernel[] {
      const size: Extent = windowSize(ctx) ?? dim(io.sizes![0].symbol);
      const periodic = attrInt(ctx.node, 'periodic', 1) !== 0;
      const n = v('n');
      const period =
        typeof size === 'number'
          ? f64(periodic ? size : size - 1)
          : cast('f64', periodic ? size : sub(size, i32(1)));
      const angle = div(mul(f64(2 * Math.PI), cast('f64', n)), period);
      let y = sub(f64(a0), mul(f64(a1), un('cos', angle)));
      if (a2 !== 0) y = add(y, mul(f64(a2), un('cos', mul(f64(2), angle))));
      const y0 = io.outputs[0];
      return [{ name: ctx.node.name, body: [loop('n', size, [store(y0, n, cast(scalarOf(y0.dtype), y))])] }];
    },
  };
}

registerOp('HannWindow', cosineWindow(0.5, 0.5, 0));
registerOp('HammingWindow', cosineWindow(25 / 46, 21 / 46, 0));
registerOp('BlackmanWindow', cosineWindow(0.42, 0.5, 0.08));
