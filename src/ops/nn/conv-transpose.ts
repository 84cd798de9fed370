/**
 * ConvTranspose (1-D/2-D/3-D, groups, dilations, strides, pads, output_padding, output_shape, auto_pad).
 * float32: per (n, group) a gemm computes col = W_gᵀ · X_g, then col2im scatter-adds col into Y
 * (pre-filled with the bias). Other dtypes gather each output element in a loop. Where taps are disjoint
 * (kernel = stride: the ×2 upsampling heads of detectors) the wasm lowering runs gemm and col2im band by
 * band of input rows, so col stays in cache between its stores and loads and X is read once: DBNet's
 * 12 → 1 head wrote and read back a 1.6 MB col, and the 3-row tile and the 1-row tail of its 4-row gemm
 * each streamed all 4.9 MB of X (12 → 1 at 320², CPU-clock profile, Intel Xeon: 0.75 → 0.38 ms unfused).
 * A fused activation (passes/fuse-activation.ts, fuse-epilogue.ts) goes into the gemm's epilogue where
 * each output element is one element of col (disjoint taps), else into the stores or a pass after them.
 */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Activation, BufRef, Expr, Kernel, MatView, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  bin,
  cmp,
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
  sub,
  v,
  when,
} from '../../kernels/build.js';
import { applyActivation } from '../../kernels/rewrite/epilogue.js';
import { fusedActivation } from '../fused-activation.js';
import { attrInts, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import {
  convOperands,
  allOf,
  fail,
  fmtShape,
  inRange,
  loadAs,
  optionalInput,
  requireShape,
} from './common.js';
import { groupOf, kernelShape } from './conv.js';
import { gemm, view } from './gemm-helpers.js';
import { offsetBy } from './conv-rows.js';
import { autoPadOf, padsAttr, spatialAttr } from './window.js';

interface Geometry {
  N: number;
  C: number;
  M: number;
  group: number;
  inSpatial: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
  out: number[];
}

/** C++-style integer halving (toward zero), as ONNX Runtime splits a possibly negative total padding. */
const half = (x: number): number => Math.trunc(x / 2);

function geometry(ctx: OpContext): Geometry {
  const { x, w } = convOperands(ctx);
  const [N, C, ...inSpatial] = x.shape;
  const group = groupOf(ctx, C, w.shape[1], w.shape[0], true);
  const M = w.shape[1] * group;
  const b = optionalInput(ctx, 2, 'B', x.dtype);
  if (b) requireShape(ctx, b, [M], 'B');
  const rank = inSpatial.length;
  const kernel = kernelShape(ctx, w.shape);
  const strides = spatialAttr(ctx, 'strides', rank, 1, 1);
  const dilations = spatialAttr(ctx, 'dilations', rank, 1, 1);
  const outputPadding = spatialAttr(ctx, 'output_padding', rank, 0, 0);
  const autoPad = autoPadOf(ctx);
  const extent = kernel.map((k, d) => (k - 1) * dilations[d] + 1);
  const full = inSpatial.map((n, d) => strides[d] * (n - 1) + outputPadding[d] + extent[d]);
  let outputShape = attrInts(ctx.node, 'output_shape', []);
  // Some exporters give the whole output shape [N, M, ...]; only the spatial part matters.
  if (outputShape.length === rank + 2) outputShape = outputShape.slice(2);
  if (outputShape.length !== 0 && outputShape.length !== rank)
    fail(ctx, `output_shape ${fmtShape(outputShape)} has ${outputShape.length} values; expected ${rank}`);
  let padBegin: number[];
  let out: number[];
  if (outputShape.length === 0 && (autoPad === 'NOTSET' || autoPad === 'VALID')) {
    const pads =
      autoPad === 'VALID'
        ? { padBegin: inSpatial.map(() => 0), padEnd: inSpatial.map(() => 0) }
        : padsAttr(ctx, rank);
    padBegin = pads.padBegin;
    out = full.map((f, d) => f - pads.padBegin[d] - pads.padEnd[d]);
  } else {
    out = outputShape.length ? outputShape : inSpatial.map((n, d) => n * strides[d]);
    // Odd total padding puts the extra element at the end except for SAME_LOWER (as the ONNX
    // reference outputs); a negative total (output_shape beyond the full size) extends the end.
    padBegin = full.map((f, d) =>
      autoPad === 'SAME_LOWER' ? f - out[d] - half(f - out[d]) : half(f - out[d]),
    );
  }
  if (out.some((o) => o < 0)) fail(ctx, `output spatial shape ${fmtShape(out)} is negative`);
  return { N, C, M, group, inSpatial, kernel, strides, dilations, padBegin, out };
}

function infer(ctx: OpContext): TensorType[] {
  const g = geometry(ctx);
  return [{ dtype: ctx.inputs[0]!.dtype, shape: [g.N, g.M, ...g.out] }];
}

/** Output coordinate reached by input position i through tap k along dim d. */
const outCoord = (g: Geometry, d: number, i: Expr, k: Expr): Expr =>
  add(sub(mul(i, i32(g.strides[d])), i32(g.padBegin[d])), mul(k, i32(g.dilations[d])));

/**
 * Y[n, m, o] = B[m] + Σ_c Σ_k X[n, c, i] · W[c, m, k] over the taps where o + p − k·d = i·s lands on
 * an input position i.
 */
function gatherLoops(g: Geometry, X: BufRef, W: BufRef, B: BufRef | undefined, Y: BufRef): Stmt[] {
  const { N, C, M, group, inSpatial, kernel, out } = g;
  const [Cg, Mg] = [C / group, M / group];
  const t = scalarOf(Y.dtype);
  const kprod = sizeOf(kernel);
  return forEachIndex([N, group, Mg, ...out], 'y', (idx) => {
    const [n, gi, mg, ...o] = idx;
    const taps = forEachIndex(kernel, 'k', (k) => {
      const conds: Expr[] = [];
      const coords = o.map((od, d) => {
        const shifted = sub(add(od, i32(g.padBegin[d])), mul(k[d], i32(g.dilations[d])));
        const s = i32(g.strides[d]);
        if (g.strides[d] !== 1) conds.push(cmp('eq', bin('rem', shifted, s), i32(0)));
        const i = g.strides[d] === 1 ? shifted : bin('div', shifted, s);
        conds.push(inRange(i, inSpatial[d]), cmp('ge', shifted, i32(0)));
        return i;
      });
      const c = add(mul(gi, i32(Cg)), v('c'));
      const xi = add(
        mul(add(mul(n, i32(C)), c), i32(sizeOf(inSpatial))),
        linearIndex(coords, stridesOf(inSpatial)),
      );
      const wi = add(mul(add(mul(c, i32(Mg)), mg), i32(kprod)), linearIndex(k, stridesOf(kernel)));
      return [when(allOf(conds)!, [set('acc', add(v('acc', t), mul(loadAs(t, X, xi), loadAs(t, W, wi))))])];
    });
    const m = add(mul(gi, i32(Mg)), mg);
    return [
      local('acc', t, B ? loadAs(t, B, m) : cnst(t, 0)),
      loop('c', Cg, taps),
      store(Y, linearIndex(idx, stridesOf([N, group, Mg, ...out])), v('acc', t)),
    ];
  });
}

function gemmCol2im(
  g: Geometry,
  X: BufRef,
  W: BufRef,
  B: BufRef | undefined,
  Y: BufRef,
  io: LowerIO,
  /** the fused activation, where taps are disjoint */
  act: Activation | undefined,
): Stmt[] {
  const { N, C, M, group, inSpatial, kernel, out } = g;
  const [Cg, Mg] = [C / group, M / group];
  const kprod = sizeOf(kernel);
  const inS = sizeOf(inSpatial);
  const outS = sizeOf(out);
  const [n, gi] = [v('n'), v('g')];
  // W is [C, Mg, k...]: group g's slice read as (Mg·kprod) × Cg is its transpose, column stride Mg·kprod.
  const a = view(W, mul(gi, i32(Cg * Mg * kprod)), 1, Mg * kprod);
  const xGroup = mul(add(mul(n, i32(C)), mul(gi, i32(Cg))), i32(inS));
  if (tapsAreDisjoint(g)) {
    // col's elements are the outputs: bias and activation go into the gemm's epilogue, col2im copies
    const rowSize = inS / inSpatial[0];
    // the GPU's parallelism is one wide gemm: there, one band of all rows
    const P = io.forGpu ? inSpatial[0] : bandRows(Mg * kprod * rowSize, inSpatial[0]);
    const col = io.scratch('float32', Mg * kprod * P * rowSize);
    const bias = B && tapBias(B, M, kprod, io);
    /** input rows [first, first + rows) through the gemm into col, then into Y */
    const band = (first: Expr, rows: number, prefix: string): Stmt[] => {
      const product = gemm(
        Mg * kprod,
        rows * rowSize,
        Cg,
        a,
        view(X, offsetBy(rowsShift(first, rowSize), xGroup), inS, 1),
        view(col, i32(0), rows * rowSize, 1),
      );
      if (bias) product.bias = bias.view(mul(gi, i32(Mg * kprod)));
      if (act) product.act = act;
      return [product, ...disjointScatter(g, col, Y, first, rows, prefix)];
    };
    const bands = Math.floor(inSpatial[0] / P);
    const rest = inSpatial[0] - bands * P;
    const perGroup = [
      ...(bands > 1 ? [loop('band', bands, band(mul(v('band'), i32(P)), P, 'i'))] : []),
      ...(bands === 1 ? band(i32(0), P, 'i') : []),
      ...(rest > 0 ? band(i32(bands * P), rest, 'rest') : []),
    ];
    return [...(bias?.fill ?? []), loop('n', N, [loop('g', group, perGroup)])];
  }
  const col = io.scratch('float32', Mg * kprod * inS);
  const fill = loop('m', M, [
    loop('s', outS, [
      store(
        Y,
        add(mul(add(mul(n, i32(M)), v('m')), i32(outS)), v('s')),
        B ? load(B, v('m')) : cnst('f32', 0),
      ),
    ]),
  ]);
  const product = gemm(Mg * kprod, inS, Cg, a, view(X, xGroup, inS, 1), view(col, i32(0), inS, 1));
  const scatter = forEachIndex([Mg, ...kernel, ...inSpatial], 'i', (idx) => {
    const [m, ...rest] = idx;
    const k = rest.slice(0, kernel.length);
    const i = rest.slice(kernel.length);
    const coords = i.map((id, d) => outCoord(g, d, id, k[d]));
    const channel = add(add(mul(n, i32(M)), mul(gi, i32(Mg))), m);
    const yi = add(mul(channel, i32(outS)), linearIndex(coords, stridesOf(out)));
    const ci = linearIndex(idx, stridesOf([Mg, ...kernel, ...inSpatial]));
    const accumulate = store(Y, yi, add(load(Y, yi), load(col, ci)));
    return [when(allOf(coords.map((e, d) => inRange(e, out[d])))!, [accumulate])];
  });
  return [loop('n', N, [fill, loop('g', group, [product, ...scatter])])];
}

/**
 * The bias of each row (m, tap) of col (M·taps rows), so a gemm adds it: B[m] repeated `taps` times, in a
 * scratch filled each run (M·taps elements), and its column view from a row offset.
 */
export function tapBias(
  B: BufRef,
  M: number,
  taps: number,
  io: LowerIO,
): { fill: Stmt[]; view: (row: Expr) => MatView } {
  const rows = io.scratch('float32', M * taps);
  const fill = loop('bm', M, [
    loop('bt', taps, [store(rows, add(mul(v('bm'), i32(taps)), v('bt')), load(B, v('bm')))]),
  ]);
  return { fill: [fill], view: (row) => view(rows, row, 1, 0) };
}

/**
 * Kernel = stride, no dilation, padding or output padding (the ×2 upsampling ConvTranspose of U-Nets and
 * detector heads): every output element is reached by exactly one tap of one input position.
 */
function tapsAreDisjoint(g: Geometry): boolean {
  return g.kernel.every(
    (k, d) =>
      k === g.strides[d] &&
      g.dilations[d] === 1 &&
      g.padBegin[d] === 0 &&
      g.out[d] === g.inSpatial[d] * g.strides[d],
  );
}

/** `rows` (an i32 expression) times `size`, folded when `rows` is a constant (the first band's 0 vanishes). */
const rowsShift = (rows: Expr, size: number): Expr =>
  rows.k === 'const' ? i32(Number(rows.v) * size) : mul(rows, i32(size));

/** About this many bytes of col per band of input rows: cached between the gemm's stores and col2im's loads. */
const BAND_BYTES = 64 << 10;

/** Input rows per band when a row's col takes `rowFloats`: within BAND_BYTES, at least one, at most all. */
const bandRows = (rowFloats: number, rows: number): number =>
  Math.max(1, Math.min(rows, Math.floor(BAND_BYTES / (rowFloats * 4))));

/**
 * col2im when taps are disjoint, for input rows [first, first + rows) (along the first spatial axis) whose
 * col is [Mg, k…, rows, inSpatial[1:]…]: each output is a copy of its element of col (which has the bias
 * and the activation), with no fill pass, no read-modify-write and no bounds checks. Loops run over
 * (m, i0, k0, i1, k1, …) so stores are sequential; the last tap axis is unrolled.
 */
function disjointScatter(
  g: Geometry,
  col: BufRef,
  Y: BufRef,
  first: Expr,
  rows: number,
  /** of its loop variables, unique within the kernel */
  prefix: string,
): Stmt[] {
  const { M, group, inSpatial, kernel, out } = g;
  const Mg = M / group;
  const rank = kernel.length;
  const bandSpatial = [rows, ...inSpatial.slice(1)];
  const interleaved = bandSpatial.flatMap((n, d) => [n, kernel[d]]).slice(0, -1);
  return forEachIndex([Mg, ...interleaved], prefix, ([m, ...rest]) =>
    Array.from({ length: kernel[rank - 1] }, (_, last) => {
      const i = bandSpatial.map((_, d) => rest[2 * d]);
      const k = kernel.map((_, d) => (d < rank - 1 ? rest[2 * d + 1] : i32(last)));
      const coords = i.map((id, d) => add(mul(d === 0 ? offsetBy(first, id) : id, i32(g.strides[d])), k[d]));
      const channel = add(add(mul(v('n'), i32(M)), mul(v('g'), i32(Mg))), m);
      const yi = add(mul(channel, i32(sizeOf(out))), linearIndex(coords, stridesOf(out)));
      return store(
        Y,
        yi,
        load(col, linearIndex([m, ...k, ...i], stridesOf([Mg, ...kernel, ...bandSpatial]))),
      );
    }),
  );
}

function lower(ctx: OpContext, io: LowerIO): Kernel[] {
  const g = geometry(ctx);
  const [X, W, B] = io.inputs;
  const Y = io.outputs[0];
  if (Y.length === 0) return [];
  const act = fusedActivation(ctx.node);
  const useGemm = Y.dtype === 'float32' && g.C > 0 && sizeOf(g.inSpatial) > 0 && sizeOf(g.kernel) > 0;
  const disjoint = useGemm && tapsAreDisjoint(g);
  const body = useGemm
    ? gemmCol2im(g, X!, W!, B, Y, io, disjoint ? act : undefined)
    : gatherLoops(g, X!, W!, B, Y);
  const kernels = [{ name: ctx.node.name, body }];
  // the disjoint col2im's gemm applies it; elsewhere it goes into the stores or a pass after them
  return act && !disjoint ? applyActivation(kernels, Y, act) : kernels;
}

const def: OpDef = { infer, lower, fusesActivation: true };
registerOp('ConvTranspose', def);
