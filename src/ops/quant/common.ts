/**
 * Quantization parameters shared by the linear quantization ops: the integer range of a quantized
 * dtype, how a scale / zero point tensor maps onto the data (per tensor, per axis, per block), and the
 * saturating round-half-to-even conversion y = clamp(rint(v), lo, hi).
 */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { BufRef, Expr, Scalar } from '../../kernels/ir.js';
import { cast, cnst, div, i32, linearIndex, max, min, stridesOf, un } from '../../kernels/build.js';
import { attrInt, normAxis, type OpContext } from '../registry.js';
import { fail, fmtShape, loadAs } from '../nn/common.js';

/** Integer range of the quantized storage types Kiln has. */
const RANGES: Partial<Record<DType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
};

export const QUANT_8BIT: readonly DType[] = ['uint8', 'int8'];
/** Opset 21 added 16-bit quantized types. */
export const quantTypes = (opset: number): readonly DType[] =>
  opset >= 21 ? ['uint8', 'int8', 'uint16', 'int16'] : QUANT_8BIT;

export function quantRange(dtype: DType): [number, number] {
  const r = RANGES[dtype];
  if (!r) throw new Error(`internal: ${dtype} is not a quantized dtype`);
  return r;
}

/** clamp(rint(v), lo, hi) of a float value as the i32 a quantized buffer stores. */
export function saturateRound(value: Expr, dtype: DType): Expr {
  const [lo, hi] = quantRange(dtype);
  const t = value.t;
  return cast('i32', min(max(un('nearest', value), cnst(t, lo)), cnst(t, hi)));
}

/** How a scale (and its zero point) covers the data tensor. */
export type ParamLayout =
  | { kind: 'tensor' }
  | { kind: 'axis'; axis: number }
  | { kind: 'block'; axis: number; block: number; shape: number[] };

/**
 * Classify a scale's shape against the data shape: a scalar (or [1]) is per tensor; from opset 13 a
 * 1-D scale as long as dim `axis` is per axis; from opset 21 `block_size` > 0 means blocks along `axis`.
 */
export function paramLayout(ctx: OpContext, data: number[], scale: TensorType, what: string): ParamLayout {
  const block = ctx.opset >= 21 ? attrInt(ctx.node, 'block_size', 0) : 0;
  if (block < 0) fail(ctx, `block_size ${block} must be ≥ 0`);
  const scalar = scale.shape.length <= 1 && sizeOf(scale.shape) === 1;
  if (block === 0 && scalar) return { kind: 'tensor' };
  if (ctx.opset < 13)
    fail(ctx, `${what} has shape ${fmtShape(scale.shape)}; expected a scalar before opset 13`);
  const axis = normAxis(attrInt(ctx.node, 'axis', 1), data.length, ctx);
  if (block === 0) {
    if (scale.shape.length !== 1 || scale.shape[0] !== data[axis])
      fail(
        ctx,
        `${what} has shape ${fmtShape(scale.shape)}; expected a scalar or [${data[axis]}] (dim ${axis} of ${fmtShape(data)})`,
      );
    return { kind: 'axis', axis };
  }
  const expected = data.map((d, i) => (i === axis ? Math.ceil(d / block) : d));
  if (scale.shape.length !== expected.length || scale.shape.some((d, i) => d !== expected[i]))
    fail(
      ctx,
      `${what} has shape ${fmtShape(scale.shape)}; expected ${fmtShape(expected)} for block_size ${block} along axis ${axis}`,
    );
  return { kind: 'block', axis, block, shape: expected };
}

/** A zero point must have the scale's shape; returns its dtype (or `dflt` when omitted). */
export function checkZeroPoint(
  ctx: OpContext,
  i: number,
  scale: TensorType,
  allowed: readonly DType[],
  dflt: DType,
): DType {
  const z = ctx.inputs[i];
  if (!z) return dflt;
  if (!allowed.includes(z.dtype))
    fail(ctx, `input ${i} (zero point) has dtype ${z.dtype}; expected one of ${allowed.join(', ')}`);
  if (
    sizeOf(z.shape) !== sizeOf(scale.shape) ||
    (z.shape.length > 1 && z.shape.join() !== scale.shape.join())
  )
    fail(ctx, `zero point has shape ${fmtShape(z.shape)}; expected ${fmtShape(scale.shape)} like the scale`);
  return z.dtype;
}

/** Index into a scale / zero point for data element `idx`. */
export function paramIndex(layout: ParamLayout, idx: Expr[]): Expr {
  switch (layout.kind) {
    case 'tensor':
      return i32(0);
    case 'axis':
      return idx[layout.axis];
    case 'block':
      return linearIndex(
        idx.map((e, d) => (d === layout.axis ? div(e, i32(layout.block)) : e)),
        stridesOf(layout.shape),
      );
  }
}

/** A parameter element in compute type `t`, or 0 when the optional input is omitted. */
export const paramOr0 = (t: Scalar, buf: BufRef | undefined, index: Expr): Expr =>
  buf ? loadAs(t, buf, index) : cnst(t, 0);
