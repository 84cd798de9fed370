/**
 * QLinearMatMul: y = saturate(rint(Σ (a − a_zp)(b − b_zp) · a_scale·b_scale / y_scale) + y_zp), with
 * MatMul shape rules. Scales and zero points are per tensor, per row of A or per column of B.
 */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { BufRef, Expr, Kernel } from '../../kernels/ir.js';
import {
  add,
  cast,
  div,
  forEachIndex,
  i32,
  linearIndex,
  load,
  local,
  loop,
  mul,
  set,
  store,
  stridesOf,
  sub,
  un,
  v,
} from '../../kernels/build.js';
import { broadcastIndex } from '../broadcast.js';
import { registerOp, type LowerIO, type OpContext } from '../registry.js';
import { fail, fmtShape, typedInput } from '../nn/common.js';
import { matmulShape } from '../nn/matmul.js';
import { QUANT_8BIT, saturateRound } from './common.js';

const scaleTypes = (opset: number): readonly DType[] => (opset >= 21 ? ['float32', 'float16'] : ['float32']);

/** Scale input i and zero point input i+1: one value, or `perAxis` values (rows of A / columns of B). */
function checkParams(ctx: OpContext, i: number, what: string, dtype: DType, perAxis: number): void {
  const scale = typedInput(ctx, i, `${what}_scale`, scaleTypes(ctx.opset));
  const zp = typedInput(ctx, i + 1, `${what}_zero_point`, [dtype]);
  for (const [t, name] of [
    [scale, `${what}_scale`],
    [zp, `${what}_zero_point`],
  ] as const) {
    const n = sizeOf(t.shape);
    if (t.shape.length > 1 || (n !== 1 && n !== perAxis))
      fail(ctx, `${name} has shape ${fmtShape(t.shape)}; expected a scalar or [${perAxis}]`);
  }
}

function shapes(ctx: OpContext) {
  const a = typedInput(ctx, 0, 'a', QUANT_8BIT);
  const b = typedInput(ctx, 3, 'b', QUANT_8BIT);
  const y = typedInput(ctx, 7, 'y_zero_point', QUANT_8BIT);
  const mm = matmulShape(ctx, a.shape, b.shape);
  checkParams(ctx, 1, 'a', a.dtype, mm.M);
  checkParams(ctx, 4, 'b', b.dtype, mm.N);
  checkParams(ctx, 6, 'y', y.dtype, 1);
  return { ...mm, yType: y.dtype };
}

function infer(ctx: OpContext): TensorType[] {
  const { yType, out } = shapes(ctx);
  return [{ dtype: yType, shape: out }];
}

/** Element of a per-tensor or per-axis parameter as f32. */
const param = (buf: BufRef, i: Expr): Expr => cast('f32', load(buf, buf.length === 1 ? i32(0) : i));

function lower(ctx: OpContext, io: LowerIO): Kernel[] {
  const { M, K, N, aBatch, bBatch, batch, yType } = shapes(ctx);
  const [A, aS, aZ, B, bS, bZ, yS, yZ] = io.inputs as BufRef[];
  const Y = io.outputs[0];
  const body = forEachIndex([...batch, M, N], 'y', (idx) => {
    const bi = idx.slice(0, batch.length);
    const [m, n] = idx.slice(batch.length);
    const aAt = add(mul(add(mul(broadcastIndex(bi, aBatch), i32(M)), m), i32(K)), v('k'));
    const bAt = add(mul(add(mul(broadcastIndex(bi, bBatch), i32(K)), v('k')), i32(N)), n);
    const term = mul(
      sub(load(A, aAt), load(aZ, aZ.length === 1 ? i32(0) : m)),
      sub(load(B, bAt), load(bZ, bZ.length === 1 ? i32(0) : n)),
    );
    // The reference multiplies the int32 sum by the float32 multiplier in double precision.
    const multiplier = cast('f64', div(mul(param(aS, m), param(bS, n)), param(yS, i32(0))));
    const scaled = un('nearest', mul(cast('f64', v('acc')), multiplier));
    return [
      local('acc', 'i32', i32(0)),
      loop('k', K, [set('acc', add(v('acc'), term))]),
      store(
        Y,
        linearIndex(idx, stridesOf([...batch, M, N])),
        saturateRound(add(scaled, cast('f64', load(yZ, i32(0)))), yType),
      ),
    ];
  });
  return [{ name: ctx.node.name, body }];
}

registerOp('QLinearMatMul', { sinceVersion: 10, infer, lower });
registerOp('QLinearMatMul', { sinceVersion: 21, infer, lower });
