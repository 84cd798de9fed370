/**
 * kiln.FusedSoftmax: Softmax over the last axis of what an elementwise chain computes — attention's scores
 * scaled (Div or Mul by √d) and masked (Add of a [B,1,1,S] or [B,1,S,S] mask), as exporters write them.
 * The chain is the node's fused body (src/ops/fused.ts) over its inputs, computed as each row is read:
 * the scores and the mask row are read by the row's passes, and only the Softmax's output is written
 * (passes/fuse-softmax-input.ts makes such nodes). The shapes may hold dims known only at run time.
 */
import * as sym from '../../ir/symbolic.js';
import type { BufRef, Expr, Kernel, Scalar, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { load, parallelLoop, v } from '../../kernels/build.js';
import { broadcastStrides, extentOf, indexOf, strides } from '../../kernels/extent.js';
import { broadcastShapes } from '../broadcast.js';
import { operandsOf } from '../elementwise/common.js';
import { FUSED_DOMAIN, fusedCompute, fusedResultType } from '../fused.js';
import { registerOp, type OpDef } from '../registry.js';
import { softmaxRow } from './softmax.js';

export const FUSED_SOFTMAX = 'FusedSoftmax';

type Shape = readonly sym.SymLike[];

/**
 * Per row of `outShape` (all dims but the last, loops declared parallel): Softmax over the last axis of
 * `compute` of the operands' elements, each operand read broadcast (right-aligned, size-1 dims repeated).
 */
export function fusedSoftmaxKernel(
  name: string,
  y: BufRef,
  outShape: Shape,
  operands: readonly { buf: BufRef; shape: Shape }[],
  compute: (values: Expr[]) => Expr,
): Kernel {
  const rank = outShape.length;
  const idx = outShape.slice(0, -1).map((_, j) => v(`d${j}`));
  const at = (st: readonly sym.SymLike[], r: string) => indexOf([...idx, v(r)], st);
  const opStrides = operands.map((o) => broadcastStrides(o.shape, rank));
  const x = (r: string) => compute(operands.map((o, j) => load(o.buf, at(opStrides[j], r))));
  const yStrides = strides(outShape);
  const t: Scalar = scalarOf(y.dtype);
  let body: Stmt[] = softmaxRow(t, extentOf(outShape[rank - 1]), x, y, (r) => at(yStrides, r));
  for (let j = idx.length - 1; j >= 0; j--) body = [parallelLoop(`d${j}`, extentOf(outShape[j]), body)];
  return { name, body };
}

const fusedSoftmax: OpDef = {
  infer: (ctx) => [fusedResultType(ctx)],
  // its fused body is the chain computing its input, which `lower` applies itself (not an epilogue)
  fusesActivation: true,
  lower(ctx, io): Kernel[] {
    const operands = operandsOf(ctx, io.inputs);
    // the inputs' shapes, not the body's: lowerRows lowers a block of rows with its own input types
    const outShape = broadcastShapes(operands.map((o) => o.shape));
    return [fusedSoftmaxKernel(ctx.node.name, io.outputs[0], outShape, operands, fusedCompute(ctx))];
  },
};

registerOp(FUSED_SOFTMAX, fusedSoftmax, FUSED_DOMAIN);
