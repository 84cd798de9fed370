/**
 * Resize (opset 10, 11+, 18 axes) and Upsample (7: scales attribute, 9: scales input).
 *
 * Every output element is a weighted sum of taps, separable per axis: nearest = 1 tap, linear = 2,
 * cubic = 4. For each resized axis the source coordinate is computed in f64 exactly as the ONNX
 * reference writes it (so nearest rounding at .5 matches), once per output index of that axis,
 * hoisted out of the inner loops; tap indices are clamped (edge padding), so reads stay in bounds.
 */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf, tensorToNumbers } from '../../ir/tensor.js';
import {
  add,
  bin,
  cast,
  cmp,
  dim,
  f64,
  i32,
  load,
  local,
  loop,
  max,
  min,
  mul,
  select,
  store,
  sub,
  un,
  v,
} from '../../kernels/build.js';
import { scalarOf, type Expr, type Stmt } from '../../kernels/ir.js';
import {
  attrFloat,
  attrFloats,
  attrInt,
  attrInts,
  attrString,
  constInput,
  OpError,
  registerOp,
  type OpContext,
  type OpDef,
  type LowerIO,
} from '../registry.js';
import { constInts, dataInput, hasInput, normAxes, rowMajor, rowMajorAt } from './common.js';
import { readsBlocks, upsampleBlocks } from './upsample-blocks.js';
import { isLinearDoubling, linearDoubling } from './linear-doubling.js';

type Mode = 'nearest' | 'linear' | 'cubic';
const COORD_MODES = [
  'half_pixel',
  'half_pixel_symmetric',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_half_pixel_for_nn',
  'tf_crop_and_resize',
] as const;
type CoordMode = (typeof COORD_MODES)[number];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;
type NearestMode = (typeof NEAREST_MODES)[number];

/** A number known at compile time, or an f64 (i32 for a dim) expression read at run time. */
type Num = number | Expr;

interface ResizePlan {
  x: TensorType;
  /** the output dims (their bounds for sizes read at run time) */
  outShape: number[];
  /** the output dims: as outShape, or a dims-block symbol for a size read at run time */
  outDims: Num[];
  /** per axis: the scale the coordinate transform divides by (1 for axes left alone) */
  scales: Num[];
  /** per axis: crop box [start, end] in normalized coordinates (tf_crop_and_resize) */
  roi: [Num, Num][];
  mode: Mode;
  coord: CoordMode;
  nearest: NearestMode;
  cubicA: number;
  excludeOutside: boolean;
  extrapolation: number;
}

function oneOf<T extends string>(ctx: OpContext, name: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `${name} '${value}' is unsupported (expected ${allowed.join(', ')})`,
    );
  return value as T;
}

/** A float input given as a possibly empty tensor; empty (or omitted) means absent. */
function optionalFloats(ctx: OpContext, i: number, what: string): number[] | undefined {
  if (!hasInput(ctx, i)) return undefined;
  const values = tensorToNumbers(constInput(ctx, i, what));
  return values.length ? values : undefined;
}

/** Whether the node has the semantics of Upsample or Resize-10: scales (input 1) and no roi or sizes. */
const isLegacy = (ctx: OpContext) => ctx.node.op === 'Upsample' || ctx.opset < 11;

/** Which input holds the scales: 1 in Upsample-9 and Resize-10, 2 after the roi from opset 11. */
export const scalesInput = (ctx: OpContext) => (isLegacy(ctx) ? 1 : 2);

/**
 * Whether input i (roi 1, scales 2, sizes 3; the scales 1 of Upsample-9 and Resize-10) is read at run
 * time: fed, not empty. Upsample-7's scales are an attribute.
 */
const fedInput = (ctx: OpContext, i: number) =>
  ctx.opset >= 9 && hasInput(ctx, i) && !ctx.consts[i] && sizeOf(ctx.inputs[i]!.shape) > 0;

/** Whether a Resize's output dims are read at run time: its scales or sizes are fed (passes/data-shapes.ts). */
export const resizeFedAtRunTime = (ctx: OpContext) =>
  isLegacy(ctx) ? fedInput(ctx, 1) : fedInput(ctx, 2) || fedInput(ctx, 3);

/**
 * The lowering's reads of inputs fed at run time: output dim i of the resized axes (a dims-block symbol),
 * scale i and roi value i (loaded from the input as f64).
 */
interface FedReads {
  size(i: number): Expr;
  scale(i: number): Expr;
  roi(i: number): Expr;
}

/**
 * The plan of a Resize. With inputs read at run time, `fed` gives their values for the kernel; without
 * it (inference) a fed size is the input dim, a placeholder the data-shapes rule replaces by its bound.
 */
function resizePlan(ctx: OpContext, fed?: FedReads): ResizePlan {
  const x = dataInput(ctx, 0);
  const r = x.shape.length;
  const isUpsample = ctx.node.op === 'Upsample';
  const legacy = isLegacy(ctx);
  let mode = attrString(ctx.node, 'mode', 'nearest');
  if (mode === 'bilinear' && isUpsample) mode = 'linear';
  const allowedModes: Mode[] = legacy ? ['nearest', 'linear'] : ['nearest', 'linear', 'cubic'];
  const plan: ResizePlan = {
    x,
    outShape: [...x.shape],
    outDims: [...x.shape],
    scales: x.shape.map(() => 1),
    roi: x.shape.map(() => [0, 1]),
    mode: oneOf(ctx, 'mode', mode, allowedModes),
    // Opset ≤ 10 semantics are ONNX Runtime's: asymmetric coordinates, nearest rounds down.
    coord: legacy
      ? 'asymmetric'
      : oneOf(
          ctx,
          'coordinate_transformation_mode',
          attrString(ctx.node, 'coordinate_transformation_mode', 'half_pixel'),
          COORD_MODES,
        ),
    nearest: legacy
      ? 'floor'
      : oneOf(ctx, 'nearest_mode', attrString(ctx.node, 'nearest_mode', 'round_prefer_floor'), NEAREST_MODES),
    cubicA: attrFloat(ctx.node, 'cubic_coeff_a', -0.75),
    excludeOutside: attrInt(ctx.node, 'exclude_outside', 0) !== 0,
    extrapolation: attrFloat(ctx.node, 'extrapolation_value', 0),
  };
  if (plan.coord === 'half_pixel_symmetric' && ctx.opset < 19)
    throw new OpError(
      ctx.node,
      ctx.opset,
      "coordinate_transformation_mode 'half_pixel_symmetric' needs opset 19",
    );
  if (plan.mode !== 'nearest' && !['float32', 'float16', 'float64'].includes(x.dtype))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `mode '${plan.mode}' on ${x.dtype} data is unsupported (only nearest works on integers)`,
    );

  let scales: Num[] | undefined;
  let sizes: Num[] | undefined;
  let axes = x.shape.map((_, i) => i);
  // read at run time: one value per element of the input (its length checked below)
  const fedValues = <T>(i: number, read: (j: number) => T) =>
    Array.from({ length: sizeOf(ctx.inputs[i]!.shape) }, (_, j) => read(j));
  const fedOrConstScales = (i: number) =>
    fedInput(ctx, i) ? fedValues(i, (j) => fed?.scale(j) ?? 1) : optionalFloats(ctx, i, 'scales');
  if (isUpsample && ctx.opset < 9) scales = attrFloats(ctx.node, 'scales');
  else if (legacy) scales = fedOrConstScales(1);
  else {
    if (ctx.opset >= 18 && ctx.node.attrs.axes !== undefined)
      axes = normAxes(ctx, attrInts(ctx.node, 'axes'), r);
    scales = fedOrConstScales(2);
    sizes = fedInput(ctx, 3)
      ? fedValues(3, (j) => fed?.size(j) ?? x.shape[axes[j]] ?? 0)
      : hasInput(ctx, 3)
        ? constInts(ctx, 3, 'sizes')
        : undefined;
    if (sizes && !sizes.length) sizes = undefined;
    if (plan.coord === 'tf_crop_and_resize') {
      const roi = fedInput(ctx, 1) ? fedValues(1, (j) => fed?.roi(j) ?? 0) : optionalFloats(ctx, 1, 'roi');
      if (!roi || roi.length !== 2 * axes.length)
        throw new OpError(
          ctx.node,
          ctx.opset,
          `tf_crop_and_resize needs roi with ${2 * axes.length} values, found ${roi?.length ?? 0}`,
        );
      axes.forEach((a, i) => (plan.roi[a] = [roi[i], roi[i + axes.length]]));
    }
    if (ctx.opset >= 18 && attrInt(ctx.node, 'antialias', 0) !== 0)
      throw new OpError(ctx.node, ctx.opset, 'antialias=1 is unsupported');
  }
  if (!!scales === !!sizes)
    throw new OpError(ctx.node, ctx.opset, 'exactly one of scales and sizes must be given (non-empty)');
  const given = (scales ?? sizes)!;
  if (given.length !== axes.length)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `${scales ? 'scales' : 'sizes'} [${given}] must have one value for each of ${axes.length} axes`,
    );

  if (resizeFedAtRunTime(ctx)) {
    // the runtime resolves (and checks) the sizes: a size over an empty axis would read outside it
    const policy = ctx.opset >= 18 ? attrString(ctx.node, 'keep_aspect_ratio_policy', 'stretch') : 'stretch';
    if (policy !== 'stretch' || axes.some((a) => x.shape[a] === 0))
      throw new OpError(
        ctx.node,
        ctx.opset,
        `${scales ? 'scales' : 'sizes'} fed at run time are unsupported with keep_aspect_ratio_policy '${policy}' or an axis of size 0; pass them with --const`,
      );
    axes.forEach((a, i) => {
      plan.outDims[a] = fed ? fed.size(i) : x.shape[a];
      plan.scales[a] = scales ? scales[i] : fed ? bin('div', cast('f64', fed.size(i)), f64(x.shape[a])) : 1;
    });
    return plan;
  }
  if (scales) {
    const given = scales as number[];
    axes.forEach((a, i) => {
      if (!(given[i] > 0)) throw new OpError(ctx.node, ctx.opset, `scales [${given}] must be positive`);
      plan.scales[a] = given[i];
      plan.outShape[a] = plan.outDims[a] = Math.floor(x.shape[a] * given[i]);
    });
  } else {
    const policy = ctx.opset >= 18 ? attrString(ctx.node, 'keep_aspect_ratio_policy', 'stretch') : 'stretch';
    oneOf(ctx, 'keep_aspect_ratio_policy', policy, ['stretch', 'not_larger', 'not_smaller']);
    const given = sizes as number[];
    const ratios = axes.map((a, i) => given[i] / x.shape[a]);
    const kept = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    axes.forEach((a, i) => {
      if (given[i] < 0) throw new OpError(ctx.node, ctx.opset, `sizes [${given}] must be non-negative`);
      plan.scales[a] = policy === 'stretch' ? ratios[i] : kept;
      plan.outShape[a] = plan.outDims[a] = policy === 'stretch' ? given[i] : Math.round(kept * x.shape[a]);
    });
  }
  plan.outShape.forEach((d, a) => {
    if (d > 0 && x.shape[a] === 0)
      throw new OpError(ctx.node, ctx.opset, `cannot resize axis ${a} of size 0 to ${d}`);
  });
  return plan;
}

/** Whether axis a maps output index o to input index o (nothing to interpolate). */
function isIdentityAxis(p: ResizePlan, a: number): boolean {
  return p.outDims[a] === p.x.shape[a] && p.scales[a] === 1 && p.coord !== 'tf_crop_and_resize';
}

/** f64 arithmetic on numbers known now (folded, as the static kernels always had them) or run-time values. */
const f64Of = (n: Num): Expr => (typeof n === 'number' ? f64(n) : n);
function arith(op: 'add' | 'sub' | 'mul' | 'div', a: Num, b: Num): Num {
  if (typeof a === 'number' && typeof b === 'number')
    return op === 'add' ? a + b : op === 'sub' ? a - b : op === 'mul' ? a * b : a / b;
  return bin(op, f64Of(a), f64Of(b));
}
/** `whenOne` where `width` is 1, else `otherwise` (chosen now for a number, at run time otherwise). */
function unlessWidthOne(width: Num, whenOne: Num, otherwise: () => Num): Expr {
  if (typeof width === 'number') return f64Of(width === 1 ? whenOne : otherwise());
  return select(cmp('eq', width, f64(1)), f64Of(whenOne), f64Of(otherwise()));
}

/** The f64 source coordinate of output index `o` along axis a, as the ONNX reference computes it. */
function sourceCoord(p: ResizePlan, a: number, o: Expr): Expr {
  const inDim = p.x.shape[a];
  const outDim = p.outDims[a];
  const scale = p.scales[a];
  const half = (e: Expr) => add(e, f64(0.5));
  const div64 = (e: Expr, d: Num): Expr => bin('div', e, f64Of(d));
  switch (p.coord) {
    case 'asymmetric':
      return div64(o, scale);
    case 'half_pixel':
      return sub(div64(half(o), scale), f64(0.5));
    case 'half_pixel_symmetric': {
      const outF = typeof outDim === 'number' ? outDim : cast('f64', outDim);
      const adjustment = arith('div', outF, arith('mul', scale, inDim));
      const offset = arith('mul', inDim / 2, arith('sub', 1, adjustment));
      return add(f64Of(offset), sub(div64(half(o), scale), f64(0.5)));
    }
    case 'pytorch_half_pixel':
      if (typeof outDim !== 'number')
        return select(cmp('gt', outDim, i32(1)), sub(div64(half(o), scale), f64(0.5)), f64(0));
      return outDim > 1 ? sub(div64(half(o), scale), f64(0.5)) : f64(0);
    case 'tf_half_pixel_for_nn':
      return div64(half(o), scale);
    case 'align_corners': {
      // The reference divides by the unrounded output width scale·in − 1.
      const width = arith('mul', scale, inDim);
      return unlessWidthOne(width, 0, () =>
        bin('div', mul(o, f64(inDim - 1)), f64Of(arith('sub', width, 1))),
      );
    }
    case 'tf_crop_and_resize': {
      const [s, e] = p.roi[a];
      const width = arith('mul', scale, inDim);
      return unlessWidthOne(width, arith('mul', arith('mul', 0.5, arith('add', s, e)), inDim - 1), () =>
        add(
          f64Of(arith('mul', s, inDim - 1)),
          bin(
            'div',
            mul(o, f64Of(arith('mul', arith('sub', e, s), inDim - 1))),
            f64Of(arith('sub', width, 1)),
          ),
        ),
      );
    }
  }
}

/** The nearest input index of source coordinate `x` (f64) under Resize's `nearest_mode`. */
export function roundNearest(mode: NearestMode, x: Expr): Expr {
  switch (mode) {
    case 'round_prefer_floor':
      return un('ceil', sub(x, f64(0.5)));
    case 'round_prefer_ceil':
      return un('floor', add(x, f64(0.5)));
    case 'floor':
      return un('floor', x);
    case 'ceil':
      return un('ceil', x);
  }
}

/** Cubic convolution weights of the 4 taps floor(x)-1 .. floor(x)+2 for fraction t. */
function cubicWeights(t: Expr, A: number): Expr[] {
  const poly = (s: Expr, c: number[]): Expr => {
    // c0 + s*(c1 + s*(c2 + s*c3)) with s ≥ 0 the distance to the tap
    let e = f64(c[3]);
    for (let i = 2; i >= 0; i--) e = add(f64(c[i]), mul(s, e));
    return e;
  };
  const far = [-4 * A, 8 * A, -5 * A, A]; // 1 < s < 2
  const near = [1, 0, -(A + 3), A + 2]; // s ≤ 1
  const oneMinus = sub(f64(1), t);
  return [poly(add(t, f64(1)), far), poly(t, near), poly(oneMinus, near), poly(add(oneMinus, f64(1)), far)];
}

interface Tap {
  index: Expr;
  weight?: Expr;
}

/**
 * Statements computing axis a's taps for the current output index (declared as locals) and the taps
 * themselves. `outside` names an i32 local set when tf_crop_and_resize extrapolates.
 */
function axisTaps(
  p: ResizePlan,
  a: number,
  o: Expr,
  compute: 'f32' | 'f64',
): { stmts: Stmt[]; taps: Tap[]; outside?: Expr } {
  const inDim = p.x.shape[a];
  const clampIdx = (e: Expr) => min(max(e, i32(0)), i32(inDim - 1));
  const xName = `x${a}`;
  const stmts: Stmt[] = [local(xName, 'f64', sourceCoord(p, a, cast('f64', o)))];
  const xv = v(xName, 'f64');
  let outside: Expr | undefined;
  if (p.coord === 'tf_crop_and_resize') {
    stmts.push(local(`out${a}`, 'i32', bin('or', cmp('lt', xv, f64(0)), cmp('gt', xv, f64(inDim - 1)))));
    outside = v(`out${a}`);
  }
  if (p.mode === 'nearest') {
    stmts.push(local(`n${a}`, 'i32', clampIdx(cast('i32', roundNearest(p.nearest, xv)))));
    return { stmts, taps: [{ index: v(`n${a}`) }], outside };
  }
  stmts.push(local(`f${a}`, 'f64', un('floor', xv)), local(`t${a}`, 'f64', sub(xv, v(`f${a}`, 'f64'))));
  const base = cast('i32', v(`f${a}`, 'f64'));
  const t = v(`t${a}`, 'f64');
  const offsets = p.mode === 'linear' ? [0, 1] : [-1, 0, 1, 2];
  let weights = p.mode === 'linear' ? [sub(f64(1), t), t] : cubicWeights(t, p.cubicA);
  if (p.mode === 'cubic' && p.excludeOutside) {
    // Taps outside the input get weight 0 and the rest are renormalized.
    weights = weights.map((w, k) => {
      const pos = add(base, i32(offsets[k]));
      return select(bin('and', cmp('ge', pos, i32(0)), cmp('lt', pos, i32(inDim))), w, f64(0));
    });
    weights.forEach((w, k) => stmts.push(local(`r${a}_${k}`, 'f64', w)));
    const sum = weights.map((_, k) => v(`r${a}_${k}`, 'f64')).reduce((s, w) => add(s, w));
    stmts.push(local(`s${a}`, 'f64', sum));
    weights = weights.map((_, k) => bin('div', v(`r${a}_${k}`, 'f64'), v(`s${a}`, 'f64')));
  }
  const taps = offsets.map((off, k): Tap => {
    stmts.push(local(`i${a}_${k}`, 'i32', clampIdx(add(base, i32(off)))));
    stmts.push(local(`w${a}_${k}`, compute, cast(compute, weights[k])));
    return { index: v(`i${a}_${k}`), weight: v(`w${a}_${k}`, compute) };
  });
  return { stmts, taps, outside };
}

/**
 * The innermost axis's taps depend only on its output index `o`, so a prologue kernel computes them once
 * per run (the axis's own statements, in a loop over it) into scratch tables, and the element loop reads
 * them back under the same names instead of doing the f64 coordinate math per element.
 */
function tabulateInnermostAxis(
  io: LowerIO,
  extent: number,
  o: Extract<Expr, { k: 'var' }>,
  stmts: Stmt[],
  tapped: { taps: Tap[]; outside?: Expr },
): { prologue: Stmt; reads: Stmt[] } {
  const columns = [
    ...tapped.taps.flatMap((tap) => [tap.index, tap.weight ?? []].flat()),
    tapped.outside ?? [],
  ].flat();
  const fills: Stmt[] = [];
  const reads: Stmt[] = [];
  for (const column of columns) {
    if (column.k !== 'var') throw new Error('resize: taps are locals');
    const table = io.scratch(
      column.t === 'i32' ? 'int32' : column.t === 'f32' ? 'float32' : 'float64',
      extent,
    );
    fills.push(store(table, o, column));
    reads.push(local(column.name, column.t, load(table, o)));
  }
  return { prologue: loop(o.name, extent, [...stmts, ...fills]), reads };
}

/** Reads of the inputs fed at run time: sizes from the dims block (passes/data-shapes.ts), the rest loaded. */
function fedReads(ctx: OpContext, io: LowerIO): FedReads {
  const f64At = (i: number) => (j: number) => cast('f64', load(io.inputs[i]!, i32(j)));
  return {
    size: (j) => dim(io.sizes!.find((s) => s.fed?.index === j)!.symbol),
    scale: f64At(scalesInput(ctx)),
    roi: f64At(1),
  };
}

/**
 * The most taps one output element may sum on webgpu: the sum is one WGSL expression, and Dawn's parser
 * refuses the 256 of a cubic Resize over 4 axes ("maximum parser recursive depth reached").
 */
const MAX_GPU_TAPS = 64;

/**
 * The whole factors [kh, kw] of the last two axes when a static Resize copies each input element to a
 * kh×kw block (upsample-blocks.ts), keeping its leading axes; undefined otherwise.
 */
function blockFactors(p: ResizePlan): number[] | undefined {
  const r = p.x.shape.length;
  if (r < 3 || !p.outDims.every((d) => typeof d === 'number')) return undefined;
  if (!p.x.shape.slice(0, r - 2).every((_, a) => isIdentityAxis(p, a))) return undefined;
  const factors = [r - 2, r - 1].map((a) => p.outShape[a] / p.x.shape[a]);
  const fits = factors.every((k, i) => p.scales[r - 2 + i] === k && readsBlocks(p, k));
  return fits ? factors : undefined;
}

/**
 * The whole factors [kh, kw] of a Resize or Upsample whose scales and sizes are constants when it copies
 * each input element to a kh×kw block (a nearest ×2 upsampling): what passes/fuse-residual.ts folds into a
 * conv's residual. Undefined otherwise.
 */
export function staticBlockFactors(ctx: OpContext): number[] | undefined {
  return resizeFedAtRunTime(ctx) ? undefined : blockFactors(resizePlan(ctx));
}

function lowerResize(ctx: OpContext, io: LowerIO) {
  const p = resizePlan(ctx, fedReads(ctx, io));
  const { x, outShape, outDims } = p;
  const blocks = io.forGpu ? undefined : blockFactors(p);
  if (blocks) return [upsampleBlocks(ctx.node.name, io, x.shape, blocks)];
  if (!io.forGpu && x.dtype === 'float32' && isLinearDoubling(p, x.shape, outDims, p.scales))
    return [linearDoubling(ctx.node.name, io, x.shape)];
  const r = x.shape.length;
  const dtype = scalarOf(x.dtype);
  const compute = dtype === 'f64' ? 'f64' : 'f32';
  const src = io.inputs[0]!;
  const perAxis: Tap[][] = [];
  const outsides: Expr[] = [];
  const idx = outShape.map((_, a) => v(`o${a}`));
  let prologue: Stmt | undefined;
  const axisStmts: Stmt[][] = outShape.map((_, a) => {
    if (isIdentityAxis(p, a)) {
      perAxis.push([{ index: idx[a] }]);
      return [];
    }
    // an axis of size 1 resized to a size read at run time reads its one element (every tap clamps to it,
    // and the weights sum to 1), so the batch and channel axes a fed sizes/scales input lists add no taps
    if (typeof outDims[a] !== 'number' && x.shape[a] === 1) {
      perAxis.push([{ index: i32(0) }]);
      return [];
    }
    const { stmts, taps, outside } = axisTaps(p, a, idx[a], compute);
    perAxis.push(taps);
    if (outside) outsides.push(outside);
    // WGSL demotes f64 to f32 only in float-only kernels, so the int32 tap tables stay CPU-only.
    if (a < r - 1 || io.forGpu || typeof outDims[a] !== 'number') return stmts;
    const o = idx[a] as Extract<Expr, { k: 'var' }>;
    const tables = tabulateInnermostAxis(io, outShape[a], o, stmts, { taps, outside });
    prologue = tables.prologue;
    return tables.reads;
  });
  const combinations = perAxis.reduce((n, taps) => n * taps.length, 1);
  if (io.forGpu && combinations > MAX_GPU_TAPS)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `${p.mode} Resize of ${perAxis.filter((t) => t.length > 1).length} axes read at run time (${combinations} taps) is not supported on webgpu (at most ${MAX_GPU_TAPS}); pass its scales or sizes with --const`,
    );
  // Σ over every combination of one tap per axis of (Π weights) · x[indices].
  let terms: { index: Expr[]; weight?: Expr }[] = [{ index: [] }];
  for (const taps of perAxis)
    terms = terms.flatMap((t) =>
      taps.map((tap) => ({
        index: [...t.index, tap.index],
        weight: tap.weight ? (t.weight ? mul(t.weight, tap.weight) : tap.weight) : t.weight,
      })),
    );
  const values = terms.map((t) => {
    const value = load(src, rowMajor(t.index, x.shape));
    return t.weight ? mul(cast(compute, value), t.weight) : value;
  });
  let result = values.reduce((s, e) => add(s, e));
  if (p.mode !== 'nearest') result = cast(dtype, result);
  if (outsides.length) {
    const any = outsides.reduce((s, e) => bin('or', s, e));
    result = select(any, cast(dtype, f64(p.extrapolation)), result);
  }
  let body: Stmt[] = [store(io.outputs[0], rowMajorAt(idx, outDims), result)];
  for (let a = r - 1; a >= 0; a--) body = [loop(`o${a}`, outDims[a], [...axisStmts[a], ...body])];
  const main = { name: ctx.node.name, body };
  return prologue ? [{ name: `${ctx.node.name}_taps`, body: [prologue] }, main] : [main];
}

const resize: OpDef = {
  infer: (ctx) => {
    const p = resizePlan(ctx);
    return [{ dtype: p.x.dtype, shape: p.outShape }];
  },
  lower: lowerResize,
};

registerOp('Resize', resize);
registerOp('Upsample', { ...resize, sinceVersion: 7 });
