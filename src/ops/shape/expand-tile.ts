/** Expand (bidirectional broadcast to a constant shape) and Tile (constant repeats). */
import { broadcastIndex, broadcastShapes } from '../broadcast.js';
import { bin, dim, forEachIndex, i32, linearIndex, load, store, stridesOf } from '../../kernels/build.js';
import type { Expr, Extent, Kernel } from '../../kernels/ir.js';
import { sizeOf } from '../../ir/tensor.js';
import { OpError, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { constInts, copyKernel, dataInput, rowMajorAt } from './common.js';

function expandShape(ctx: OpContext): number[] {
  const x = dataInput(ctx, 0);
  const target = constInts(ctx, 1, 'shape');
  try {
    return broadcastShapes([x.shape, target]);
  } catch (e) {
    throw new OpError(
      ctx.node,
      ctx.opset,
      `cannot expand [${x.shape}] to [${target}]: ${(e as Error).message}`,
    );
  }
}

/** Whether Expand's shape or Tile's repeats (input 1) are read at run time (passes/data-shapes.ts). */
export const sizesFedAtRunTime = (ctx: OpContext) => !ctx.consts[1];

/**
 * The output dims of an Expand or Tile whose input 1 is read at run time: the dims-block symbols of the
 * node's sizes when lowering (in output-dim order); when inferring, placeholders the data-shapes rule
 * replaces by their bounds (the input dims, broadcast with as many 1s as Expand's shape is longer).
 */
function fedDims(ctx: OpContext, io?: LowerIO): Extent[] {
  const x = dataInput(ctx, 0);
  const rank =
    ctx.node.op === 'Expand' ? Math.max(x.shape.length, sizeOf(ctx.inputs[1]!.shape)) : x.shape.length;
  if (io) return io.sizes!.map((s) => dim(s.symbol));
  return [...Array<number>(rank - x.shape.length).fill(1), ...x.shape];
}

/** Copies x into an output of run-time dims `outDims`, reading x at `src` of the output index. */
function fedCopy(ctx: OpContext, io: LowerIO, src: (idx: Expr[]) => Expr): Kernel[] {
  const outDims = fedDims(ctx, io);
  const body = forEachIndex(outDims, 'i', (idx) => [
    store(io.outputs[0], rowMajorAt(idx, outDims), load(io.inputs[0]!, src(idx))),
  ]);
  return [{ name: ctx.node.name, body }];
}

const expand: OpDef = {
  infer: (ctx) => [
    {
      dtype: dataInput(ctx, 0).dtype,
      shape: sizesFedAtRunTime(ctx) ? (fedDims(ctx) as number[]) : expandShape(ctx),
    },
  ],
  lower: (ctx, io) => {
    const inShape = ctx.inputs[0]!.shape;
    if (sizesFedAtRunTime(ctx)) return fedCopy(ctx, io, (idx) => broadcastIndex(idx, inShape));
    const outShape = expandShape(ctx);
    return [
      copyKernel(ctx.node.name, outShape, io.outputs[0], io.inputs[0]!, (idx) =>
        broadcastIndex(idx, inShape),
      ),
    ];
  },
};

function tileShape(ctx: OpContext): number[] {
  const x = dataInput(ctx, 0);
  const repeats = constInts(ctx, 1, 'repeats');
  if (repeats.length !== x.shape.length || repeats.some((r) => r < 0))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `repeats [${repeats}] must be ${x.shape.length} non-negative counts for input [${x.shape}]`,
    );
  return x.shape.map((d, i) => d * repeats[i]);
}

const tile: OpDef = {
  sinceVersion: 6,
  infer: (ctx) => [
    {
      dtype: dataInput(ctx, 0).dtype,
      shape: sizesFedAtRunTime(ctx) ? (fedDims(ctx) as number[]) : tileShape(ctx),
    },
  ],
  lower: (ctx, io) => {
    const inShape = ctx.inputs[0]!.shape;
    if (sizesFedAtRunTime(ctx))
      // position i reads i mod dim (an axis of size 0 or 1 reads 0)
      return fedCopy(ctx, io, (idx) =>
        linearIndex(
          idx.map((e, j) => (inShape[j] <= 1 ? i32(0) : bin('rem', e, i32(inShape[j])))),
          stridesOf(inShape),
        ),
      );
    const outShape = tileShape(ctx);
    // Output position i along an axis reads input position i mod dim; axes not repeated need no rem.
    const src = (idx: Expr[]) =>
      linearIndex(
        idx.map((e, j) => (outShape[j] === inShape[j] ? e : bin('rem', e, i32(inShape[j])))),
        stridesOf(inShape),
      );
    return [copyKernel(ctx.node.name, outShape, io.outputs[0], io.inputs[0]!, src)];
  },
};

registerOp('Expand', expand);
registerOp('Tile', tile);
