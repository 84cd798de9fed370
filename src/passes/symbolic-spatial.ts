/**
 * Shape rules over shape expressions for the windowed and per-channel ops of CNNs (Conv, MaxPool,
 * AveragePool, the global pools, BatchNormalization, Pad) when a spatial or batch dim is known only at run
 * time: an OCR recognizer's image width. An output size is the window formula over the input's
 * expression, `floor((w + pads - dilation·(k-1) - 1) / stride) + 1`; channels stay static (they size the
 * weights). Cases the kernels (compiler/symbolic-spatial.ts) do not take are refused.
 */
import * as sym from '../ir/symbolic.js';
import { attrInt, attrInts, type OpContext } from '../ops/registry.js';
import { autoPadOf, padsAttr, spatialAttr } from '../ops/nn/window.js';
import { Refusal } from './shape-refusal.js';
import { padPlan } from '../ops/shape/pad.js';
import { resizeAttributes, resizeSizes } from './resize-attributes.js';

type Shape = sym.SymLike[];
type Ranges = Readonly<Record<string, sym.Range>>;
/** An input's elements as shape expressions, when it is a shape value (shape-values.ts). */
type ShapeValueOf = (name: string) => sym.SymLike[] | undefined;
type Rule = (ctx: OpContext, shapes: (Shape | undefined)[], shapeValue: ShapeValueOf) => Shape[];

const show = sym.symText;
const isStatic = (d: sym.SymLike) => sym.constValue(d) !== undefined;

/** A sliding window whose pads are static numbers; `out` the output's spatial sizes as expressions. */
export interface SymbolicWindow {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
  padEnd: number[];
  out: sym.SymLike[];
}

/**
 * The window of a Conv or pool over `input` spatial dims (expressions). auto_pad SAME pads by an amount
 * that depends on the input size unless the stride divides it, so a symbolic dim takes it only then; a
 * pool's ceil_mode rounds up as a min of two expressions (without count_include_pad on a symbolic dim).
 */
export function symbolicWindow(
  ctx: OpContext,
  input: Shape,
  kernel: number[],
  ranges: Ranges,
): SymbolicWindow {
  const rank = input.length;
  const strides = spatialAttr(ctx, 'strides', rank, 1, 1);
  const dilations = spatialAttr(ctx, 'dilations', rank, 1, 1);
  const autoPad = autoPadOf(ctx);
  const { padBegin, padEnd } =
    autoPad === 'NOTSET' ? padsAttr(ctx, rank) : { padBegin: input.map(() => 0), padEnd: input.map(() => 0) };
  const ceil = attrInt(ctx.node, 'ceil_mode', 0) !== 0;
  const out = input.map((d, i) => {
    const extent = (kernel[i] - 1) * dilations[i] + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const n = sym.constValue(d);
      // SAME pads by (ceil(d/s) - 1)·s + extent - d, static only where the stride divides the dim: a dim
      // bounded with a step the stride divides (`--dim height=32..1024:32`), then out = d/s, pads extent - s
      if (n === undefined && sym.constValue(sym.mod(d, strides[i])) !== 0)
        throw new Refusal(
          d,
          `auto_pad ${autoPad} with stride ${strides[i]} pads by an amount that depends on dim ${show(d)} ` +
            `unless the stride divides it; bound it with a step that ${strides[i]} divides (--dim NAME=MIN..MAX:STEP)`,
        );
      const o = n === undefined ? sym.floorDiv(d, strides[i]) : Math.ceil(n / strides[i]);
      const total =
        n === undefined
          ? Math.max(0, extent - strides[i])
          : Math.max(0, (Number(o) - 1) * strides[i] + extent - n);
      padBegin[i] = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      padEnd[i] = total - padBegin[i];
      return o;
    }
    if (ceil && !isStatic(d) && attrInt(ctx.node, 'count_include_pad', 0) !== 0)
      throw new Refusal(d, `ceil_mode with count_include_pad over dim ${show(d)}`);
    const span = sym.sub(sym.add(d, padBegin[i] + padEnd[i]), extent);
    // ceil_mode rounds up but drops a last window that would start past the input and its begin pads
    const o = ceil
      ? sym.min(
          sym.add(sym.ceilDiv(span, strides[i]), 1),
          sym.add(sym.floorDiv(sym.add(d, padBegin[i] - 1), strides[i]), 1),
        )
      : sym.add(sym.floorDiv(span, strides[i]), 1);
    if (!isStatic(d) && sym.bounds(span, ranges).min < 0)
      throw new Refusal(
        d,
        `the window (extent ${extent}, pads ${padBegin[i]}+${padEnd[i]}) is wider than dim ${show(d)} at its lower bound; raise it with --shape`,
      );
    return sym.constValue(o) ?? o;
  });
  return { kernel, strides, dilations, padBegin, padEnd, out };
}

function requireStatic(shape: Shape, axes: number[], what: string): void {
  const d = axes.map((a) => shape[a]).find((x) => !isStatic(x));
  if (d !== undefined) throw new Refusal(d, `${what} over dim ${show(d)}`);
}

const conv =
  (ranges: Ranges): Rule =>
  (ctx, [x, w]) => {
    requireStatic(x!, [1], 'Conv channels');
    requireStatic(w!, [...w!.keys()], 'a Conv weight');
    const kernel = w!.slice(2).map((d) => sym.constValue(d)!);
    return [[x![0], w![0], ...symbolicWindow(ctx, x!.slice(2), kernel, ranges).out]];
  };

const pool =
  (ranges: Ranges): Rule =>
  (ctx, [x]) => {
    if (ctx.node.outputs.length > 1 && ctx.node.outputs[1] !== '')
      throw new Refusal(
        x!.find((d) => !isStatic(d))!,
        'MaxPool with Indices',
      );
    return [
      [x![0], x![1], ...symbolicWindow(ctx, x!.slice(2), attrInts(ctx.node, 'kernel_shape'), ranges).out],
    ];
  };

const globalPool: Rule = (_, [x]) => [[x![0], x![1], ...x!.slice(2).map(() => 1)]];

const batchNorm: Rule = (ctx, [x]) => {
  requireStatic(x!, [1], 'BatchNormalization channels');
  if (ctx.node.outputs.slice(1).some((o) => o !== ''))
    throw new Refusal(
      x!.find((d) => !isStatic(d))!,
      'BatchNormalization in training mode',
    );
  return [x!];
};

/**
 * Pad by static non-negative pads where a dim is symbolic: mode constant, edge or wrap, or reflect with
 * pads below the dim's lower bound (onnxruntime refuses a reflection wider than the dim).
 */
const pad =
  (ranges: Ranges): Rule =>
  (ctx, [x]) => {
    const plan = padPlan(ctx);
    return [
      x!.map((d, i) => {
        const added = plan.outShape[i] - plan.x.shape[i];
        if (isStatic(d)) return plan.outShape[i];
        if (plan.begin[i] < 0 || added - plan.begin[i] < 0) throw new Refusal(d, `Pad crops dim ${show(d)}`);
        const least = sym.bounds(d, ranges).min;
        const widest = Math.max(plan.begin[i], added - plan.begin[i]);
        if (plan.mode !== 'constant' && added > 0 && least < 1)
          throw new Refusal(
            d,
            `Pad in mode ${plan.mode} over dim ${show(d)}, which may be 0; raise its lower bound`,
          );
        if (plan.mode === 'reflect' && widest > least - 1)
          throw new Refusal(
            d,
            `Pad in mode reflect by ${widest} over dim ${show(d)}, which may be ${least}; raise its lower bound above ${widest}`,
          );
        return sym.add(d, added);
      }),
    ];
  };

/**
 * ConvTranspose without output_shape or auto_pad: stride·(d - 1) + output_padding + dilation·(k - 1) + 1
 * - pads over each spatial dim.
 */
const convTranspose: Rule = (ctx, [x, w]) => {
  requireStatic(x!, [1], 'ConvTranspose channels');
  requireStatic(w!, [...w!.keys()], 'a ConvTranspose weight');
  const spatial = x!.slice(2);
  const symbolic = spatial.find((d) => !isStatic(d))!;
  if (attrInts(ctx.node, 'output_shape', []).length > 0 || autoPadOf(ctx) !== 'NOTSET')
    throw new Refusal(symbolic, `ConvTranspose with output_shape or auto_pad over dim ${show(symbolic)}`);
  const rank = spatial.length;
  const kernel = w!.slice(2).map((d) => sym.constValue(d)!);
  const strides = spatialAttr(ctx, 'strides', rank, 1, 1);
  const dilations = spatialAttr(ctx, 'dilations', rank, 1, 1);
  const outputPadding = spatialAttr(ctx, 'output_padding', rank, 0, 0);
  const { padBegin, padEnd } = padsAttr(ctx, rank);
  const group = attrInt(ctx.node, 'group', 1);
  const out = spatial.map((d, i) => {
    const grown = (kernel[i] - 1) * dilations[i] + 1 + outputPadding[i] - padBegin[i] - padEnd[i];
    return sym.add(sym.mul(sym.sub(d, 1), strides[i]), grown);
  });
  return [[x![0], sym.constValue(w![1])! * group, ...out]];
};

/**
 * Resize (opset 10+, `axes` from 18) in mode nearest or linear: with scales, floor(d·scale) for an
 * integer scale or one over a power of two (so the float product is exact); with sizes, the sizes'
 * expressions (a shape value: `F.interpolate(x, size=y.shape[2:])`), stretched.
 */
const resize: Rule = (ctx, [x], shapeValue) => {
  const symbolic = x!.find((d) => !isStatic(d))!;
  const attrs = resizeAttributes(ctx, x!.length);
  if (typeof attrs === 'string') throw new Refusal(symbolic, `${attrs} over dim ${show(symbolic)}`);
  const sizes = attrs.scales ? undefined : resizeSizes(ctx, attrs, shapeValue);
  if (!attrs.scales && !sizes)
    throw new Refusal(symbolic, `Resize to sizes computed at run time over dim ${show(symbolic)}`);
  return [
    x!.map((d, a) => {
      if (sizes) return sizes[a] ?? d;
      const scale = attrs.scales![a];
      if (isStatic(d)) return Math.floor(sym.constValue(d)! * scale);
      if (Number.isInteger(scale)) return sym.mul(d, scale);
      const k = 1 / scale;
      if (Number.isInteger(k) && (k & (k - 1)) === 0) return sym.floorDiv(d, k);
      throw new Refusal(d, `Resize by scale ${scale} over dim ${show(d)} (only whole scales and 1/2^k)`);
    }),
  ];
};

/** The rule of a default-domain spatial op, or undefined when `op` is none. */
export function spatialRule(op: string, ranges: Ranges): Rule | undefined {
  switch (op) {
    case 'Conv':
      return conv(ranges);
    case 'MaxPool':
    case 'AveragePool':
      return pool(ranges);
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return globalPool;
    case 'BatchNormalization':
      return batchNorm;
    case 'Pad':
      return pad(ranges);
    case 'ConvTranspose':
      return convTranspose;
    case 'Resize':
      return resize;
    default:
      return undefined;
  }
}
