/**
 * HannWindow, HammingWindow, BlackmanWindow (opset 17): generalized cosine windows
 * y[n] = a0 − a1·cos(2πn/N) + a2·cos(4πn/N), N = size (periodic, the default) or size − 1 (symmetric).
 * The size is a constant input (it is the output's shape); values are computed in f64.
 */
import type { Kernel } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { add, cast, div, f64, loop, mul, store, sub, un, v } from '../../kernels/build.js';
import { OpError, attrInt, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { constIntScalar, outputDatatype } from './common.js';

function windowSize(ctx: OpContext): number {
  const size = constIntScalar(ctx, 0, 'size');
  if (size === undefined) throw new OpError(ctx.node, ctx.opset, 'input 0 (size) is required');
  if (!Number.isInteger(size) || size < 0)
    throw new OpError(ctx.node, ctx.opset, `size must be a non-negative integer, found ${size}`);
  return size;
}

function cosineWindow(a0: number, a1: number, a2: number): OpDef {
  return {
    sinceVersion: 17,
    infer: (ctx) => [{ dtype: outputDatatype(ctx), shape: [windowSize(ctx)] }],
    lower(ctx: OpContext, io: LowerIO): Kernel[] {
      const size = windowSize(ctx);
      const periodic = attrInt(ctx.node, 'periodic', 1) !== 0;
      const n = v('n');
      const angle = div(mul(f64(2 * Math.PI), cast('f64', n)), f64(periodic ? size : size - 1));
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
