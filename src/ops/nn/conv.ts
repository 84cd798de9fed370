/**
 * Conv (1-D/2-D/3-D, groups, dilations, strides, pads, auto_pad, optional bias).
 * float32 lowers to the gemm statement: directly for 1×1 stride-1 unpadded kernels, per kernel tap over
 * shifted views of the padded input for stride-1 convs of 16–48 channels (conv-shifted.ts), with im2col
 * fused into the gemm's B panels where C·kh·kw is small, or for strided convs over few channels
 * (conv-panels.ts, `stridedPanelFits`), otherwise via an
 * im2col scratch matrix (large ones in bands of output rows, see `bandRows`); 2-D depthwise convs use depthwise.ts, and the rest (other depthwise convs, other
 * dtypes) direct loops. A Relu/Clip fused into the node is applied by each of these as it stores.
 */
import type { Node, TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Activation, BufRef, Expr, GemmStmt, Kernel, MatView, Scalar, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  cast,
  cnst,
  forEachIndex,
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
import { attrInt, attrInts, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { convOperands, fail, fmtShape, loadAs, optionalInput, requireShape } from './common.js';
import { gemm, view } from './gemm-helpers.js';
import { im2col } from './im2col.js';
import { shiftedConvFits, shiftedConvLowering } from './conv-shifted.js';
import { panelConvFits, panelConvLowering, panelConvRows } from './conv-panels.js';
import { convPoolKernels, pooledBy, pooledType, poolWindow } from './conv-pool.js';
import {
  fusedActivation,
  RESIDUAL_INPUT,
  residualActivation,
  residualBlocksOf,
} from '../fused-activation.js';
import { upsampledResidualLowering } from './conv-upsampled-residual.js';
import { depthwiseFits, depthwiseLoops } from './depthwise.js';
import { activate } from '../../kernels/rewrite/epilogue.js';
import { int8ActivationBytes } from '../../kernels/int8-gemm.js';
import type { ConvGeometry } from './conv-geometry.js';
import type { ConvRows } from './conv-rows.js';
import { forwardWindow, insideInput, tapCoord } from './window.js';

/** The group attribute, checked against X channels and W dims 0/1 (ConvTranspose: W is [C, M/group, k...]). */
export function groupOf(
  ctx: OpContext,
  C: number,
  wChannelsPerGroup: number,
  wDim0: number,
  transposed: boolean,
): number {
  const group = attrInt(ctx.node, 'group', 1);
  if (group < 1) fail(ctx, `group ${group} must be ≥ 1`);
  if (C % group !== 0) fail(ctx, `input channels ${C} are not divisible by group ${group}`);
  if (transposed) {
    if (wDim0 !== C) fail(ctx, `W has ${wDim0} input channels in dim 0; expected ${C} like X`);
  } else {
    if (wChannelsPerGroup * group !== C)
      fail(ctx, `W has ${wChannelsPerGroup} channels per group; expected ${C}/${group} = ${C / group}`);
    if (wDim0 % group !== 0) fail(ctx, `output channels ${wDim0} are not divisible by group ${group}`);
  }
  return group;
}

/** kernel_shape attribute, when given, must agree with W's spatial dims. */
export function kernelShape(ctx: OpContext, w: number[]): number[] {
  const k = w.slice(2);
  const attr = attrInts(ctx.node, 'kernel_shape', k);
  if (attr.length !== k.length || attr.some((d, i) => d !== k[i]))
    fail(ctx, `kernel_shape ${fmtShape(attr)} does not match W spatial dims ${fmtShape(k)}`);
  return k;
}

export function geometry(ctx: OpContext): ConvGeometry {
  const { x, w } = convOperands(ctx);
  const [N, C, ...inSpatial] = x.shape;
  const M = w.shape[0];
  const group = groupOf(ctx, C, w.shape[1], M, false);
  const b = optionalInput(ctx, 2, 'B', x.dtype);
  if (b) requireShape(ctx, b, [M], 'B');
  return { N, C, M, group, inSpatial, window: forwardWindow(ctx, inSpatial, kernelShape(ctx, w.shape)) };
}

function infer(ctx: OpContext): TensorType[] {
  const g = geometry(ctx);
  return [convOutputType(ctx.node, { dtype: ctx.inputs[0]!.dtype, shape: [g.N, g.M, ...g.window.out] })];
}

/** A conv node's output: the conv's, or that of the MaxPool fused into it (conv-pool.ts). */
export function convOutputType(node: Node, conv: TensorType): TensorType {
  const pool = pooledBy(node);
  return pool ? pooledType(pool, conv) : conv;
}

/**
 * The kernels of a conv node with a MaxPool fused into it (conv-pool.ts): the conv through the panel
 * lowering where it fits (float32), else im2col + gemm (float32, or int8 with `int8`).
 */
export function pooledConvKernels(
  ctx: OpContext,
  g: ConvGeometry,
  io: LowerIO,
  act: Activation | undefined,
  int8?: { scales: BufRef; unsigned: boolean },
): Kernel[] {
  const [X, W] = io.inputs;
  const B = io.inputs[int8 ? 3 : 2];
  const conv: TensorType = { dtype: 'float32', shape: [g.N, g.M, ...g.window.out] };
  const panels = !int8 && panelConvFits(g);
  const rows = (most: number) =>
    panels
      ? panelConvRows(g, X!, W!, B, (n) => io.scratch('float32', n), act)
      : im2colConvRows(g, X!, W!, B, io, act, int8, most);
  // im2col's band: K × the row's output positions
  const scratchPerRow = panels ? 0 : g.C * sizeOf(g.window.kernel) * sizeOf(g.window.out.slice(1)) * 4;
  const pool = poolWindow(pooledBy(ctx.node)!, conv);
  return convPoolKernels(ctx.node.name, g, pool, rows, scratchPerRow, io.outputs[0], io);
}

/** What a direct convolution accumulates: Conv sums float products, ConvInteger zero-point-shifted integers. */
export interface DirectConvHooks {
  /** accumulator type */
  t: Scalar;
  /** initial value for output channel m */
  init: (m: Expr) => Expr;
  /** the term a tap adds, from element indices into X and W */
  term: (xAt: Expr, wAt: Expr, m: Expr) => Expr;
  /** the stored value */
  finish: (acc: Expr, m: Expr) => Expr;
}

/**
 * Y[n, m, o] = finish(init(m) + Σ_c Σ_k term(X[n, g·Cg + c, o·s − p + k·d], W[m, c, k])), one output
 * element at a time; taps outside the input (padding) add nothing.
 */
export function directConvLoops(g: ConvGeometry, Y: BufRef, hooks: DirectConvHooks): Stmt[] {
  const { N, C, M, group, inSpatial, window: w } = g;
  const [Cg, Mg] = [C / group, M / group];
  const kernel = w.kernel;
  const inS = sizeOf(inSpatial);
  return forEachIndex([N, group, Mg, ...w.out], 'y', (idx) => {
    const [n, gi, mg, ...o] = idx;
    const m = add(mul(gi, i32(Mg)), mg);
    const taps = forEachIndex(kernel, 'k', (k) => {
      const coords = o.map((od, d) => tapCoord(w, d, od, k[d]));
      const channel = add(add(mul(n, i32(C)), mul(gi, i32(Cg))), v('c'));
      const xAt = add(mul(channel, i32(inS)), linearIndex(coords, stridesOf(inSpatial)));
      const wAt = add(
        mul(add(mul(m, i32(Cg)), v('c')), i32(sizeOf(kernel))),
        linearIndex(k, stridesOf(kernel)),
      );
      const acc: Stmt = set('acc', add(v('acc', hooks.t), hooks.term(xAt, wAt, m)));
      const inside = insideInput(w, coords, inSpatial);
      return [inside ? when(inside, [acc]) : acc];
    });
    const yi = linearIndex(idx, stridesOf([N, group, Mg, ...w.out]));
    return [
      local('acc', hooks.t, hooks.init(m)),
      loop('c', Cg, taps),
      store(Y, yi, hooks.finish(v('acc', hooks.t), m)),
    ];
  });
}

/**
 * A Conv one output element at a time. With `int8Scales`, W is int8 with one scale per output channel
 * (kiln.Int8Conv, float32), each weight restored, q · scale, as it is read.
 */
export function directLoops(
  g: ConvGeometry,
  X: BufRef,
  W: BufRef,
  B: BufRef | undefined,
  Y: BufRef,
  act: Activation | undefined,
  int8Scales?: BufRef,
): Stmt[] {
  const t = scalarOf(Y.dtype);
  const weight = (wAt: Expr, m: Expr) =>
    int8Scales ? mul(cast('f32', load(W, wAt)), load(int8Scales, m)) : loadAs(t, W, wAt);
  return directConvLoops(g, Y, {
    t,
    init: (m) => (B ? loadAs(t, B, m) : cnst(t, 0)),
    term: (xAt, wAt, m) => mul(loadAs(t, X, xAt), weight(wAt, m)),
    finish: (acc) => activate(act, acc),
  });
}

/** im2col matrices up to this size are built whole; larger ones in bands of output rows (see `bandRows`). */
const BAND_ABOVE_BYTES = 2 << 20;
/** About this many bytes of im2col matrix per band: it stays in L2 between im2col and the gemm's packing. */
const BAND_BYTES = 256 << 10;
/** Weights (A) up to this size are re-read per band from cache; larger ones make banding cost more than it saves. */
const BAND_MAX_WEIGHT_BYTES = 512 << 10;
/** Fewest output columns (positions) per band: narrower gemms lose too much to tile and panel set-up. */
const BAND_MIN_COLUMNS = 64;

/**
 * Output rows (of spatial dim 0) per im2col band, or undefined to build the matrix whole. A large im2col
 * matrix (e.g. 3×3 over 56×56 or a detector's 320×320 maps: MBs to tens of MBs) is otherwise written to
 * L3 / memory by im2col and read back by the gemm's B packing; built and consumed band by band it stays
 * in L2. The band height divides the output height, so every band is the same gemm.
 *
 * An int8 conv (kiln.Int8Conv) bands every matrix over BAND_BYTES: its weights are a quarter of
 * float32's, so a whole im2col matrix beside the activations is what sets its memory (SqueezeNet's
 * first conv: 1.27 MiB of im2col next to its 3 MiB output, the arena's peak); the band's gemm
 * quantizes the same columns either way (per column of B), so results are the same.
 */
export function bandRows(K: number, Mg: number, out: number[], int8 = false): number | undefined {
  if (out.length < 2) return undefined;
  const rowElems = sizeOf(out.slice(1));
  const [above, weightBytes] = int8 ? [BAND_BYTES, Mg * K] : [BAND_ABOVE_BYTES, Mg * K * 4];
  if (K * sizeOf(out) * 4 <= above || weightBytes > BAND_MAX_WEIGHT_BYTES) return undefined;
  const most = Math.max(1, Math.floor(BAND_BYTES / (K * rowElems * 4)));
  let rows = 1;
  for (let r = 1; r <= Math.min(most, out[0]); r++) if (out[0] % r === 0) rows = r;
  if (rows === out[0] || rows * rowElems < BAND_MIN_COLUMNS) return undefined;
  return rows;
}

/**
 * float32 through gemm: per (n, group), Y_g (Mg × outS) = W_g (Mg × Cg·kprod) · col + B_g, where col
 * is X itself for 1×1 stride-1 unpadded kernels and an im2col scratch matrix otherwise: whole, or per
 * band of output rows (`bandRows`), each band its own gemm over that band's output columns. Each output
 * element sums the same products in the same order either way. With `int8`, W is int8 with one
 * scale per output channel (`scales`) and the gemms are int8 ones (GemmStmt.int8; kiln.Int8Conv).
 */
export function gemmLowering(
  g: ConvGeometry,
  X: BufRef,
  W: BufRef,
  B: BufRef | undefined,
  Y: BufRef,
  io: LowerIO,
  act: Activation | undefined,
  int8?: { scales: BufRef; unsigned: boolean },
): Stmt[] {
  const { N, C, M, group, inSpatial, window: w } = g;
  const [Cg, Mg] = [C / group, M / group];
  const kprod = sizeOf(w.kernel);
  const inS = sizeOf(inSpatial);
  const outS = sizeOf(w.out);
  const K = Cg * kprod;
  const pointwise =
    kprod === 1 &&
    w.strides.every((s) => s === 1) &&
    w.padBegin.every((p) => p === 0) &&
    w.padEnd.every((p) => p === 0);
  const [n, gi] = [v('n'), v('g')];
  const xChannel0 = add(mul(n, i32(C)), mul(gi, i32(Cg)));
  const yAt = add(mul(n, i32(M * outS)), mul(gi, i32(Mg * outS)));
  const product = gemmProduct(g, W, B, io, act, int8, gi);
  if (pointwise) {
    const col = view(X, mul(xChannel0, i32(inS)), inS, 1);
    return [loop('n', N, [loop('g', group, [product(col, view(Y, yAt, outS, 1), outS)])])];
  }
  const rows = bandRows(K, Mg, w.out, int8 !== undefined);
  if (rows === undefined) {
    const scratch = io.scratch('float32', K * outS);
    const prep = im2col(X, scratch, xChannel0, Cg, inSpatial, w);
    const c = view(Y, yAt, outS, 1);
    return [loop('n', N, [loop('g', group, [...prep, product(view(scratch, i32(0), outS, 1), c, outS)])])];
  }
  const bandS = rows * sizeOf(w.out.slice(1));
  const scratch = io.scratch('float32', K * bandS);
  const r = v('band');
  const prep = im2col(X, scratch, xChannel0, Cg, inSpatial, w, { first: mul(r, i32(rows)), rows });
  const c = view(Y, add(yAt, mul(r, i32(bandS))), outS, 1);
  const bands = loop('band', w.out[0] / rows, [...prep, product(view(scratch, i32(0), bandS, 1), c, bandS)]);
  return [loop('n', N, [loop('g', group, [bands])])];
}

/**
 * Group `gi`'s gemm: Y_g (Mg × cols) = W_g · b + B_g, the fused activation applied as it stores; int8
 * gemms quantize b's columns into `activations`, allocated here for `cols` columns at most unless given.
 */
function gemmProduct(
  g: ConvGeometry,
  W: BufRef,
  B: BufRef | undefined,
  io: LowerIO,
  act: Activation | undefined,
  int8: { scales: BufRef; unsigned: boolean } | undefined,
  gi: Expr,
  mostColumns?: number,
): (b: MatView, c: MatView, cols: number) => GemmStmt {
  const Mg = g.M / g.group;
  const K = (g.C / g.group) * sizeOf(g.window.kernel);
  const a = view(W, mul(gi, i32(Mg * K)), K, 1);
  const bias = B ? view(B, mul(gi, i32(Mg)), 1, 0) : undefined;
  const activations =
    int8 && mostColumns !== undefined ? io.scratch('int8', int8ActivationBytes(mostColumns, K)) : undefined;
  return (b, c, cols) => {
    const s = gemm(Mg, cols, K, a, b, c, { bias });
    if (act) s.act = act;
    if (int8)
      s.int8 = {
        scales: view(int8.scales, mul(gi, i32(Mg)), 1, 0),
        unsigned: int8.unsigned,
        // the quantized columns, in the memory plan (Int8Weights.activations)
        activations: activations ?? io.scratch('int8', int8ActivationBytes(cols, K)),
      };
    return s;
  };
}

/**
 * The im2col + gemm lowering of a 2-D conv with one group as a producer of output rows (conv-rows.ts):
 * each call builds the im2col band of its rows, `most` rows at most, and multiplies it.
 */
export function im2colConvRows(
  g: ConvGeometry,
  X: BufRef,
  W: BufRef,
  B: BufRef | undefined,
  io: LowerIO,
  act: Activation | undefined,
  int8: { scales: BufRef; unsigned: boolean } | undefined,
  most: number,
): ConvRows {
  const { C, inSpatial, window: w } = g;
  const K = C * sizeOf(w.kernel);
  const OW = sizeOf(w.out.slice(1));
  const scratch = io.scratch('float32', K * most * OW);
  const product = gemmProduct(g, W, B, io, act, int8, i32(0), most * OW);
  return {
    rows: (n, first, height, to) => [
      ...im2col(X, scratch, mul(n, i32(C)), C, inSpatial, w, { first, rows: height }),
      product(view(scratch, i32(0), height * OW, 1), view(to.buf, to.at, to.ld, 1), height * OW),
    ],
  };
}

/**
 * Strided 2-D convs with a reduction K = C·kh·kw up to STRIDED_PANEL_MAX_K (any M), or up to
 * STRIDED_PANEL_SMALL_M_MAX_K with at most STRIDED_PANEL_MAX_M output channels, take the panel lowering
 * (conv-panels.ts) instead of im2col + gemm: a strided 1×1 conv (a downsampling shortcut) or a 3×3 stride-2
 * conv over few channels. Their im2col matrix is a strided copy of X (kh·kw times X for 3×3) that the gemm
 * then copies again into panels; with few output channels to spread them over, both copies cost a large
 * part of the multiply-adds. Gathered a panel at a time, the copy stays in cache and the gemm reads it in
 * place. Measured (scripts/perf/profile-ab.ts, SIMD128, one conv at a time, two interleaved pairs, Intel
 * Xeon, loaded machine), panel ÷ im2col time: 1×1 s2 C 16 → 40 on 160² (DBNet's Conv_60) 0.79, 32 → 64 on
 * 100² 0.94, 64 → 128 on 112² 0.87, 256 → 512 on 56² (ResNet-50's) 1.0; 3×3 s2 C 16 → 40 on 160² (DBNet's
 * Conv_45, K 144) 0.96 and 0.87, 32 → 64 on 24×160 (SVTR's, K 288) 0.88; 64 → 128 on 56² (K 576) no gain.
 */
const STRIDED_PANEL_MAX_K = 64;
const STRIDED_PANEL_SMALL_M_MAX_K = 288;
const STRIDED_PANEL_MAX_M = 64;

/** An ungrouped 2-D conv with a stride over 1 that takes the panel lowering: see STRIDED_PANEL_MAX_K. */
export function stridedPanelFits(g: ConvGeometry): boolean {
  const w = g.window;
  const K = g.C * sizeOf(w.kernel);
  return (
    w.kernel.length === 2 &&
    w.strides.some((s) => s > 1) &&
    g.group === 1 &&
    (K <= STRIDED_PANEL_MAX_K || (K <= STRIDED_PANEL_SMALL_M_MAX_K && g.M <= STRIDED_PANEL_MAX_M))
  );
}

function lower(ctx: OpContext, io: LowerIO): Kernel[] {
  const g = geometry(ctx);
  const [X, W, B] = io.inputs;
  const Y = io.outputs[0];
  if (Y.length === 0) return [];
  const act = fusedActivation(ctx.node);
  if (pooledBy(ctx.node)) return pooledConvKernels(ctx, g, io, act);
  const blocks = residualBlocksOf(ctx.node);
  if (blocks) {
    const R = io.inputs[RESIDUAL_INPUT]!;
    const body = upsampledResidualLowering(g, X!, W!, B, R, Y, blocks, residualActivation(ctx.node));
    return [{ name: ctx.node.name, body }];
  }
  const depthwise = g.C === g.group;
  const body =
    depthwiseFits(g, Y.dtype) && !io.forGpu
      ? depthwiseLoops(g, X!, W!, B, Y, act, undefined, (n) => io.scratch('float32', n))
      : Y.dtype === 'float32' && !depthwise && g.C > 0
        ? !io.forGpu && shiftedConvFits(g)
          ? shiftedConvLowering(g, X!, W!, B, Y, (n) => io.scratch('float32', n), act)
          : !io.forGpu && (panelConvFits(g) || stridedPanelFits(g))
            ? panelConvLowering(g, X!, W!, B, Y, (n) => io.scratch('float32', n), act)
            : gemmLowering(g, X!, W!, B, Y, io, act)
        : directLoops(g, X!, W!, B, Y, act);
  return [{ name: ctx.node.name, body }];
}

const def: OpDef = { infer, lower, fusesActivation: true };
registerOp('Conv', def);
