/** Validation and small kernel helpers shared by the neural-network ops. */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import type { BufRef, Expr, Scalar } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { bin, cast, cmp, cnst, i32, load } from '../../kernels/build.js';
import { OpError, inputType, type OpContext } from '../registry.js';

export const FLOAT_TYPES: readonly DType[] = ['float16', 'float32', 'float64'];
/** MatMul / Gemm (opset 9+) element types Kiln can store. */
export const MATMUL_TYPES: readonly DType[] = [
  'float16',
  'float32',
  'float64',
  'int32',
  'int64',
  'uint32',
  'uint64',
];

export const fmtShape = (s: readonly number[]): string => `[${s.join(',')}]`;

export function fail(ctx: OpContext, message: string): never {
  throw new OpError(ctx.node, ctx.opset, message);
}

/** Required input i whose dtype must be one of `allowed`. */
export function typedInput(ctx: OpContext, i: number, what: string, allowed: readonly DType[]): TensorType {
  const t = inputType(ctx, i);
  if (!allowed.includes(t.dtype))
    fail(ctx, `input ${i} (${what}) has dtype ${t.dtype}; expected one of ${allowed.join(', ')}`);
  return t;
}

/** Optional input i (undefined when omitted) that must share `dtype`. */
export function optionalInput(ctx: OpContext, i: number, what: string, dtype: DType): TensorType | undefined {
  const t = ctx.inputs[i];
  if (t && t.dtype !== dtype)
    fail(ctx, `input ${i} (${what}) has dtype ${t.dtype}; expected ${dtype} like input 0`);
  return t;
}

export function requireShape(ctx: OpContext, t: TensorType, expected: readonly number[], what: string): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i]))
    fail(ctx, `${what} has shape ${fmtShape(t.shape)}; expected ${fmtShape(expected)}`);
}

export function requireMinRank(ctx: OpContext, t: TensorType, rank: number, what: string): void {
  if (t.shape.length < rank) fail(ctx, `${what} has shape ${fmtShape(t.shape)}; expected rank ≥ ${rank}`);
}

/** Whether output j is requested (present and named) by the node. */
/** X (N × C × spatial…) and a W of the same rank and dtype, as Conv and ConvTranspose take them. */
export function convOperands(ctx: OpContext): { x: TensorType; w: TensorType } {
  const x = typedInput(ctx, 0, 'X', FLOAT_TYPES);
  requireMinRank(ctx, x, 3, 'X');
  const w = typedInput(ctx, 1, 'W', [x.dtype]);
  if (w.shape.length !== x.shape.length)
    fail(
      ctx,
      `W has shape ${fmtShape(w.shape)}; expected rank ${x.shape.length} like X ${fmtShape(x.shape)}`,
    );
  return { x, w };
}

export const wantsOutput = (ctx: OpContext, j: number): boolean => (ctx.node.outputs[j] ?? '') !== '';

/** Smallest value of a dtype in its compute type: the identity of max. */
export function lowestValue(dtype: DType): Expr {
  const t = scalarOf(dtype);
  switch (dtype) {
    case 'int8':
      return cnst(t, -128);
    case 'int16':
      return cnst(t, -32768);
    case 'int32':
      return cnst(t, -2147483648);
    case 'int64':
      return cnst(t, -(2n ** 63n));
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'uint64':
    case 'bool':
      return cnst(t, 0);
    default:
      return cnst(t, -Infinity);
  }
}

/** i32 0/1 conjunction of several i32 0/1 conditions. */
export function allOf(conds: Expr[]): Expr | undefined {
  return conds.reduce<Expr | undefined>((acc, c) => (acc ? bin('and', acc, c) : c), undefined);
}

/** 0 <= e < n as one unsigned comparison (negative e wraps to a huge unsigned value). */
export const inRange = (e: Expr, n: number): Expr => cmp('lt_u', e, i32(n));

/** A buffer element converted to a compute type. */
export const loadAs = (t: Scalar, buf: BufRef, index: Expr): Expr =>
  cast(t, load(buf, index), buf.dtype.startsWith('uint'));
