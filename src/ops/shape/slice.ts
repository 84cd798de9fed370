/** Slice (opset 1: attributes; opset ≥10: inputs starts/ends/axes/steps), clamped like NumPy. */
import type { TensorType } from '../../ir/graph.js';
import {
  add,
  dim,
  forEachIndex,
  i32,
  linearIndex,
  load,
  mul,
  store,
  stridesOf,
  sub,
} from '../../kernels/build.js';
import type { Kernel } from '../../kernels/ir.js';
import { attrInts, OpError, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { constInts, copyKernel, dataInput, hasInput, normAxes, rowMajorAt } from './common.js';

interface AxisSlice {
  start: number;
  step: number;
  count: number;
}

/** Per-axis first index, step and element count of the slice. */
function slicePlan(ctx: OpContext): { x: TensorType; axes: AxisSlice[] } {
  const x = dataInput(ctx, 0);
  const r = x.shape.length;
  let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
  if (ctx.opset < 10) {
    starts = attrInts(ctx.node, 'starts');
    ends = attrInts(ctx.node, 'ends');
    axes = ctx.node.attrs.axes === undefined ? undefined : attrInts(ctx.node, 'axes');
  } else {
    starts = constInts(ctx, 1, 'starts');
    ends = constInts(ctx, 2, 'ends');
    axes = hasInput(ctx, 3) ? constInts(ctx, 3, 'axes') : undefined;
    steps = hasInput(ctx, 4) ? constInts(ctx, 4, 'steps') : undefined;
  }
  axes ??= starts.map((_, i) => i);
  steps ??= starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `starts, ends, axes and steps must have the same length, found ${starts.length}, ${ends.length}, ${axes.length}, ${steps.length}`,
    );
  const norm = normAxes(ctx, axes, r);
  const plan: AxisSlice[] = x.shape.map((d) => ({ start: 0, step: 1, count: d }));
  norm.forEach((a, i) => {
    const dim = x.shape[a];
    const step = steps![i];
    if (step === 0) throw new OpError(ctx.node, ctx.opset, `step for axis ${a} is 0`);
    let start = starts[i] < 0 ? starts[i] + dim : starts[i];
    let end = ends[i] < 0 ? ends[i] + dim : ends[i];
    let count: number;
    if (step > 0) {
      start = Math.min(Math.max(start, 0), dim);
      end = Math.min(Math.max(end, 0), dim);
      count = Math.max(0, Math.ceil((end - start) / step));
    } else {
      start = Math.min(Math.max(start, 0), dim - 1);
      end = Math.min(Math.max(end, -1), dim - 1);
      count = Math.max(0, Math.ceil((start - end) / -step));
    }
    plan[a] = { start: count ? start : 0, step, count };
  });
  return { x, axes: plan };
}

/** Whether any of Slice's starts, ends, axes or steps is read at run time (passes/data-shapes.ts). */
export const sliceFedAtRunTime = (ctx: OpContext) =>
  ctx.opset >= 10 && [1, 2, 3, 4].some((i) => hasInput(ctx, i) && !ctx.consts[i]);

/**
 * A Slice whose plan is read at run time: every axis a loop over its fed count, reading
 * x[first + i·forward − i·backward] along it (the symbols data-shapes declares, read from the dims block).
 */
function fedSliceKernel(ctx: OpContext, io: LowerIO): Kernel {
  const x = dataInput(ctx, 0);
  const part = (a: number, name: string) =>
    dim(io.sizes!.find((s) => s.fed?.index === a && s.fed.slice?.part === name)!.symbol);
  const counts = x.shape.map((_, a) => part(a, 'count'));
  const inStrides = stridesOf(x.shape);
  const body = forEachIndex(counts, 'd', (idx) => {
    const at = idx.map((e, a) =>
      sub(add(part(a, 'first'), mul(e, part(a, 'forward'))), mul(e, part(a, 'backward'))),
    );
    return [store(io.outputs[0], rowMajorAt(idx, counts), load(io.inputs[0]!, linearIndex(at, inStrides)))];
  });
  return { name: ctx.node.name, body };
}

const slice: OpDef = {
  infer: (ctx) => {
    // read at run time: each dim at most the input's (passes/data-shapes.ts makes them fed symbols)
    if (sliceFedAtRunTime(ctx)) return [dataInput(ctx, 0)];
    const { x, axes } = slicePlan(ctx);
    return [{ dtype: x.dtype, shape: axes.map((a) => a.count) }];
  },
  lower: (ctx, io) => {
    if (sliceFedAtRunTime(ctx)) return [fedSliceKernel(ctx, io)];
    const { x, axes } = slicePlan(ctx);
    const strides = stridesOf(x.shape);
    const offset = axes.reduce((s, a, i) => s + (a.step > 0 ? a.start * strides[i] : 0), 0);
    const outShape = axes.map((a) => a.count);
    return [
      copyKernel(ctx.node.name, outShape, io.outputs[0], io.inputs[0]!, (idx) => {
        // A negative step is written as (start - i*|step|)*stride so every term stays non-negative:
        // address folding may move constants into an unsigned offset immediate.
        const terms = idx.map((e, i) => {
          const { start, step } = axes[i];
          const pos =
            step > 0
              ? step === 1
                ? e
                : mul(e, i32(step))
              : sub(i32(start), step === -1 ? e : mul(e, i32(-step)));
          return strides[i] === 1 ? pos : mul(pos, i32(strides[i]));
        });
        return terms.reduce((s, t) => add(s, t), i32(offset));
      }),
    ];
  },
};

registerOp('Slice', slice);
