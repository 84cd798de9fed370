/** Gemm: Y = alpha·op(A)·op(B) + beta·C, with op = optional transpose and C broadcast to M×N. */
import type { TensorType } from '../../ir/graph.js';
import type { Expr, Kernel, MatView } from '../../kernels/ir.js';
import { add, cnst, i32, mul } from '../../kernels/build.js';
import { scalarOf } from '../../kernels/ir.js';
import { attrFloat, attrInt, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { MATMUL_TYPES, fail, fmtShape, optionalInput, typedInput } from './common.js';
import { at, gemm, matmulLoops, unitColumnB, view } from './gemm-helpers.js';

interface GemmShape {
  M: number;
  K: number;
  N: number;
  transA: boolean;
  transB: boolean;
}

function gemmShape(ctx: OpContext): GemmShape {
  const a = typedInput(ctx, 0, 'A', MATMUL_TYPES);
  const b = typedInput(ctx, 1, 'B', MATMUL_TYPES);
  if (a.dtype !== b.dtype) fail(ctx, `A has dtype ${a.dtype} but B has dtype ${b.dtype}; they must match`);
  if (a.shape.length !== 2 || b.shape.length !== 2)
    fail(ctx, `A ${fmtShape(a.shape)} and B ${fmtShape(b.shape)} must both be 2-D`);
  const transA = attrInt(ctx.node, 'transA', 0) !== 0;
  const transB = attrInt(ctx.node, 'transB', 0) !== 0;
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [Kb, N] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (K !== Kb)
    fail(
      ctx,
      `inner dimensions differ: op(A) of A ${fmtShape(a.shape)} has K=${K}, op(B) of B ${fmtShape(b.shape)} has K=${Kb}`,
    );
  return { M, K, N, transA, transB };
}

/** Strides that broadcast C (rank 0..2) over M×N; throws when C's shape does not broadcast. */
export function biasStrides(ctx: OpContext, c: number[], M: number, N: number): { rs: number; cs: number } {
  if (c.length > 2) fail(ctx, `C has shape ${fmtShape(c)}; expected rank ≤ 2 broadcastable to [${M},${N}]`);
  const rows = c.length === 2 ? c[0] : 1;
  const cols = c.length >= 1 ? c[c.length - 1] : 1;
  if ((rows !== 1 && rows !== M) || (cols !== 1 && cols !== N))
    fail(ctx, `C has shape ${fmtShape(c)}; it does not broadcast to [${M},${N}]`);
  return { rs: rows === 1 ? 0 : cols, cs: cols === 1 ? 0 : 1 };
}

function infer(ctx: OpContext): TensorType[] {
  const { M, N } = gemmShape(ctx);
  const c = optionalInput(ctx, 2, 'C', ctx.inputs[0]!.dtype);
  // C became optional in opset 11.
  if (!c && ctx.opset < 11) fail(ctx, `input 2 (C) is required before opset 11`);
  if (c) biasStrides(ctx, c.shape, M, N);
  if (ctx.opset < 7 && c && attrInt(ctx.node, 'broadcast', 0) === 0 && (c.shape[0] !== M || c.shape[1] !== N))
    fail(ctx, `C has shape ${fmtShape(c.shape)} but broadcast=0 requires [${M},${N}]`);
  return [{ dtype: ctx.inputs[0]!.dtype, shape: [M, N] }];
}

function lower(ctx: OpContext, io: LowerIO): Kernel[] {
  const { M, K, N, transA, transB } = gemmShape(ctx);
  const alpha = attrFloat(ctx.node, 'alpha', 1);
  const beta = attrFloat(ctx.node, 'beta', 1);
  const [A, B, C] = io.inputs;
  const Y = io.outputs[0];
  const name = ctx.node.name;
  if (M * N === 0) return [];
  const a = view(A!, i32(0), transA ? 1 : K, transA ? M : 1);
  const b = view(B!, i32(0), transB ? 1 : N, transB ? K : 1);
  const c = view(Y, i32(0), N, 1);
  const bias: MatView | undefined = C
    ? { buf: C, offset: i32(0), ...biasStrides(ctx, ctx.inputs[2]!.shape, M, N) }
    : undefined;
  if (Y.dtype === 'float32' && K > 0) {
    const { view: bUnit, prep } = unitColumnB(b, M, K, N, (n) => io.scratch('float32', n), 't');
    return [{ name, body: [...prep, gemm(M, N, K, a, bUnit, c, { alpha, bias, beta })] }];
  }
  const t = scalarOf(Y.dtype);
  if (t === 'i32' || t === 'i64') {
    if (!Number.isInteger(alpha) || !Number.isInteger(beta))
      fail(ctx, `alpha=${alpha}, beta=${beta} must be integers for dtype ${Y.dtype}`);
  }
  const scale = (e: Expr, s: number): Expr => (s === 1 ? e : mul(e, cnst(t, s)));
  const epilogue = (acc: Expr, m: Expr, n: Expr): Expr =>
    bias ? add(scale(acc, alpha), scale(at(bias, m, n), beta)) : scale(acc, alpha);
  return [{ name, body: matmulLoops(M, N, K, a, b, c, '', epilogue) }];
}

const def: OpDef = { infer, lower };
registerOp('Gemm', def);
