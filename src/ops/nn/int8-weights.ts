/**
 * Ops on int8 weights that stay int8 (`--weights int8`, src/passes/int8-kernels.ts builds them): the
 * int8 gemm (GemmStmt.int8) with the float32 operand quantized per row or column at run time.
 *
 *   kiln.Int8MatMul(A, W, scales[, C]): Y = alpha · A · Wᵀ·diag(scales) + beta · C, A float32 [..., K],
 *     W int8 [N, K] (B transposed: each output column's weights contiguous in k), scales float32 [N],
 *     C broadcast to [rows, N] like Gemm's; Y [..., N]. Attributes alpha, beta (default 1).
 *   kiln.Int8Conv(X, W, scales[, B]): Conv's attributes and shapes with W int8 and one scale per output
 *     channel, through im2col and the int8 gemm; a depthwise conv as float32 loops that restore each
 *     weight as they read it (depthwise.ts, or one output at a time where those do not fit).
 * Both take `nonnegative` (int, default 0): 1 where A / X is never negative (a Relu's output, say), so
 * the gemm quantizes it to 0..255 (Int8Weights.unsigned).
 */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Kernel, MatView } from '../../kernels/ir.js';
import { i32 } from '../../kernels/build.js';
import { int8ActivationBytes } from '../../kernels/int8-gemm.js';
import { FUSED_DOMAIN } from '../fused.js';
import { fusedActivation } from '../fused-activation.js';
import { attrFloat, attrInt, registerOp, type OpContext, type OpDef } from '../registry.js';
import { fail, fmtShape, optionalInput, requireMinRank, requireShape, typedInput } from './common.js';
import { gemm, view } from './gemm-helpers.js';
import { biasStrides } from './gemm.js';
import { convOutputType, directLoops, gemmLowering, geometry, pooledConvKernels } from './conv.js';
import { pooledBy } from './conv-pool.js';
import { depthwiseFits, depthwiseLoops } from './depthwise.js';

function matmulShape(ctx: OpContext): { rows: number; K: number; N: number; out: number[] } {
  const a = typedInput(ctx, 0, 'A', ['float32']);
  requireMinRank(ctx, a, 1, 'A');
  const w = typedInput(ctx, 1, 'W', ['int8']);
  if (w.shape.length !== 2) fail(ctx, `W has shape ${fmtShape(w.shape)}; expected [N, K]`);
  const [N, K] = w.shape;
  if (a.shape[a.shape.length - 1] !== K)
    fail(ctx, `A ${fmtShape(a.shape)} does not end in K = ${K} like W ${fmtShape(w.shape)}`);
  requireShape(ctx, typedInput(ctx, 2, 'scales', ['float32']), [N], 'scales');
  const rows = sizeOf(a.shape.slice(0, -1));
  return { rows, K, N, out: [...a.shape.slice(0, -1), N] };
}

const int8MatMul: OpDef = {
  infer(ctx): TensorType[] {
    const { rows, N, out } = matmulShape(ctx);
    const c = optionalInput(ctx, 3, 'C', 'float32');
    if (c) biasStrides(ctx, c.shape, rows, N);
    return [{ dtype: 'float32', shape: out }];
  },
  lower(ctx, io): Kernel[] {
    const { rows, K, N } = matmulShape(ctx);
    const [A, W, scales, C] = io.inputs;
    const Y = io.outputs[0];
    if (rows * N === 0) return [];
    const bias: MatView | undefined = C
      ? { buf: C, offset: i32(0), ...biasStrides(ctx, ctx.inputs[3]!.shape, rows, N) }
      : undefined;
    const alpha = attrFloat(ctx.node, 'alpha', 1);
    const beta = attrFloat(ctx.node, 'beta', 1);
    const s = gemm(rows, N, K, view(A!, i32(0), K, 1), view(W!, i32(0), 1, K), view(Y, i32(0), N, 1), {
      alpha,
      beta,
      bias,
    });
    s.int8 = {
      scales: view(scales!, i32(0), 0, 1),
      unsigned: nonnegative(ctx),
      activations: io.scratch('int8', int8ActivationBytes(rows, K)),
    };
    return [{ name: ctx.node.name, body: [s] }];
  },
};

const nonnegative = (ctx: OpContext): boolean => attrInt(ctx.node, 'nonnegative', 0) === 1;

/** Conv's geometry checks read W as Conv's float32 weight; its int8 dtype is checked here. */
function convGeometry(ctx: OpContext) {
  const w = typedInput(ctx, 1, 'W', ['int8']);
  const g = geometry({
    ...ctx,
    inputs: ctx.inputs.map((t, i) => (i === 1 ? { ...w, dtype: 'float32' } : t)),
  });
  requireShape(ctx, typedInput(ctx, 2, 'scales', ['float32']), [g.M], 'scales');
  return g;
}

const int8Conv: OpDef = {
  infer(ctx): TensorType[] {
    const g = convGeometry({ ...ctx, inputs: ctx.inputs.slice(0, 3), consts: ctx.consts.slice(0, 3) });
    optionalInput(ctx, 3, 'B', 'float32');
    return [convOutputType(ctx.node, { dtype: 'float32', shape: [g.N, g.M, ...g.window.out] })];
  },
  lower(ctx, io): Kernel[] {
    const g = convGeometry(ctx);
    const [X, W, scales, B] = io.inputs;
    const Y = io.outputs[0];
    if (Y.length === 0) return [];
    const act = fusedActivation(ctx.node);
    if (g.C === g.group) {
      const scratch = io.forGpu ? undefined : (n: number) => io.scratch('float32', n);
      const body = depthwiseFits(g, 'float32')
        ? depthwiseLoops(g, X!, W!, B, Y, act, scales!, scratch)
        : directLoops(g, X!, W!, B, Y, act, scales!);
      return [{ name: ctx.node.name, body }];
    }
    const int8 = { scales: scales!, unsigned: nonnegative(ctx) };
    if (pooledBy(ctx.node)) return pooledConvKernels(ctx, g, io, act, int8);
    return [{ name: ctx.node.name, body: gemmLowering(g, X!, W!, B, Y, io, act, int8) }];
  },
  fusesActivation: true,
};

registerOp('Int8MatMul', int8MatMul, FUSED_DOMAIN);
registerOp('Int8Conv', int8Conv, FUSED_DOMAIN);
