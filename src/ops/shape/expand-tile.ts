/** Expand (bidirectional broadcast to a constant shape) and Tile (constant repeats). */
import { broadcastIndex, broadcastShapes } from '../broadcast.js';
import { bin, i32, linearIndex, stridesOf } from '../../kernels/build.js';
import type { Expr } from '../../kernels/ir.js';
import { OpError, registerOp, type OpContext, type OpDef } from '../registry.js';
import { constInts, copyKernel, dataInput } from './common.js';

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

const expand: OpDef = {
  infer: (ctx) => [{ dtype: dataInput(ctx, 0).dtype, shape: expandShape(ctx) }],
  lower: (ctx, io) => {
    const outShape = expandShape(ctx);
    const inShape = ctx.inputs[0]!.shape;
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
  infer: (ctx) => [{ dtype: dataInput(ctx, 0).dtype, shape: tileShape(ctx) }],
  lower: (ctx, io) => {
    const inShape = ctx.inputs[0]!.shape;
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
