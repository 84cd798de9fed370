/**
 * Data-dependent shapes: outputs whose size is a tensor's value, not a function of the input shapes —
 * NonZero's count of nonzero elements, Compress's count of kept positions, NonMaxSuppression's count of
 * selected boxes, Unique's count of distinct values (computed during the run), TopK's K, Split's sizes, a
 * Reshape target's dims, MelWeightMatrix's num_mel_bins and dft_length, STFT's frame_step and frame_length and Unsqueeze's, Squeeze's or a Reduce*'s axes when they are a model input (fed at run time; the runtime resolves a target's 0 and -1, and
 * the dims the axes give), and a Slice's starts, ends, axes or steps. Each such size becomes a new shape symbol, a
 * data symbol, bounded at compile time (the tensor's size, the axis length, max boxes × classes × batch):
 * memory is planned at the bound, later kernels read the symbol from the dims block like any run-time dim,
 * and outputs come back at their real size. A computed size is stored into its dims-block word by the
 * node's own kernel (`computedBy`); a fed one is read from the feed by the runtime, which refuses a value
 * beyond its bounds before the run (`fed`).
 */
import type { FedAxes, FedSlice, ShapeSymbolDecl, TensorType } from '../ir/graph.js';
import * as sym from '../ir/symbolic.js';
import { sizeOf, tensorToNumbers } from '../ir/tensor.js';
import {
  attrInt,
  attrInts,
  attrString,
  constInput,
  normAxis,
  OpError,
  type OpContext,
} from '../ops/registry.js';
import { reshapeAllowsZero } from '../ops/shape/reshape.js';
import { splitFedAtRunTime } from '../ops/shape/concat-split.js';
import { sliceFedAtRunTime } from '../ops/shape/slice.js';
import { resizeFedAtRunTime, scalesInput } from '../ops/shape/resize.js';
import { sizesFedAtRunTime } from '../ops/shape/expand-tile.js';
import { rangeFedAtRunTime } from '../ops/shape/generate.js';
import { padsFedAtRunTime } from '../ops/shape/pad.js';
import { compressAxis } from '../ops/shape/compress-nonzero.js';
import { outputShapeFed } from '../ops/spatial/max-unpool.js';
import { melSizes } from '../ops/signal/mel-weight-matrix.js';
import { stftPlan, stftSizeFed } from '../ops/signal/stft.js';
import { REDUCE_OPS, reduceAxesFed } from '../ops/reduce/reduce.js';
import { hasInput, INDEX_DTYPES } from '../ops/shape/common.js';

export interface DataShapeEnv {
  /** whether `name` is a model input fed at run time (not fixed with --const) */
  isFedInput(name: string): boolean;
  /**
   * The model input fed at run time (int32 or int64) that `name` is a Cast of to float32, int32 or int64
   * (exact below 2^24, as a window's expansion casts its size before its Range), else undefined.
   */
  fedInputCastTo(name: string): string | undefined;
  /** adds a shape symbol (a fed one already declared for the same input element is reused) */
  declare(symbol: ShapeSymbolDecl): sym.SymExpr;
  /**
   * The bounds of a size fed as `input`'s value that no data bounds (ConstantOfShape's shape, a window's
   * size): `--dim INPUT=MIN..MAX`, else 0..DEFAULT_FED_MAX with a warning that says how to bound it.
   */
  declaredBounds(input: string): { min: number; max: number };
}

/** The upper bound of a fed size that neither the data nor `--dim INPUT=MIN..MAX` bounds. */
export const DEFAULT_FED_MAX = 64;

type Rule = (ctx: OpContext, outTypes: TensorType[], env: DataShapeEnv) => TensorType[] | undefined;

/** `t` with dim `axis` the symbol `size` (its shape already holds the bound there). */
function withSize(t: TensorType, axis: number, size: sym.SymExpr): TensorType {
  return { ...t, symbolic: t.shape.map((d, i) => (i === axis ? size : d)) };
}

/** Data-dependent sizes but NonZero's need the operands' own shapes fixed. */
function requireStaticInputs(ctx: OpContext): void {
  const at = ctx.inputs.findIndex((t) => t?.symbolic);
  if (at >= 0)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `computes its output size at run time, which Kiln does for inputs of fixed shape only; input ${at} ("${ctx.node.inputs[at]}") has dims known only at run time: fix them with --shape`,
    );
}

/** A computed size, named after its op and first output (`NonZero_y`), as a plain identifier prints simply. */
const computed = (ctx: OpContext, max: number): ShapeSymbolDecl => ({
  name: `${ctx.node.op}_${ctx.node.outputs[0]}`.replace(/[^A-Za-z0-9_]/g, '_'),
  min: 0,
  max,
  computedBy: ctx.node.name,
});

/** A size that is `input`'s value and that no data bounds: each element a fed symbol within the declared bounds. */
function declaredFedSizes(ctx: OpContext, at: number, what: string, count: number, env: DataShapeEnv) {
  const input = ctx.node.inputs[at];
  if (!env.isFedInput(input)) constInput(ctx, at, what); // refused, naming the model input it comes from
  const bounds = env.declaredBounds(input);
  const name = (index: number) =>
    count === 1 && sizeOf(ctx.inputs[at]!.shape) === 1 ? input : `${input}_${index}`;
  return {
    bound: bounds.max,
    sizes: Array.from({ length: count }, (_, index) =>
      env.declare({ name: name(index), ...bounds, fed: { input, index } }),
    ),
  };
}

/**
 * Unsqueeze's, Squeeze's or a Reduce*'s axes fed at run time: the output rank follows from their count (or
 * is the input's, for a Reduce* with keepdims), and each output dim is a fed symbol resolved from the axes
 * and the input's dims (bounded by inference).
 */
const fedAxesRule =
  (op: FedAxes['op']): Rule =>
  (ctx, [out], env) => {
    const axes = ctx.node.inputs[1];
    const fed = op === 'reduce' ? reduceAxesFed(ctx) : ctx.opset >= 13 && !!axes && !ctx.consts[1];
    if (!fed || sizeOf(ctx.inputs[1]!.shape) === 0) return undefined;
    if (!env.isFedInput(axes)) constInput(ctx, 1, 'axes'); // refused, naming the model input it comes from
    requireStaticInputs(ctx);
    const from = [...ctx.inputs[0]!.shape];
    const keepdims = op === 'reduce' ? { keepdims: attrInt(ctx.node, 'keepdims', 1) === 1 } : {};
    const dims = out.shape.map((bound, index) =>
      env.declare({
        name: `${axes}_${index}`,
        min: 0,
        max: bound,
        fed: { input: axes, index, axes: { op, from, ...keepdims } },
      }),
    );
    // the reduction's kernel loops over the dims with keepdims (the same symbols when the output keeps them)
    if (op === 'reduce' && !keepdims.keepdims)
      from.forEach((d, index) =>
        env.declare({
          name: `${axes}_kept_${index}`,
          min: 0,
          max: Math.max(d, 1),
          fed: { input: axes, index, axes: { op, from, keepdims: true } },
        }),
      );
    return [{ ...out, symbolic: dims }];
  };

/**
 * Slice with starts, ends, axes or steps fed at run time: every axis of the input may be sliced, so each
 * gets fed symbols — its element count (the output dim), the first index read and the step forward or
 * backward — resolved by the runtime from the fed values and the input's dims.
 */
const sliceRule: Rule = (ctx, [out], env) => {
  if (!sliceFedAtRunTime(ctx)) return undefined;
  const given = (i: number) => {
    if (!hasInput(ctx, i)) return undefined;
    if (ctx.consts[i]) return tensorToNumbers(ctx.consts[i]!);
    if (!env.isFedInput(ctx.node.inputs[i])) constInput(ctx, i, ['starts', 'ends', 'axes', 'steps'][i - 1]);
    return ctx.node.inputs[i];
  };
  requireStaticInputs(ctx);
  const lengths = [1, 2, 3, 4].flatMap((i) => (hasInput(ctx, i) ? [sizeOf(ctx.inputs[i]!.shape)] : []));
  if (
    lengths.some((n) => n !== lengths[0]) ||
    [1, 2, 3, 4].some((i) => hasInput(ctx, i) && !INDEX_DTYPES.includes(ctx.inputs[i]!.dtype))
  )
    throw new OpError(
      ctx.node,
      ctx.opset,
      `starts, ends, axes and steps must be int64 or int32 of one length, found ${[1, 2, 3, 4].flatMap((i) => (hasInput(ctx, i) ? [`${ctx.inputs[i]!.dtype}[${ctx.inputs[i]!.shape}]`] : [])).join(', ')}`,
    );
  const [starts, ends, axes, steps] = [given(1)!, given(2)!, given(3), given(4)];
  const input = [starts, ends, axes, steps].find((v) => typeof v === 'string') as string;
  const from = [...ctx.inputs[0]!.shape];
  const fed = (index: number, part: FedSlice['part'], max: number) =>
    env.declare({
      name: `${input}_${part}_${index}`,
      min: 0,
      max,
      fed: {
        input,
        index,
        slice: { from, starts, ends, ...(axes && { axes }), ...(steps && { steps }), part },
      },
    });
  from.forEach((d, a) => {
    fed(a, 'first', Math.max(d - 1, 0));
    fed(a, 'forward', Math.max(d, 1));
    fed(a, 'backward', Math.max(d, 1));
  });
  return [{ ...out, symbolic: from.map((d, a) => fed(a, 'count', d)) }];
};

/**
 * Resize with its sizes or scales fed at run time: each resized axis's output dim is a fed symbol — the
 * size itself, or floor(dim × scale) — bounded by `--dim INPUT=MIN..MAX` (else 0..DEFAULT_FED_MAX).
 */
const resizeRule: Rule = (ctx, [out], env) => {
  if (!resizeFedAtRunTime(ctx)) return undefined;
  const at = hasInput(ctx, 3) && !ctx.consts[3] ? 3 : scalesInput(ctx);
  const input = ctx.node.inputs[at];
  if (!env.isFedInput(input)) constInput(ctx, at, at === 3 ? 'sizes' : 'scales'); // names the model input
  requireStaticInputs(ctx);
  const x = ctx.inputs[0]!;
  if (at !== 3 && ctx.inputs[at]!.dtype !== 'float32')
    throw new OpError(
      ctx.node,
      ctx.opset,
      `scales (input ${at}) fed at run time must be float32, found ${ctx.inputs[at]!.dtype}`,
    );
  const axes =
    ctx.opset >= 18 && ctx.node.attrs.axes !== undefined
      ? attrInts(ctx.node, 'axes').map((a) => normAxis(a, x.shape.length, ctx))
      : x.shape.map((_, a) => a);
  const bounds = env.declaredBounds(input);
  const shape = [...out.shape];
  const symbolic: sym.SymLike[] = [...out.shape];
  axes.forEach((a, index) => {
    symbolic[a] = env.declare({
      name: `${input}_${index}`,
      ...bounds,
      fed: { input, index, ...(at !== 3 && { scaled: x.shape[a] }) },
    });
    shape[a] = bounds.max;
  });
  return [{ ...out, shape, symbolic }];
};

/**
 * Expand's shape or Tile's repeats fed at run time: each output dim a fed symbol — the input dim broadcast
 * with the shape's element, or the input dim times the count — each bounded by `--dim INPUT=MIN..MAX`
 * (else 0..DEFAULT_FED_MAX), as Resize's; an Expand dim the input fixes (> 1) is bounded to it.
 */
const fedSizesRule =
  (op: 'Expand' | 'Tile'): Rule =>
  (ctx, [out], env) => {
    if (!sizesFedAtRunTime(ctx)) return undefined;
    const input = ctx.node.inputs[1];
    const what = op === 'Expand' ? 'shape' : 'repeats';
    if (!env.isFedInput(input)) constInput(ctx, 1, what); // refused, naming the model input it comes from
    if (!INDEX_DTYPES.includes(ctx.inputs[1]!.dtype) || ctx.inputs[1]!.shape.length !== 1)
      throw new OpError(ctx.node, ctx.opset, `${what} (input 1) must be a 1-D int64 or int32 tensor`);
    requireStaticInputs(ctx);
    const from = [...ctx.inputs[0]!.shape];
    if (op === 'Tile' && sizeOf(ctx.inputs[1]!.shape) !== from.length)
      throw new OpError(
        ctx.node,
        ctx.opset,
        `repeats (input 1) must hold ${from.length} counts, one per axis of input 0`,
      );
    const bounds = env.declaredBounds(input);
    const dims = out.shape.map((d, index) => {
      const own = from[index - (out.shape.length - from.length)] ?? 1;
      const [min, max] =
        op === 'Tile'
          ? own === 0
            ? [0, 0]
            : [bounds.min, bounds.max]
          : own > 1
            ? [own, own]
            : [bounds.min, bounds.max];
      return {
        bound: max,
        size: env.declare({
          name: `${input}_${index}`,
          min,
          max,
          fed: { input, index, ...(op === 'Tile' ? { times: own } : { broadcast: from }) },
        }),
      };
    });
    return [{ ...out, shape: dims.map((d) => d.bound), symbolic: dims.map((d) => d.size) }];
  };

/** A window op's size (HannWindow...), fed at run time. */
const windowRule: Rule = (ctx, [out], env) => {
  if (ctx.consts[0]) return undefined;
  const { bound, sizes } = declaredFedSizes(ctx, 0, 'size', 1, env);
  return [{ ...out, shape: [bound], symbolic: sizes }];
};

/**
 * A scalar size (an int32 or int64 model input) fed at run time that no data bounds: one fed symbol named
 * after the input, bounded by `--dim INPUT=MIN..MAX` (else 0..DEFAULT_FED_MAX), at least 1.
 */
function positiveFedSize(ctx: OpContext, at: number, what: string, env: DataShapeEnv, limit = Infinity) {
  const input = ctx.node.inputs[at];
  if (!env.isFedInput(input)) constInput(ctx, at, what); // refused, naming the model input it comes from
  const bounds = env.declaredBounds(input);
  const [min, max] = [Math.max(1, bounds.min), Math.max(1, Math.min(bounds.max, limit))];
  if (min > max)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `${what} (input ${at}, "${input}") is bounded ${min}..${bounds.max}, beyond its limit ${limit}`,
    );
  return { min, max, size: env.declare({ name: input, min, max, fed: { input, index: 0 } }) };
}

const RULES: Record<string, Rule> = {
  STFT(ctx, [out], env) {
    if (!stftSizeFed(ctx, 1) && !stftSizeFed(ctx, 3)) return undefined;
    const signal = ctx.inputs[0]!.shape[1];
    const ranges: Record<string, sym.Range> = {};
    const p = stftPlan(ctx, {
      length() {
        const fed = positiveFedSize(ctx, 3, 'frame_length', env, signal);
        ranges[ctx.node.inputs[3]] = fed;
        return fed.size;
      },
      frames(length) {
        const input = ctx.node.inputs[1];
        if (!env.isFedInput(input)) constInput(ctx, 1, 'frame_step'); // names the model input it comes from
        const step = env.declaredBounds(input);
        const { min, max } = sym.bounds(length, ranges);
        const count = (l: number, by: number) => Math.floor((signal - l) / Math.max(1, by)) + 1;
        const name = `${input}_frames`;
        ranges[name] = { min: count(max, step.max), max: count(min, step.min) };
        const frames = { signal, length: typeof length === 'number' ? length : ctx.node.inputs[3] };
        return env.declare({ name, ...ranges[name], fed: { input, index: 0, frames } });
      },
    });
    const symbolic = [p.batch, p.frames, p.bins, 2];
    return [{ ...out, shape: symbolic.map((d) => sym.bounds(d, ranges).max), symbolic }];
  },
  MelWeightMatrix(ctx, [out], env) {
    const { mels, dft } = melSizes(ctx);
    if (mels !== undefined && dft !== undefined) return undefined;
    const bins =
      mels === undefined ? positiveFedSize(ctx, 0, 'num_mel_bins', env) : { max: mels, size: mels };
    const length = dft === undefined ? positiveFedSize(ctx, 1, 'dft_length', env) : { max: dft, size: dft };
    return [
      {
        ...out,
        shape: [Math.floor(length.max / 2) + 1, bins.max],
        symbolic: [sym.add(sym.floorDiv(length.size, 2), 1), bins.size],
      },
    ];
  },
  ConstantOfShape(ctx, [out], env) {
    if (ctx.consts[0]) return undefined;
    const { bound, sizes } = declaredFedSizes(ctx, 0, 'shape', out.shape.length, env);
    return [{ ...out, shape: sizes.map(() => bound), symbolic: sizes }];
  },
  MaxUnpool(ctx, [out], env) {
    if (!outputShapeFed(ctx)) return undefined;
    requireStaticInputs(ctx);
    const { bound, sizes } = declaredFedSizes(ctx, 2, 'output_shape', out.shape.length, env);
    return [{ ...out, shape: sizes.map(() => bound), symbolic: sizes }];
  },
  HannWindow: windowRule,
  HammingWindow: windowRule,
  BlackmanWindow: windowRule,
  Compress(ctx, [out], env) {
    if (ctx.consts[1]) return undefined; // selected at compile time
    requireStaticInputs(ctx);
    const { axis, length } = compressAxis(ctx);
    return [withSize(out, axis, env.declare(computed(ctx, length)))];
  },
  NonZero(ctx, [out], env) {
    if (ctx.consts[0]) return undefined; // folds
    // its input may have dims known only at run time: it is bounded at their bounds
    return [withSize(out, 1, env.declare(computed(ctx, sizeOf(ctx.inputs[0]!.shape))))];
  },
  NonMaxSuppression(ctx, [out], env) {
    requireStaticInputs(ctx);
    return [withSize(out, 0, env.declare(computed(ctx, out.shape[0])))];
  },
  Unique(ctx, outTypes, env) {
    requireStaticInputs(ctx);
    const size = env.declare(computed(ctx, outTypes[0].shape[0]));
    // Y, indices and counts hold one entry per distinct value; inverse_indices one per input element
    return outTypes.map((t, i) => (i === 2 ? t : withSize(t, 0, size)));
  },
  Reshape(ctx, [out], env) {
    const target = ctx.node.inputs[1];
    if (ctx.opset < 5 || ctx.consts[1]) return undefined;
    if (!env.isFedInput(target)) constInput(ctx, 1, 'shape'); // refused, naming the model input it comes from
    requireStaticInputs(ctx);
    const from = ctx.inputs[0]!.shape;
    const reshape = { from: [...from], allowzero: reshapeAllowsZero(ctx) };
    const dims = out.shape.map((bound, index) =>
      env.declare({ name: `${target}_${index}`, min: 0, max: bound, fed: { input: target, index, reshape } }),
    );
    return [{ ...out, symbolic: dims }];
  },
  Split(ctx, outTypes, env) {
    if (!splitFedAtRunTime(ctx)) return undefined;
    const parts = ctx.node.inputs[1];
    if (!env.isFedInput(parts)) constInput(ctx, 1, 'split'); // refused, naming the model input it comes from
    requireStaticInputs(ctx);
    const x = ctx.inputs[0]!;
    const axis = normAxis(attrInt(ctx.node, 'axis', 0), x.shape.length, ctx);
    if (sizeOf(ctx.inputs[1]!.shape) !== outTypes.length)
      throw new OpError(
        ctx.node,
        ctx.opset,
        `split (input 1) must hold one size per output (${outTypes.length}), found shape [${ctx.inputs[1]!.shape}]`,
      );
    return outTypes.map((t, index) =>
      withSize(
        t,
        axis,
        env.declare({
          name: `${parts}_${index}`,
          min: 0,
          max: x.shape[axis],
          fed: { input: parts, index, sum: x.shape[axis] },
        }),
      ),
    );
  },
  OneHot(ctx, [out], env) {
    if (ctx.consts[1]) return undefined;
    const depth = ctx.node.inputs[1];
    if (!env.isFedInput(depth)) constInput(ctx, 1, 'depth'); // refused, naming the model input it comes from
    if (!['int64', 'int32', 'float32'].includes(ctx.inputs[1]!.dtype))
      throw new OpError(
        ctx.node,
        ctx.opset,
        `depth fed at run time must be int64, int32 or float32, found ${ctx.inputs[1]!.dtype}`,
      );
    requireStaticInputs(ctx);
    const axis = normAxis(attrInt(ctx.node, 'axis', -1), out.shape.length, ctx);
    const bounds = env.declaredBounds(depth);
    const size = env.declare({
      name: depth,
      min: Math.max(1, bounds.min),
      max: Math.max(1, bounds.max),
      fed: { input: depth, index: 0, truncated: true },
    });
    return [
      {
        ...out,
        shape: out.shape.map((d, i) => (i === axis ? Math.max(1, bounds.max) : d)),
        symbolic: out.shape.map((d, i) => (i === axis ? size : d)),
      },
    ];
  },
  Expand: fedSizesRule('Expand'),
  Tile: fedSizesRule('Tile'),
  Range(ctx, [out], env) {
    if (!rangeFedAtRunTime(ctx)) return undefined;
    const names = ['start', 'limit', 'delta'] as const;
    const value = (i: number) => {
      if (ctx.consts[i]) return Number(ctx.consts[i]!.data[0]);
      const cast = env.fedInputCastTo(ctx.node.inputs[i]);
      if (cast) return cast;
      if (!env.isFedInput(ctx.node.inputs[i])) constInput(ctx, i, names[i]); // names the model input
      return ctx.node.inputs[i];
    };
    if (!['float32', 'int32', 'int64'].includes(ctx.inputs[0]!.dtype))
      throw new OpError(
        ctx.node,
        ctx.opset,
        `start, limit and delta fed at run time must be float32, int32 or int64, found ${ctx.inputs[0]!.dtype}`,
      );
    const range = { start: value(0), limit: value(1), delta: value(2) };
    const input = [range.limit, range.start, range.delta].find((v) => typeof v === 'string') as string;
    const bounds = env.declaredBounds(input);
    const count = env.declare({ name: `${input}_count`, ...bounds, fed: { input, index: 0, range } });
    return [{ ...out, shape: [bounds.max], symbolic: [count] }];
  },
  Pad(ctx, [out], env) {
    if (!padsFedAtRunTime(ctx)) return undefined;
    const pads = ctx.node.inputs[1];
    if (!env.isFedInput(pads)) constInput(ctx, 1, 'pads'); // refused, naming the model input it comes from
    requireStaticInputs(ctx);
    const from = [...ctx.inputs[0]!.shape];
    const mode = attrString(ctx.node, 'mode', 'constant');
    if (
      (ctx.opset >= 18 && hasInput(ctx, 3)) ||
      sizeOf(ctx.inputs[1]!.shape) !== 2 * from.length ||
      (mode !== 'constant' && from.includes(0))
    )
      throw new OpError(
        ctx.node,
        ctx.opset,
        `pads fed at run time must hold ${2 * from.length} values (no axes input), and mode '${mode}' an input with no axis of size 0`,
      );
    const bounds = env.declaredBounds(pads);
    const fed = (index: number, part: 'size' | 'before' | 'cropped', max: number) =>
      env.declare({
        name: `${pads}_${part}_${index}`,
        min: 0,
        max,
        fed: { input: pads, index, padded: { from, part } },
      });
    const shape = from.map((d) => Math.max(d, bounds.max));
    const symbolic = from.map((d, a) => {
      fed(a, 'before', shape[a]);
      fed(a, 'cropped', d);
      return fed(a, 'size', shape[a]);
    });
    return [{ ...out, shape, symbolic }];
  },
  Resize: resizeRule,
  Upsample: resizeRule,
  Slice: sliceRule,
  Unsqueeze: fedAxesRule('unsqueeze'),
  Squeeze: fedAxesRule('squeeze'),
  TopK(ctx, outTypes, env) {
    const k = ctx.node.inputs[1];
    if (ctx.opset < 10 || ctx.consts[1]) return undefined;
    if (!env.isFedInput(k))
      throw new OpError(
        ctx.node,
        ctx.opset,
        `K (input 1, "${k}") is computed at run time; Kiln takes a run-time K only as a model input (or fix it with --const)`,
      );
    requireStaticInputs(ctx);
    const x = ctx.inputs[0]!;
    const axis = normAxis(attrInt(ctx.node, 'axis', -1), x.shape.length, ctx);
    const size = env.declare({ name: k, min: 0, max: x.shape[axis], fed: { input: k, index: 0 } });
    return outTypes.map((t) => withSize(t, axis, size));
  },
};

/**
 * `outTypes` (inferred at the bounds) with the data symbols of a node whose output size is a value, or
 * undefined for any other node (and for one whose value is a compile-time constant).
 */
for (const op of REDUCE_OPS) RULES[op] = fedAxesRule('reduce');

export function withDataShapes(
  ctx: OpContext,
  outTypes: TensorType[],
  env: DataShapeEnv,
): TensorType[] | undefined {
  if (ctx.node.domain !== '') return undefined;
  return RULES[ctx.node.op]?.(ctx, outTypes, env);
}
