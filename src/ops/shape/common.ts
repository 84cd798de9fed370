/** Helpers shared by the data-movement ops: dtype checks, compile-time int lists, index clamping. */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import { sizeOf, tensorToNumbers, type HostTensor } from '../../ir/tensor.js';
import {
  add,
  cast,
  cmp,
  cnst,
  forEachIndex,
  i32,
  linearIndex,
  load,
  max,
  min,
  mul,
  select,
  store,
  stridesOf,
} from '../../kernels/build.js';
import type { BufRef, Expr, Extent, Kernel, Scalar } from '../../kernels/ir.js';
import { constInput, inputType, OpError, type OpContext } from '../registry.js';
import { halfToFloat } from '../../ir/float16.js';

/** Input i's type, refusing dtype string (Kiln has no storage for it). */
export function dataInput(ctx: OpContext, i: number): TensorType {
  const t = inputType(ctx, i);
  if (t.dtype === 'string')
    throw new OpError(
      ctx.node,
      ctx.opset,
      `input ${i} ("${ctx.node.inputs[i]}") has dtype string, which is unsupported`,
    );
  return t;
}

/** Require input i to have one of the given dtypes. */
export function expectDtype(ctx: OpContext, i: number, allowed: readonly DType[], what: string): TensorType {
  const t = inputType(ctx, i);
  if (!allowed.includes(t.dtype))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `${what} (input ${i}) must be ${allowed.join(' or ')}, found ${t.dtype}`,
    );
  return t;
}

export const INDEX_DTYPES: readonly DType[] = ['int32', 'int64'];

/** A compile-time-constant integer input (shape, axes, pads...) as JS numbers. */
export function constInts(ctx: OpContext, i: number, what: string): number[] {
  const t = constInput(ctx, i, what);
  if (t.dtype !== 'int64' && t.dtype !== 'int32')
    throw new OpError(ctx.node, ctx.opset, `${what} (input ${i}) must be int64 or int32, found ${t.dtype}`);
  return tensorToNumbers(t);
}

/** Whether optional input i is present (a non-empty name). */
export const hasInput = (ctx: OpContext, i: number): boolean => !!ctx.node.inputs[i] && !!ctx.inputs[i];

/** A compile-time-constant scalar (or 1-element) input as a JS number, float16 decoded. */
export function constScalar(ctx: OpContext, i: number, what: string): number {
  const t = constInput(ctx, i, what);
  if (sizeOf(t.dims) !== 1)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `${what} (input ${i}) must hold one value, found shape [${t.dims}]`,
    );
  return elementValue(t, 0);
}

/** Element i of a host tensor as a number; float16 bits decoded. */
export function elementValue(t: HostTensor, i: number): number {
  const x = t.data[i];
  if (t.dtype === 'float16') return halfToFloat(x as number);
  return Number(x);
}

/** Normalize a list of axes against a rank, rejecting out-of-range and duplicate axes. */
export function normAxes(ctx: OpContext, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => {
    const n = a < 0 ? a + rank : a;
    if (n < 0 || n >= rank) throw new OpError(ctx.node, ctx.opset, `axis ${a} out of range for rank ${rank}`);
    return n;
  });
  if (new Set(out).size !== out.length)
    throw new OpError(ctx.node, ctx.opset, `axes [${axes}] contain duplicates`);
  return out;
}

/**
 * A data-dependent index (any integer type) turned into a safe i32 position along an axis of `size`:
 * negative values wrap by adding `size`, then the result is clamped into [0, size-1] so an invalid
 * index can give a wrong value but never a read outside the buffer.
 */
export function safeIndex(index: Expr, size: number): Expr {
  const t: Scalar = index.t === 'i64' ? 'i64' : 'i32';
  const x = cast(t, index);
  const zero = cnst(t, 0);
  const wrapped = select(cmp('lt', x, zero), add(x, cnst(t, size)), x);
  return cast('i32', min(max(wrapped, zero), cnst(t, Math.max(size - 1, 0))));
}

/** Linear index into a row-major tensor of `shape` from per-axis index expressions. */
export const rowMajor = (idx: Expr[], shape: readonly number[]): Expr => linearIndex(idx, stridesOf(shape));

/** rowMajor over dims some of which are read at run time (dims-block expressions), in Horner form. */
export function rowMajorAt(idx: Expr[], dims: readonly Extent[]): Expr {
  if (dims.every((d) => typeof d === 'number')) return rowMajor(idx, dims as number[]);
  return idx.reduce((acc, e, a) => add(mul(acc, typeof dims[a] === 'number' ? i32(dims[a]) : dims[a]), e));
}

/** Refuse a gather-like read along an empty axis when something must be read from it. */
export function requireNonEmptyAxis(ctx: OpContext, dim: number, axis: number, outCount: number): void {
  if (dim === 0 && outCount > 0)
    throw new OpError(ctx.node, ctx.opset, `cannot index into axis ${axis}, which has size 0`);
}

/**
 * One kernel that loops over `shape` (row-major) and copies src[srcIndex(idx)] to dst[dstIndex(idx)]:
 * the shape of Transpose, Slice, Tile, Concat and friends.
 */
export function moveKernel(
  name: string,
  shape: readonly number[],
  dst: BufRef,
  dstIndex: (idx: Expr[]) => Expr,
  src: BufRef,
  srcIndex: (idx: Expr[]) => Expr,
): Kernel {
  return {
    name,
    body: forEachIndex(shape, 'i', (idx) => [store(dst, dstIndex(idx), load(src, srcIndex(idx)))]),
  };
}

/** moveKernel writing every element of a row-major output of `outShape`. */
export function copyKernel(
  name: string,
  outShape: readonly number[],
  dst: BufRef,
  src: BufRef,
  srcIndex: (idx: Expr[]) => Expr,
): Kernel {
  return moveKernel(name, outShape, dst, (idx) => rowMajor(idx, outShape), src, srcIndex);
}
