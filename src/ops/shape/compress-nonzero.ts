/**
 * Compress and NonZero: their output shapes depend on values, so those values must be known at compile
 * time (Compress: the condition; NonZero: its input, which makes the whole node fold).
 */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf, tensorFromNumbers } from '../../ir/tensor.js';
import { add, i32, linearIndex, stridesOf } from '../../kernels/build.js';
import type { Expr, Kernel } from '../../kernels/ir.js';
import {
  attrInt,
  constInput,
  normAxis,
  OpError,
  registerOp,
  type OpContext,
  type OpDef,
} from '../registry.js';
import { dataInput, elementValue, expectDtype, moveKernel } from './common.js';

/** Runs [from, from + length) of selected consecutive positions along the compressed axis. */
function compressPlan(ctx: OpContext) {
  const x = dataInput(ctx, 0);
  expectDtype(ctx, 1, ['bool'], 'condition');
  const cond = constInput(ctx, 1, 'condition');
  if (cond.dims.length !== 1)
    throw new OpError(ctx.node, ctx.opset, `condition must be 1-D, found shape [${cond.dims}]`);
  const flat = ctx.node.attrs.axis === undefined;
  const shape = flat ? [sizeOf(x.shape)] : x.shape;
  const axis = flat ? 0 : normAxis(attrInt(ctx.node, 'axis'), x.shape.length, ctx);
  const dim = shape[axis];
  if (cond.dims[0] > dim)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `condition has ${cond.dims[0]} entries but axis ${axis} has size ${dim}`,
    );
  const runs: { from: number; to: number; length: number }[] = [];
  let selected = 0;
  for (let i = 0; i < cond.dims[0]; i++) {
    if (!Number(cond.data[i])) continue;
    const last = runs[runs.length - 1];
    if (last && last.from + last.length === i) last.length++;
    else runs.push({ from: i, to: selected, length: 1 });
    selected++;
  }
  const outShape = shape.map((d, i) => (i === axis ? selected : d));
  return { x, shape, axis, runs, outShape };
}

const compress: OpDef = {
  infer: (ctx) => {
    const { x, outShape } = compressPlan(ctx);
    return [{ dtype: x.dtype, shape: outShape }];
  },
  lower: (ctx, io) => {
    const { shape, axis, runs, outShape } = compressPlan(ctx);
    const inStrides = stridesOf(shape);
    const outStrides = stridesOf(outShape);
    return runs.map((run, r): Kernel => {
      const loopShape = shape.map((d, i) => (i === axis ? run.length : d));
      const shifted = (offset: number, strides: number[]) => (idx: Expr[]) =>
        linearIndex(
          idx.map((e, i) => (i === axis && offset ? add(e, i32(offset)) : e)),
          strides,
        );
      return moveKernel(
        `${ctx.node.name}_${r}`,
        loopShape,
        io.outputs[0],
        shifted(run.to, outStrides),
        io.inputs[0]!,
        shifted(run.from, inStrides),
      );
    });
  },
};

/** Coordinates of the non-zero elements, as a [rank, count] int64 tensor. */
function nonZeroOf(ctx: OpContext) {
  const x = dataInput(ctx, 0);
  const t = constInput(ctx, 0, 'input');
  const strides = stridesOf(x.shape);
  const hits: number[] = [];
  for (let i = 0; i < sizeOf(x.shape); i++) if (elementValue(t, i) !== 0) hits.push(i);
  const r = x.shape.length;
  const coords = new Array<number>(r * hits.length);
  hits.forEach((flat, j) => {
    for (let a = 0; a < r; a++) coords[a * hits.length + j] = Math.floor(flat / strides[a]) % x.shape[a];
  });
  return { shape: [r, hits.length], coords };
}

const nonZero: OpDef = {
  infer: (ctx): TensorType[] => [{ dtype: 'int64', shape: nonZeroOf(ctx).shape }],
  fold: (ctx) => {
    const { shape, coords } = nonZeroOf(ctx);
    return [tensorFromNumbers('int64', shape, coords)];
  },
};

registerOp('Compress', compress);
registerOp('NonZero', nonZero);
