/**
 * Compress and NonZero: their output shapes depend on values. Each folds its selection into the kernels
 * when its condition (input) is known at compile time, and otherwise counts it during the run: the kept
 * count along Compress's axis (bounded by the condition's length), the nonzero elements of NonZero's input
 * (its output's second dim, bounded by the input's size) are data symbols (passes/data-shapes.ts).
 */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf, tensorFromNumbers } from '../../ir/tensor.js';
import {
  add,
  bin,
  cast,
  cmp,
  i32,
  linearIndex,
  load,
  local,
  loop,
  mul,
  set,
  store,
  stridesOf,
  v,
  when,
} from '../../kernels/build.js';
import { k } from '../elementwise/scalar.js';
import * as sym from '../../ir/symbolic.js';
import { kernelExprOf } from '../../kernels/extent.js';
import type { Expr, Kernel } from '../../kernels/ir.js';
import {
  attrInt,
  constInput,
  normAxis,
  OpError,
  registerOp,
  type LowerIO,
  type OpContext,
  type OpDef,
} from '../registry.js';
import { dataInput, elementValue, expectDtype, moveKernel } from './common.js';
import { computedSizeWord } from '../computed-size.js';

/** The compressed axis of the (flattened, without `axis`) input and the condition's length. */
export function compressAxis(ctx: OpContext) {
  const x = dataInput(ctx, 0);
  const cond = expectDtype(ctx, 1, ['bool'], 'condition');
  if (cond.shape.length !== 1)
    throw new OpError(ctx.node, ctx.opset, `condition must be 1-D, found shape [${cond.shape}]`);
  const flat = ctx.node.attrs.axis === undefined;
  const shape = flat ? [sizeOf(x.shape)] : x.shape;
  const axis = flat ? 0 : normAxis(attrInt(ctx.node, 'axis'), x.shape.length, ctx);
  const length = cond.shape[0];
  if (length > shape[axis])
    throw new OpError(
      ctx.node,
      ctx.opset,
      `condition has ${length} entries but axis ${axis} has size ${shape[axis]}`,
    );
  return { x, shape, axis, length };
}

/** Runs [from, from + length) of selected consecutive positions along the compressed axis. */
function compressPlan(ctx: OpContext) {
  const { x, shape, axis } = compressAxis(ctx);
  const cond = constInput(ctx, 1, 'condition');
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

/**
 * Compress with its condition known only at run time: one pass counts the kept positions and stores the
 * count into its dims-block word (io.sizes); a second copies each kept slice of the axis to the next
 * position of the output, row-major at the real count.
 */
function compressAtRunTime(ctx: OpContext, io: LowerIO): Kernel {
  const { shape, axis, length } = compressAxis(ctx);
  const word = computedSizeWord(ctx, io, 'kept count', { gpu: true });
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const kept = (p: string) => {
    const c = load(io.inputs[1]!, v(p));
    return cmp('ne', c, k(c.t, 0));
  };
  const count = v('count');
  const j = v('j');
  const at = (o: Expr, position: Expr, dim: Expr) => add(mul(add(mul(o, dim), position), i32(inner)), v('i'));
  const copy = loop('o', outer, [
    loop('i', inner, [
      store(io.outputs[0], at(v('o'), j, count), load(io.inputs[0]!, at(v('o'), v('q'), i32(shape[axis])))),
    ]),
  ]);
  return {
    name: ctx.node.name,
    body: [
      local('count', 'i32', i32(0)),
      loop('p', length, [when(kept('p'), [set('count', add(count, i32(1)))])]),
      store(word, i32(0), count),
      local('j', 'i32', i32(0)),
      loop('q', length, [when(kept('q'), [copy, set('j', add(j, i32(1)))])]),
    ],
  };
}

const compress: OpDef = {
  // at compile time the exact shape; else the kept count at its bound, the condition's length
  infer: (ctx) => {
    if (!ctx.consts[1]) {
      const { x, shape, axis, length } = compressAxis(ctx);
      return [{ dtype: x.dtype, shape: shape.map((d, i) => (i === axis ? length : d)) }];
    }
    const { x, outShape } = compressPlan(ctx);
    return [{ dtype: x.dtype, shape: outShape }];
  },
  lower: (ctx, io) => {
    if (!ctx.consts[1]) return [compressAtRunTime(ctx, io)];
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

/**
 * NonZero at run time: one pass counts the hits and stores the count into its dims-block word (io.sizes),
 * a second writes hit j's coordinate on axis a at [a, j] of the [rank, count] output, row-major at the
 * real count. The input's dims may be known only at run time (its shape expressions give the extents).
 */
function nonZeroKernel(ctx: OpContext, io: LowerIO): Kernel {
  const x = dataInput(ctx, 0);
  const word = computedSizeWord(ctx, io, 'count');
  const shape = x.symbolic ?? x.shape;
  const size = kernelExprOf(shape.reduce<sym.SymLike>((p, d) => sym.mul(p, d), 1));
  const stride = (a: number) =>
    kernelExprOf(shape.slice(a + 1).reduce<sym.SymLike>((p, d) => sym.mul(p, d), 1));
  const value = (i: string) => load(io.inputs[0]!, v(i));
  const hit = (i: string) => cmp('ne', value(i), k(value(i).t, 0));
  const count = v('count');
  const coords = shape.map((d, a) =>
    store(
      io.outputs[0],
      add(mul(i32(a), count), v('j')),
      cast('i64', bin('rem', bin('div', v('h'), stride(a)), kernelExprOf(d))),
    ),
  );
  return {
    name: ctx.node.name,
    body: [
      local('count', 'i32', i32(0)),
      loop('i', size, [when(hit('i'), [set('count', add(count, i32(1)))])]),
      store(word, i32(0), count),
      local('j', 'i32', i32(0)),
      loop('h', size, [when(hit('h'), [...coords, set('j', add(v('j'), i32(1)))])]),
    ],
  };
}

const nonZero: OpDef = {
  // at compile time the exact shape; else [rank, size] at the bound, the count a data symbol
  infer: (ctx): TensorType[] => [
    {
      dtype: 'int64',
      shape: ctx.consts[0]
        ? nonZeroOf(ctx).shape
        : [dataInput(ctx, 0).shape.length, sizeOf(dataInput(ctx, 0).shape)],
    },
  ],
  fold: (ctx) => {
    if (!ctx.consts[0]) return undefined;
    const { shape, coords } = nonZeroOf(ctx);
    return [tensorFromNumbers('int64', shape, coords)];
  },
  lower: (ctx, io) => [nonZeroKernel(ctx, io)],
};

registerOp('Compress', compress);
registerOp('NonZero', nonZero);
