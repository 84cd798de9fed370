/**
 * GridSample: output[n, c, p] = X[n, c] sampled at the location grid[n, p] (normalized to [-1, 1], the
 * last grid axis listing coordinates innermost spatial dim first: x, y, z). Follows the ONNX reference
 * implementation: denormalize, round for nearest, fix out-of-range coordinates per padding_mode,
 * then interpolate over the 1, 2^r or 4^r neighbouring pixels, each read through the padding mode again.
 *
 * Opset 16 defines 4-D inputs with modes bilinear/bicubic; opset 20 renamed them linear/cubic and
 * allows any number of spatial dims, which the same separable scheme covers.
 */
import type { DType } from '../../ir/dtype.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Expr, Kernel, Scalar, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  bin,
  cast,
  cmp,
  cnst,
  div,
  i32,
  linearIndex,
  local,
  loop,
  max,
  min,
  mul,
  select,
  set,
  store,
  stridesOf,
  sub,
  un,
  v,
  when,
} from '../../kernels/build.js';
import { attrInt, attrString, registerOp, type LowerIO, type OpContext } from '../registry.js';
import { FLOAT_TYPES, fail, fmtShape, inRange, loadAs, typedInput } from '../nn/common.js';

type Mode = 'nearest' | 'linear' | 'cubic';
type Padding = 'zeros' | 'border' | 'reflection';

const X_TYPES: readonly DType[] = [
  'float16',
  'float32',
  'float64',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
];

interface Settings {
  mode: Mode;
  padding: Padding;
  alignCorners: boolean;
}

function settings(ctx: OpContext, modeNames: Record<string, Mode>, dflt: string): Settings {
  const name = attrString(ctx.node, 'mode', dflt);
  const mode = modeNames[name];
  if (!mode) fail(ctx, `mode '${name}' is unsupported; expected one of ${Object.keys(modeNames).join(', ')}`);
  const padding = attrString(ctx.node, 'padding_mode', 'zeros');
  if (padding !== 'zeros' && padding !== 'border' && padding !== 'reflection')
    fail(ctx, `padding_mode '${padding}' is unsupported; expected zeros, border or reflection`);
  const align = attrInt(ctx.node, 'align_corners', 0);
  if (align !== 0 && align !== 1) fail(ctx, `align_corners must be 0 or 1, got ${align}`);
  return { mode, padding, alignCorners: align === 1 };
}

function inferWith(ctx: OpContext, modeNames: Record<string, Mode>, dflt: string, anyRank: boolean) {
  const x = typedInput(ctx, 0, 'X', X_TYPES);
  const grid = typedInput(ctx, 1, 'grid', FLOAT_TYPES);
  settings(ctx, modeNames, dflt);
  const r = x.shape.length - 2;
  if (anyRank ? r < 1 : r !== 2)
    fail(ctx, `input 0 (X) has shape ${fmtShape(x.shape)}; expected rank ${anyRank ? '≥ 3' : '4'}`);
  if (grid.shape.length !== r + 2 || grid.shape[0] !== x.shape[0] || grid.shape[r + 1] !== r)
    fail(
      ctx,
      `input 1 (grid) has shape ${fmtShape(grid.shape)}; expected [${x.shape[0]}, ${r} output dims..., ${r}]`,
    );
  return [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...grid.shape.slice(1, -1)] }];
}

/** The pixel range a coordinate may take before padding applies: pixel centres or pixel edges. */
function bounds(len: number, alignCorners: boolean): [number, number] {
  return alignCorners ? [0, len - 1] : [-0.5, len - 0.5];
}

/**
 * Statements reflecting local `name` (type t) into [lo, hi] as often as needed, as the reference's
 * _gs_reflect: the distance past a bound is folded back, flipping direction on every whole range.
 */
function reflect(name: string, t: Scalar, lo: number, hi: number): Stmt[] {
  const x = v(name, t);
  const range = hi - lo;
  if (range <= 0) return [set(name, cnst(t, lo))];
  const below = cmp('lt', x, cnst(t, lo));
  const above = cmp('gt', x, cnst(t, hi));
  const dist = `${name}_d`;
  const folds = `${name}_n`;
  const rest = `${name}_r`;
  const even = cmp('eq', bin('and', v(folds), i32(1)), i32(0));
  const fromLo = add(cnst(t, lo), v(rest, t));
  const fromHi = sub(cnst(t, hi), v(rest, t));
  return [
    local(dist, t, select(below, sub(cnst(t, lo), x), sub(x, cnst(t, hi)))),
    local(folds, 'i32', cast('i32', div(v(dist, t), cnst(t, range)))),
    local(rest, t, sub(v(dist, t), mul(cast(t, v(folds)), cnst(t, range)))),
    when(below, [set(name, select(even, fromLo, fromHi))]),
    when(above, [set(name, select(even, fromHi, fromLo))]),
  ];
}

/** Cubic convolution weights (A = -0.75) of the 4 taps around a point `d` ∈ [0, 1) past tap 1. */
function cubicWeights(d: Expr, t: Scalar): Expr[] {
  const A = -0.75;
  const c = (x: number) => cnst(t, x);
  const far = (x: Expr) => sub(mul(add(mul(sub(mul(c(A), x), c(5 * A)), x), c(8 * A)), x), c(4 * A));
  const near = (x: Expr) => add(mul(mul(sub(mul(c(A + 2), x), c(A + 3)), x), x), c(1));
  const oneMinus = sub(c(1), d);
  return [far(add(d, c(1))), near(d), near(oneMinus), far(sub(c(2), d))];
}

function lowerWith(ctx: OpContext, io: LowerIO, modeNames: Record<string, Mode>, dflt: string): Kernel[] {
  const { mode, padding, alignCorners } = settings(ctx, modeNames, dflt);
  const xShape = ctx.inputs[0]!.shape;
  const gShape = ctx.inputs[1]!.shape;
  const [N, C, ...inDims] = xShape;
  const r = inDims.length;
  const P = sizeOf(gShape.slice(1, -1));
  const S = sizeOf(inDims);
  const inStrides = stridesOf(inDims);
  const X = io.inputs[0]!;
  const G = io.inputs[1]!;
  const Y = io.outputs[0];
  const t: Scalar = X.dtype === 'float64' || G.dtype === 'float64' ? 'f64' : 'f32';
  const taps = mode === 'nearest' ? 1 : mode === 'linear' ? 2 : 4;

  const perDim: Stmt[] = [];
  // Per spatial dim d (0 = outermost): coordinate, first tap index and per-tap weights.
  const first: Expr[] = [];
  const weights: Expr[][] = [];
  for (let d = 0; d < r; d++) {
    const len = inDims[d];
    const [lo, hi] = bounds(len, alignCorners);
    const g = loadAs(t, G, add(mul(add(mul(v('n'), i32(P)), v('p')), i32(r)), i32(r - 1 - d)));
    const c = (x: number) => cnst(t, x);
    const denorm = alignCorners
      ? mul(div(add(g, c(1)), c(2)), c(len - 1))
      : div(sub(mul(add(g, c(1)), c(len)), c(1)), c(2));
    const x = `x${d}`;
    perDim.push(local(x, t, mode === 'nearest' ? un('nearest', denorm) : denorm));
    // Cubic reads 4 taps around the unclamped point and clamps each tap instead (as PyTorch and
    // onnxruntime do): clamping the point first would pull the taps off the image edge.
    if (padding === 'border' && mode !== 'cubic') perDim.push(set(x, max(c(0), min(v(x, t), c(len - 1)))));
    if (padding === 'reflection') perDim.push(...reflect(x, t, lo, hi));
    if (mode === 'nearest') {
      first.push(cast('i32', v(x, t)));
      weights.push([c(1)]);
      continue;
    }
    // Linear taps floor(x), floor(x)+1; cubic taps floor(x)-1 .. floor(x)+2.
    const fl = `fl${d}`;
    perDim.push(local(fl, t, un('floor', v(x, t))));
    first.push(sub(cast('i32', v(fl, t)), i32(mode === 'cubic' ? 1 : 0)));
    const frac = `fr${d}`;
    perDim.push(local(frac, t, sub(v(x, t), v(fl, t))));
    weights.push(mode === 'linear' ? [sub(c(1), v(frac, t)), v(frac, t)] : cubicWeights(v(frac, t), t));
  }

  // Every tap (one per combination of per-dim offsets): its in-image offset and weight, shared by all channels.
  const tapStmts: Stmt[] = [];
  const tapCount = taps ** r;
  for (let k = 0; k < tapCount; k++) {
    const offs: Expr[] = [];
    let weight: Expr | undefined;
    let inside: Expr | undefined;
    for (let d = 0, rest = k; d < r; d++) {
      const o = Math.floor(rest / taps ** (r - 1 - d)) % taps;
      const len = inDims[d];
      const idx = `t${k}_${d}`;
      tapStmts.push(local(idx, 'i32', add(first[d], i32(o))));
      if (padding === 'zeros') {
        const ok = inRange(v(idx), len);
        inside = inside ? bin('and', inside, ok) : ok;
      } else if (padding === 'reflection') {
        const [lo, hi] = bounds(len, alignCorners);
        const rf = `rf${k}_${d}`;
        tapStmts.push(
          local(rf, t, cast(t, v(idx))),
          ...reflect(rf, t, lo, hi),
          set(idx, cast('i32', v(rf, t))),
        );
      }
      // Border clamps; zeros clamps too so that the (then zero-weighted) read stays inside the image.
      offs.push(max(i32(0), min(v(idx), i32(len - 1))));
      weight = weight ? mul(weight, weights[d][o]) : weights[d][o];
    }
    const w = inside ? select(inside, weight!, cnst(t, 0)) : weight!;
    tapStmts.push(local(`w${k}`, t, w), local(`o${k}`, 'i32', linearIndex(offs, inStrides)));
  }

  const plane = mul(add(mul(v('n'), i32(C)), v('c')), i32(S));
  const sum: Stmt[] = [local('acc', t, cnst(t, 0))];
  for (let k = 0; k < tapCount; k++)
    sum.push(set('acc', add(v('acc', t), mul(v(`w${k}`, t), loadAs(t, X, add(plane, v(`o${k}`)))))));
  const out = add(mul(add(mul(v('n'), i32(C)), v('c')), i32(P)), v('p'));
  const body = [
    loop('n', N, [
      loop('p', P, [
        ...perDim,
        ...tapStmts,
        loop('c', C, [...sum, store(Y, out, cast(scalarOf(Y.dtype), v('acc', t)))]),
      ]),
    ]),
  ];
  return [{ name: ctx.node.name, body }];
}

const V16: Record<string, Mode> = { nearest: 'nearest', bilinear: 'linear', bicubic: 'cubic' };
const V20: Record<string, Mode> = { nearest: 'nearest', linear: 'linear', cubic: 'cubic' };

registerOp('GridSample', {
  sinceVersion: 16,
  infer: (ctx) => inferWith(ctx, V16, 'bilinear', false),
  lower: (ctx, io) => lowerWith(ctx, io, V16, 'bilinear'),
});
registerOp('GridSample', {
  sinceVersion: 20,
  infer: (ctx) => inferWith(ctx, V20, 'linear', true),
  lower: (ctx, io) => lowerWith(ctx, io, V20, 'linear'),
});
