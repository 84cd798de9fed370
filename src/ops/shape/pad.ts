/** Pad (modes constant/reflect/edge, and wrap from opset 19); negative pads crop. */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import {
  add,
  bin,
  cmp,
  cnst,
  dim,
  forEachIndex,
  i32,
  load,
  max,
  min,
  mul,
  select,
  store,
  sub,
  when,
} from '../../kernels/build.js';
import { scalarOf, type Expr, type Kernel } from '../../kernels/ir.js';
import {
  attrFloat,
  attrInts,
  attrString,
  OpError,
  registerOp,
  type OpContext,
  type OpDef,
  type LowerIO,
} from '../registry.js';
import { constInts, dataInput, hasInput, normAxes, rowMajor, rowMajorAt } from './common.js';

type Mode = 'constant' | 'reflect' | 'edge' | 'wrap';

export interface PadPlan {
  x: TensorType;
  mode: Mode;
  begin: number[];
  outShape: number[];
}

/** Whether Pad's pads are read at run time (passes/data-shapes.ts). */
export const padsFedAtRunTime = (ctx: OpContext) => ctx.opset >= 11 && !ctx.consts[1];

export function padPlan(ctx: OpContext): PadPlan {
  const x = dataInput(ctx, 0);
  const r = x.shape.length;
  const mode = attrString(ctx.node, 'mode', 'constant');
  const modes = ctx.opset >= 19 ? ['constant', 'reflect', 'edge', 'wrap'] : ['constant', 'reflect', 'edge'];
  if (!modes.includes(mode))
    throw new OpError(ctx.node, ctx.opset, `mode '${mode}' is unsupported (expected ${modes.join(', ')})`);
  let pads: number[];
  let axes = x.shape.map((_, i) => i);
  if (ctx.opset < 11) pads = attrInts(ctx.node, ctx.opset < 2 ? 'paddings' : 'pads');
  else if (padsFedAtRunTime(ctx))
    pads = new Array<number>(2 * r).fill(0); // placeholders: data-shapes bounds them
  else {
    pads = constInts(ctx, 1, 'pads');
    if (ctx.opset >= 18 && hasInput(ctx, 3)) axes = normAxes(ctx, constInts(ctx, 3, 'axes'), r);
  }
  if (pads.length !== 2 * axes.length)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `pads [${pads}] must hold ${2 * axes.length} values (begin and end for each of ${axes.length} axes)`,
    );
  const begin = new Array<number>(r).fill(0);
  const end = new Array<number>(r).fill(0);
  axes.forEach((a, i) => {
    begin[a] = pads[i];
    end[a] = pads[i + axes.length];
  });
  const outShape = x.shape.map((d, i) => d + begin[i] + end[i]);
  outShape.forEach((d, i) => {
    if (d < 0)
      throw new OpError(ctx.node, ctx.opset, `pads [${pads}] crop axis ${i} of [${x.shape}] below size 0`);
    if (mode !== 'constant' && x.shape[i] === 0 && d > 0)
      throw new OpError(ctx.node, ctx.opset, `mode '${mode}' cannot pad axis ${i}, which has size 0`);
  });
  return { x, mode: mode as Mode, begin, outShape };
}

/**
 * The source position along an axis of size n for a (possibly outside) position p, by mode; n an i32
 * expression where the size is known only at run time (compiler/symbolic-pad.ts).
 */
export function sourcePos(mode: Exclude<Mode, 'constant'>, p: Expr, n: number | Expr): Expr {
  const size = (k: number): Expr => (typeof n === 'number' ? i32(n + k) : k === 0 ? n : add(n, i32(k)));
  const posMod = (e: Expr, m: Expr) => bin('rem', add(bin('rem', e, m), m), m);
  switch (mode) {
    case 'edge':
      return min(max(p, i32(0)), size(-1));
    case 'wrap':
      return posMod(p, size(0));
    case 'reflect': {
      if (n === 1) return i32(0);
      // Reflection without repeating the edge has period 2(n-1): fold p into it, then mirror (a run-time
      // size of 1 folds by 1, not 0).
      const period = typeof n === 'number' ? i32(2 * (n - 1)) : max(mul(size(-1), i32(2)), i32(1));
      const m = posMod(p, period);
      return select(cmp('lt', m, size(0)), m, sub(period, m));
    }
  }
}

/** The constant fill: input 2 when given (read at run time), else the `value` attribute (opset < 11). */
export function padValue(ctx: OpContext, io: LowerIO, dtype: TensorType['dtype']): Expr {
  const t = scalarOf(dtype);
  if (ctx.opset >= 11) return hasInput(ctx, 2) ? load(io.inputs[2]!, i32(0)) : cnst(t, 0);
  const value = attrFloat(ctx.node, 'value', 0);
  return cnst(t, t === 'f32' || t === 'f64' ? value : Math.trunc(value));
}

/**
 * A Pad whose pads are read at run time: each output element reads the input at its position less the
 * begin pad (plus what a negative one crops), or the fill, or (edge, reflect) the element the mode maps it to.
 */
function fedPadKernel(ctx: OpContext, io: LowerIO): Kernel {
  const { x, mode } = padPlan(ctx);
  const part = (a: number, name: string) =>
    dim(io.sizes!.find((s) => s.fed?.index === a && s.fed.padded?.part === name)!.symbol);
  const outDims = x.shape.map((_, a) => part(a, 'size'));
  const body = forEachIndex(outDims, 'i', (idx) => {
    const dst = rowMajorAt(idx, outDims);
    const pos = idx.map((e, a) => sub(add(e, part(a, 'cropped')), part(a, 'before')));
    if (mode !== 'constant') {
      const from = pos.map((p, a) => sourcePos(mode, p, x.shape[a]));
      return [store(io.outputs[0], dst, load(io.inputs[0]!, rowMajor(from, x.shape)))];
    }
    const inside = pos
      .map((p, a) => bin('and', cmp('ge', p, i32(0)), cmp('lt', p, i32(x.shape[a]))))
      .reduce((acc, c) => bin('and', acc, c));
    const copy = store(io.outputs[0], dst, load(io.inputs[0]!, rowMajor(pos, x.shape)));
    return [when(inside, [copy], [store(io.outputs[0], dst, padValue(ctx, io, x.dtype))])];
  });
  return { name: ctx.node.name, body };
}

const pad: OpDef = {
  infer: (ctx) => {
    const { x, outShape } = padPlan(ctx);
    if (ctx.opset >= 11 && hasInput(ctx, 2)) {
      const v = ctx.inputs[2]!;
      if (v.dtype !== x.dtype || sizeOf(v.shape) !== 1)
        throw new OpError(
          ctx.node,
          ctx.opset,
          `constant_value must be one ${x.dtype}, found ${v.dtype}[${v.shape}]`,
        );
    }
    return [{ dtype: x.dtype, shape: outShape }];
  },
  lower: (ctx, io) => {
    if (padsFedAtRunTime(ctx)) return [fedPadKernel(ctx, io)];
    const { x, mode, begin, outShape } = padPlan(ctx);
    const out = io.outputs[0];
    const src = io.inputs[0]!;
    const body = forEachIndex(outShape, 'i', (idx) => {
      const dst = rowMajor(idx, outShape);
      const pos = idx.map((e, i) => (begin[i] ? sub(e, i32(begin[i])) : e));
      if (mode !== 'constant') {
        const from = pos.map((p, i) =>
          x.shape[i] === outShape[i] && !begin[i] ? p : sourcePos(mode, p, x.shape[i]),
        );
        return [store(out, dst, load(src, rowMajor(from, x.shape)))];
      }
      // Only axes that grow can put a position outside the input.
      const checks = pos.flatMap((p, i) =>
        begin[i] > 0 || outShape[i] - begin[i] > x.shape[i]
          ? [bin('and', cmp('ge', p, i32(0)), cmp('lt', p, i32(x.shape[i])))]
          : [],
      );
      const inside = checks.reduce<Expr | undefined>((acc, c) => (acc ? bin('and', acc, c) : c), undefined);
      const copy = store(out, dst, load(src, rowMajor(pos, x.shape)));
      return inside ? [when(inside, [copy], [store(out, dst, padValue(ctx, io, x.dtype))])] : [copy];
    });
    return [{ name: ctx.node.name, body }];
  },
};

registerOp('Pad', pad);
