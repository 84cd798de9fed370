/**
 * MatMul with NumPy semantics: 1-D operands are promoted (and the added dim dropped), batch dims broadcast.
 * A third input, float32 [N], is the bias that passes/fuse-bias.ts fuses into it: added to every row as
 * the GEMM writes it.
 */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Expr, Kernel, Stmt } from '../../kernels/ir.js';
import {
  add,
  cnst,
  forEachIndex,
  i32,
  linearIndex,
  load,
  loop,
  mul,
  store,
  stridesOf,
  v,
} from '../../kernels/build.js';
import { scalarOf } from '../../kernels/ir.js';
import { broadcastIndex, broadcastShapes } from '../broadcast.js';
import { registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { MATMUL_TYPES, fail, fmtShape, optionalInput, requireShape, typedInput } from './common.js';
import { gemm, matmulLoops, view } from './gemm-helpers.js';

interface MatMulShape {
  M: number;
  K: number;
  N: number;
  aBatch: number[];
  bBatch: number[];
  batch: number[];
  out: number[];
}

export function matmulShape(ctx: OpContext, a: number[], b: number[]): MatMulShape {
  if (a.length === 0 || b.length === 0)
    fail(ctx, `operands must have rank ≥ 1; got A ${fmtShape(a)} and B ${fmtShape(b)}`);
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const [M, K] = a2.slice(-2);
  const [Kb, N] = b2.slice(-2);
  if (K !== Kb)
    fail(ctx, `inner dimensions differ: A ${fmtShape(a)} has K=${K} but B ${fmtShape(b)} has K=${Kb}`);
  const aBatch = a2.slice(0, -2);
  const bBatch = b2.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes([aBatch, bBatch]);
  } catch {
    fail(ctx, `batch dimensions of A ${fmtShape(a)} and B ${fmtShape(b)} cannot be broadcast`);
  }
  const out = [...batch, ...(a.length === 1 ? [] : [M]), ...(b.length === 1 ? [] : [N])];
  return { M, K, N, aBatch, bBatch, batch, out };
}

function infer(ctx: OpContext): TensorType[] {
  const a = typedInput(ctx, 0, 'A', MATMUL_TYPES);
  const b = typedInput(ctx, 1, 'B', MATMUL_TYPES);
  if (a.dtype !== b.dtype) fail(ctx, `A has dtype ${a.dtype} but B has dtype ${b.dtype}; they must match`);
  const { N, out } = matmulShape(ctx, a.shape, b.shape);
  const bias = optionalInput(ctx, 2, 'bias', 'float32');
  if (bias && (a.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2))
    fail(ctx, 'a fused bias needs float32 operands of rank ≥ 2');
  if (bias) requireShape(ctx, bias, [N], 'bias');
  return [{ dtype: a.dtype, shape: out }];
}

function lower(ctx: OpContext, io: LowerIO): Kernel[] {
  const [aT, bT] = [ctx.inputs[0]!, ctx.inputs[1]!];
  const { M, K, N, aBatch, bBatch, batch } = matmulShape(ctx, aT.shape, bT.shape);
  const [A, B, C] = io.inputs;
  const Y = io.outputs[0];
  const bias = C && view(C, i32(0), 0, 1);
  const name = ctx.node.name;
  const count = sizeOf(batch) * M * N;
  if (count === 0) return [];
  if (K === 0 && C) {
    const row = loop('n', N, [store(Y, add(mul(v('r'), i32(N)), v('n')), load(C, v('n')))]);
    return [{ name, body: [loop('r', count / N, [row])] }];
  }
  if (K === 0) {
    const t = scalarOf(Y.dtype);
    return [{ name, body: [loop('i', count, [store(Y, v('i'), cnst(t, 0))])] }];
  }
  const f32 = Y.dtype === 'float32';
  // B shared by every batch and A's batches contiguous: one tall M·batch × K product.
  if (sizeOf(bBatch) === 1 && sizeOf(aBatch) === sizeOf(batch)) {
    const rows = sizeOf(batch) * M;
    const a = view(A!, i32(0), K, 1);
    const b = view(B!, i32(0), N, 1);
    const c = view(Y, i32(0), N, 1);
    return [
      { name, body: f32 ? [gemm(rows, N, K, a, b, c, { bias })] : matmulLoops(rows, N, K, a, b, c, '') },
    ];
  }
  const body = forEachIndex(batch, 'b', (idx: Expr[]): Stmt[] => {
    const a = view(A!, mul(broadcastIndex(idx, aBatch), i32(M * K)), K, 1);
    const b = view(B!, mul(broadcastIndex(idx, bBatch), i32(K * N)), N, 1);
    const c = view(Y, mul(linearIndex(idx, stridesOf(batch)), i32(M * N)), N, 1);
    return f32 ? [gemm(M, N, K, a, b, c, { bias })] : matmulLoops(M, N, K, a, b, c, '');
  });
  return [{ name, body }];
}

const def: OpDef = { infer, lower };
registerOp('MatMul', def);
