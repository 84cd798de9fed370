/**
 * ConvInteger (int32 Σ (x − x_zp)(w − w_zp)) and QLinearConv (the same sum plus an int32 bias,
 * requantized to y's scale and zero point). Geometry and attributes as Conv; padding acts as the
 * zero point, so taps outside the input are skipped. Weight zero points and scales may be per
 * output channel.
 */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { BufRef, Expr, Kernel, Stmt } from '../../kernels/ir.js';
import { add, cast, div, i32, load, mul, sub, un } from '../../kernels/build.js';
import { registerOp, type LowerIO, type OpContext } from '../registry.js';
import { fail, fmtShape, requireMinRank, requireShape, typedInput } from '../nn/common.js';
import { directConvLoops, groupOf, kernelShape } from '../nn/conv.js';
import type { ConvGeometry } from '../nn/conv-geometry.js';
import { forwardWindow } from '../nn/window.js';
import { QUANT_8BIT, saturateRound } from './common.js';

function geometry(ctx: OpContext, xi: number, wi: number): ConvGeometry {
  const x = typedInput(ctx, xi, 'x', QUANT_8BIT);
  requireMinRank(ctx, x, 3, 'x');
  const w = typedInput(ctx, wi, 'w', QUANT_8BIT);
  if (w.shape.length !== x.shape.length)
    fail(
      ctx,
      `w has shape ${fmtShape(w.shape)}; expected rank ${x.shape.length} like x ${fmtShape(x.shape)}`,
    );
  const [N, C, ...inSpatial] = x.shape;
  const M = w.shape[0];
  const group = groupOf(ctx, C, w.shape[1], M, false);
  return { N, C, M, group, inSpatial, window: forwardWindow(ctx, inSpatial, kernelShape(ctx, w.shape)) };
}

/** Optional input i: dtype `dtype`, one value or (when `perChannel` > 0) one per output channel. */
function checkParam(
  ctx: OpContext,
  i: number,
  what: string,
  dtypes: readonly DType[],
  perChannel: number,
): void {
  const t = ctx.inputs[i];
  if (!t) return;
  typedInput(ctx, i, what, dtypes);
  const n = sizeOf(t.shape);
  if (t.shape.length > 1 || (n !== 1 && n !== perChannel))
    fail(
      ctx,
      `${what} has shape ${fmtShape(t.shape)}; expected a scalar${perChannel > 1 ? ` or [${perChannel}]` : ''}`,
    );
}

/** A parameter's element for output channel m (per tensor parameters have one element). */
const perChannel = (buf: BufRef, m: Expr): Expr => load(buf, buf.length === 1 ? i32(0) : m);

/** Integer direct convolution: acc = Σ_c Σ_k (x − x_zp)(w − w_zp[m]), then Y = epilogue(acc, m). */
function integerConv(
  g: ConvGeometry,
  X: BufRef,
  xZ: BufRef | undefined,
  W: BufRef,
  wZ: BufRef | undefined,
  Y: BufRef,
  epilogue: (acc: Expr, m: Expr) => Expr,
): Stmt[] {
  return directConvLoops(g, Y, {
    t: 'i32',
    init: () => i32(0),
    term: (xAt, wAt, m) => {
      const xv = xZ ? sub(load(X, xAt), load(xZ, i32(0))) : load(X, xAt);
      const wv = wZ ? sub(load(W, wAt), perChannel(wZ, m)) : load(W, wAt);
      return mul(xv, wv);
    },
    finish: epilogue,
  });
}

function convIntegerInfer(ctx: OpContext): TensorType[] {
  const g = geometry(ctx, 0, 1);
  checkParam(ctx, 2, 'x_zero_point', [ctx.inputs[0]!.dtype], 1);
  checkParam(ctx, 3, 'w_zero_point', [ctx.inputs[1]!.dtype], g.M);
  return [{ dtype: 'int32', shape: [g.N, g.M, ...g.window.out] }];
}

function convIntegerLower(ctx: OpContext, io: LowerIO): Kernel[] {
  const g = geometry(ctx, 0, 1);
  const [X, W, xZ, wZ] = io.inputs;
  const body = integerConv(g, X!, xZ, W!, wZ, io.outputs[0], (acc) => acc);
  return [{ name: ctx.node.name, body }];
}

const scaleTypes = (opset: number): readonly DType[] => (opset >= 21 ? ['float32', 'float16'] : ['float32']);

function qlinearInfer(ctx: OpContext): TensorType[] {
  const g = geometry(ctx, 0, 3);
  const scales = scaleTypes(ctx.opset);
  typedInput(ctx, 1, 'x_scale', scales);
  typedInput(ctx, 2, 'x_zero_point', [ctx.inputs[0]!.dtype]);
  checkParam(ctx, 1, 'x_scale', scales, 1);
  checkParam(ctx, 2, 'x_zero_point', [ctx.inputs[0]!.dtype], 1);
  typedInput(ctx, 4, 'w_scale', scales);
  typedInput(ctx, 5, 'w_zero_point', [ctx.inputs[3]!.dtype]);
  checkParam(ctx, 4, 'w_scale', scales, g.M);
  checkParam(ctx, 5, 'w_zero_point', [ctx.inputs[3]!.dtype], g.M);
  typedInput(ctx, 6, 'y_scale', scales);
  const y = typedInput(ctx, 7, 'y_zero_point', QUANT_8BIT);
  checkParam(ctx, 6, 'y_scale', scales, 1);
  checkParam(ctx, 7, 'y_zero_point', QUANT_8BIT, 1);
  const b = ctx.inputs[8];
  if (b) {
    typedInput(ctx, 8, 'B', ['int32']);
    requireShape(ctx, b, [g.M], 'B');
  }
  return [{ dtype: y.dtype, shape: [g.N, g.M, ...g.window.out] }];
}

function qlinearLower(ctx: OpContext, io: LowerIO): Kernel[] {
  const g = geometry(ctx, 0, 3);
  const [X, xS, xZ, W, wS, wZ, yS, yZ, B] = io.inputs;
  const out = io.outputs[0];
  const f = (buf: BufRef, m: Expr) => cast('f32', perChannel(buf, m));
  const epilogue = (acc: Expr, m: Expr): Expr => {
    const sum = B ? add(acc, load(B, m)) : acc;
    // The reference multiplies the int32 sum by the float32 multiplier in double precision.
    const multiplier = cast('f64', div(mul(f(xS!, i32(0)), f(wS!, m)), f(yS!, i32(0))));
    const scaled = un('nearest', mul(cast('f64', sum), multiplier));
    return saturateRound(add(scaled, cast('f64', load(yZ!, i32(0)))), out.dtype);
  };
  return [{ name: ctx.node.name, body: integerConv(g, X!, xZ, W!, wZ, out, epilogue) }];
}

registerOp('ConvInteger', { sinceVersion: 10, infer: convIntegerInfer, lower: convIntegerLower });
registerOp('QLinearConv', { sinceVersion: 10, infer: qlinearInfer, lower: qlinearLower });
