/** Concat and Split: copies with an offset along one axis. */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import { add, dim, i32, linearIndex, load, loop, mul, store, stridesOf, v } from '../../kernels/build.js';
import type { Expr, Kernel } from '../../kernels/ir.js';
import {
  attrInt,
  attrInts,
  normAxis,
  OpError,
  registerOp,
  type LowerIO,
  type OpContext,
  type OpDef,
} from '../registry.js';
import { constInts, copyKernel, dataInput, hasInput, moveKernel, rowMajor } from './common.js';
import { upsampleBlocks } from './upsample-blocks.js';

/** Index expressions with `offset` added on one axis. */
const shiftAxis = (idx: Expr[], axis: number, offset: number): Expr[] =>
  idx.map((e, j) => (j === axis && offset ? add(e, i32(offset)) : e));

export function concatAxis(ctx: OpContext, rank: number): number {
  return normAxis(attrInt(ctx.node, 'axis', ctx.opset < 4 ? 1 : undefined), rank, ctx);
}

/**
 * The attribute of a Concat some of whose inputs are coarse maps that it upsamples as it copies them (the
 * nearest Resizes that passes/fold-concat-upsample.ts folded into it): [kh, kw] per input, flattened, 1s
 * for an input copied as it is.
 */
export const UPSAMPLED_INPUTS_ATTR = 'kiln_upsampled_inputs';

/** Input i's [kh, kw] upsampling factors (UPSAMPLED_INPUTS_ATTR), [1, 1] when it is copied as it is. */
const inputFactors = (ctx: OpContext, i: number): number[] => {
  const f = ctx.node.attrs[UPSAMPLED_INPUTS_ATTR] as number[] | undefined;
  return f ? f.slice(2 * i, 2 * i + 2) : [1, 1];
};

/** Input i as the Concat reads it: its shape upsampled by its factors on the last two axes. */
function concatInput(ctx: OpContext, i: number): TensorType {
  const t = dataInput(ctx, i);
  const [kh, kw] = inputFactors(ctx, i);
  if (kh === 1 && kw === 1) return t;
  const r = t.shape.length;
  return { ...t, shape: [...t.shape.slice(0, r - 2), t.shape[r - 2] * kh, t.shape[r - 1] * kw] };
}

const concat: OpDef = {
  infer: (ctx) => {
    if (ctx.inputs.length === 0) throw new OpError(ctx.node, ctx.opset, 'needs at least one input');
    const first = concatInput(ctx, 0);
    if (first.shape.length === 0) throw new OpError(ctx.node, ctx.opset, 'cannot concatenate 0-d tensors');
    const axis = concatAxis(ctx, first.shape.length);
    const shape = [...first.shape];
    shape[axis] = 0;
    ctx.inputs.forEach((_, i) => {
      const t = concatInput(ctx, i);
      const mismatch =
        t.shape.length !== shape.length || t.shape.some((d, j) => j !== axis && d !== shape[j]);
      if (t.dtype !== first.dtype || mismatch)
        throw new OpError(
          ctx.node,
          ctx.opset,
          `input ${i} is ${t.dtype}[${t.shape}] but input 0 is ${first.dtype}[${first.shape}] (axis ${axis} may differ)`,
        );
      shape[axis] += t.shape[axis];
    });
    return [{ dtype: first.dtype, shape }];
  },
  lower: (ctx, io) => {
    const outShape = [...concatInput(ctx, 0).shape];
    const axis = concatAxis(ctx, outShape.length);
    outShape[axis] = ctx.inputs.reduce((s, _, i) => s + concatInput(ctx, i).shape[axis], 0);
    const outStrides = stridesOf(outShape);
    const kernels: Kernel[] = [];
    let offset = 0;
    ctx.inputs.forEach((t, i) => {
      const start = offset;
      offset += concatInput(ctx, i).shape[axis];
      const factors = inputFactors(ctx, i);
      // an upsampled input is one block of the output (fold-concat-upsample.ts: the dims before the axis are 1)
      if (factors.some((f) => f !== 1)) {
        const at = start * outStrides[axis];
        kernels.push(upsampleBlocks(`${ctx.node.name}_${i}`, io, t!.shape, factors, io.inputs[i]!, at));
        return;
      }
      // Walk input i, writing into the slab [start, start + its size) of the output axis.
      const dstIndex = (idx: Expr[]) => linearIndex(shiftAxis(idx, axis, start), outStrides);
      kernels.push(
        moveKernel(`${ctx.node.name}_${i}`, t!.shape, io.outputs[0], dstIndex, io.inputs[i]!, (idx) =>
          rowMajor(idx, t!.shape),
        ),
      );
    });
    return kernels;
  },
};

/**
 * Where each input of a Concat of fixed shapes lies in its output, as an element offset, when each is
 * one contiguous block of it (every dim before the axis is 1: channels of one image); else undefined.
 */
export function concatBlocks(ctx: OpContext): number[] | undefined {
  const shapes = ctx.inputs.map((t) => t?.shape);
  if (shapes.length === 0 || shapes.some((s) => !s || s.some((d) => typeof d !== 'number'))) return undefined;
  const axis = concatAxis(ctx, shapes[0]!.length);
  if (shapes[0]!.slice(0, axis).some((d) => d !== 1)) return undefined;
  let offset = 0;
  return shapes.map((shape) => {
    const start = offset;
    offset += sizeOf(shape!);
    return start;
  });
}

/** Whether Split's sizes are an input fed at run time (passes/data-shapes.ts names them). */
export const splitFedAtRunTime = (ctx: OpContext) =>
  (ctx.opset >= 13 || ctx.opset < 2) && hasInput(ctx, 1) && !ctx.consts[1];

/**
 * Resolve Split's part sizes: explicit `split`, equal parts, or (opset 18) num_outputs with a short last
 * part; undefined for sizes fed at run time.
 */
function splitSizes(ctx: OpContext, x: TensorType, axis: number): number[] | undefined {
  const dim = x.shape[axis];
  const n = ctx.node.outputs.length;
  let split: number[] | undefined;
  if (splitFedAtRunTime(ctx)) return undefined;
  if (ctx.opset >= 13 || (ctx.opset < 2 && hasInput(ctx, 1))) {
    if (hasInput(ctx, 1)) split = constInts(ctx, 1, 'split');
  } else if (ctx.node.attrs.split !== undefined) split = attrInts(ctx.node, 'split');
  if (split) {
    if (split.length !== n || split.some((s) => s < 0) || split.reduce((a, b) => a + b, 0) !== dim)
      throw new OpError(
        ctx.node,
        ctx.opset,
        `split [${split}] must be ${n} non-negative sizes summing to ${dim} (axis ${axis} of [${x.shape}])`,
      );
    return split;
  }
  if (ctx.opset >= 18) {
    const parts = attrInt(ctx.node, 'num_outputs');
    if (parts !== n)
      throw new OpError(ctx.node, ctx.opset, `num_outputs=${parts} but the node has ${n} outputs`);
    const each = Math.ceil(dim / parts);
    const sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, dim - i * each)));
    if (sizes.reduce((a, b) => a + b, 0) !== dim || sizes.some((s, i) => s === 0 && i < parts - 1 && dim > 0))
      throw new OpError(ctx.node, ctx.opset, `cannot split axis ${axis} of size ${dim} into ${parts} parts`);
    return sizes;
  }
  if (dim % n !== 0)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `axis ${axis} of size ${dim} does not split evenly into ${n} outputs`,
    );
  return new Array<number>(n).fill(dim / n);
}

function splitLayout(ctx: OpContext) {
  const x = dataInput(ctx, 0);
  const axis = normAxis(attrInt(ctx.node, 'axis', 0), x.shape.length, ctx);
  return { x, axis, sizes: splitSizes(ctx, x, axis) };
}

/**
 * Part i of a split whose sizes are fed at run time: [outer, size_i, inner] copied from
 * [outer, axis, inner] at offset size_0 + … + size_(i-1) on the axis, the sizes read from the dims block.
 */
function fedPartKernel(
  name: string,
  x: TensorType,
  axis: number,
  sizes: Expr[],
  i: number,
  io: LowerIO,
): Kernel {
  const [outer, inner] = [sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis + 1))];
  const start = sizes.slice(0, i).reduce((s, d) => add(s, d), i32(0));
  const [o, a, e] = [v('o'), v('a'), v('e')];
  const src = add(mul(add(mul(o, i32(x.shape[axis])), add(start, a)), i32(inner)), e);
  const dst = add(mul(add(mul(o, sizes[i]), a), i32(inner)), e);
  return {
    name,
    body: [
      loop('o', outer, [
        loop('a', sizes[i], [loop('e', inner, [store(io.outputs[i], dst, load(io.inputs[0]!, src))])]),
      ]),
    ],
  };
}

const split: OpDef = {
  infer: (ctx) => {
    const { x, axis, sizes } = splitLayout(ctx);
    // sizes fed at run time: each part at most the whole axis
    const parts = sizes ?? ctx.node.outputs.map(() => x.shape[axis]);
    return parts.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, j) => (j === axis ? s : d)) }));
  },
  lower: (ctx, io) => {
    const { x, axis, sizes } = splitLayout(ctx);
    if (!sizes) {
      const fed = io.sizes!.map((s) => dim(s.symbol));
      return fed.map((_, i) => fedPartKernel(`${ctx.node.name}_${i}`, x, axis, fed, i, io));
    }
    const inStrides = stridesOf(x.shape);
    let offset = 0;
    return sizes.map((s, i) => {
      const start = offset;
      offset += s;
      const shape = x.shape.map((d, j) => (j === axis ? s : d));
      return copyKernel(`${ctx.node.name}_${i}`, shape, io.outputs[i], io.inputs[0]!, (idx) =>
        linearIndex(shiftAxis(idx, axis, start), inStrides),
      );
    });
  },
};

registerOp('Concat', concat);
registerOp('Split', split);
