/**
 * Kernels for Conv, MaxPool, AveragePool and the global pools over NCHW float32 tensors (1-D or 2-D)
 * whose batch or spatial dims are known only at run time (shape rules: passes/symbolic-spatial.ts).
 * A 1-D op runs as a 2-D one of height 1.
 *
 * Depthwise convs and the pools run as the static ones do (symbolic-window-runs.ts): each interior output
 * one store of all its taps, vectorized, and taps checked only in the border rows and columns. Other
 * convs of at most SHIFTED_MAX_M output channels add each input channel's window into the output planes
 * the same way (windowSums), one read-modify-write of a row per input channel. On the GPU, or with a
 * window of more taps than that file unrolls, a Conv runs as shifted rows: each output row (n, m, oh)
 * starts at the bias; then for each input channel
 * of m's group, kernel row inside the input and tap kw, the run of output columns whose tap lies inside
 * the input row, [lo, hi), gains w·x — with stride 1 a unit-stride loop, which the wasm generator
 * vectorizes. lo is static and hi an expression of the width, so no column is checked at run time.
 * A fused Relu/Clip is applied to the finished row. Dense convs of more than SHIFTED_MAX_M output channels
 * in the wasm lowering (not `forGpu`) run the static gemm over tiles of output positions instead (convGemm), each tile
 * written into Y at the run-time plane stride (a 1×1 conv reads X the same way): with fewer,
 * gathering the im2col rows costs as much as the gemm (dbnet-det at 640², CPU-clock profile: its 16-channel
 * convs 5.2 → 4.4 ms, the 3→16 stem 7.8 → 5.2 ms as gemms; the 12-channel head convs about the same).
 * Stride-1 dense convs of more than SHIFTED_MAX_M output channels whose channels take the static shifted
 * form (ops/nn/conv-shifted.ts: 16–48 in, at most 16 out) run it too, a gemm per tap over shifted views of a
 * padded input (symbolic-shifted-conv.ts; dbnet-det at 640², CPU-clock profile: its 48→12 head convs
 * 32.8 → 26.3 and 32.3 → 24.9 ms, the static bundle's 27.2 and 23.6, machine loaded).
 */
import * as sym from '../ir/symbolic.js';
import type { Activation, BufRef, Expr, Extent, GemmStmt, Kernel, MatView, Stmt } from '../kernels/ir.js';
import {
  add,
  bin,
  cast,
  cmp,
  div,
  f32,
  i32,
  load,
  local,
  loop,
  max,
  mul,
  parallelLoop,
  set,
  store,
  sub,
  v,
  when,
} from '../kernels/build.js';
import { extentExpr, extentOf, kernelExprOf } from '../kernels/extent.js';
import { activate, applyActivation } from '../kernels/rewrite/epilogue.js';
import { attrInt, attrInts, OpError, type LowerIO } from '../ops/registry.js';
import { batchNormKernels } from '../ops/nn/batch-norm.js';
import { fusedActivation } from '../ops/fused-activation.js';
import { symbolicWindow, type SymbolicWindow } from '../passes/symbolic-spatial.js';
import { gemm, view } from '../ops/nn/gemm-helpers.js';
import type { RowsStep } from './rows-step.js';
import { symbolicPad } from './symbolic-pad.js';
import { symbolicResize } from './symbolic-resize.js';
import { shiftedConvKernel } from './symbolic-shifted-conv.js';
import { shiftedConvShapeFits } from '../ops/nn/conv-shifted.js';
import { tapBias } from '../ops/nn/conv-transpose.js';
import {
  symbolicWindowFits,
  symbolicWindowPlane,
  type WindowDim,
  type WindowReduce,
} from './symbolic-window-runs.js';

type Ranges = Readonly<Record<string, sym.Range>>;

/** A size as an i32 expression: a constant, or read from the dims block. */
const ix = (d: sym.SymLike): Expr => kernelExprOf(d);
const shapeOf = (step: RowsStep, i: number) => step.inputTypes[i]!.symbolic ?? step.inputTypes[i]!.shape;

/** Elements per (n, c) plane. */
const planeSize = (x: readonly sym.SymLike[]) => x.slice(2).reduce<sym.SymLike>((s, d) => sym.mul(s, d), 1);

/** A window made 2-D: height first (1-D ops get a height-1 window), sizes as expressions. */
interface Plane {
  H: sym.SymLike;
  W: sym.SymLike;
  OH: sym.SymLike;
  OW: sym.SymLike;
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  padBegin: [number, number];
  /** whether some kernel row can fall outside the input (padding at the top or bottom) */
  rowsChecked: boolean;
}

function plane(spatial: readonly sym.SymLike[], w: SymbolicWindow): Plane | undefined {
  if (spatial.length === 1) {
    const one = (xs: number[], d: number): [number, number] => [d, xs[0]];
    return {
      H: 1,
      W: spatial[0],
      OH: 1,
      OW: w.out[0],
      kernel: one(w.kernel, 1),
      strides: one(w.strides, 1),
      dilations: one(w.dilations, 1),
      padBegin: one(w.padBegin, 0),
      rowsChecked: false,
    };
  }
  if (spatial.length !== 2) return undefined;
  const two = (xs: number[]): [number, number] => [xs[0], xs[1]];
  return {
    H: spatial[0],
    W: spatial[1],
    OH: w.out[0],
    OW: w.out[1],
    kernel: two(w.kernel),
    strides: two(w.strides),
    dilations: two(w.dilations),
    padBegin: two(w.padBegin),
    rowsChecked: w.padBegin[0] > 0 || w.padEnd[0] > 0,
  };
}

/** Input row of output row `oh` and kernel row `kh`. */
const inputRow = (p: Plane, oh: Expr, kh: Expr): Expr =>
  sub(add(mul(oh, i32(p.strides[0])), mul(kh, i32(p.dilations[0]))), i32(p.padBegin[0]));

/** Output columns [lo, hi) whose tap kw lies inside the input row: lo static, hi an expression. */
function columnRun(p: Plane, kw: number): { lo: number; count: sym.SymLike } {
  const [s, offset] = [p.strides[1], kw * p.dilations[1] - p.padBegin[1]];
  // column o reads o·s + offset: inside when 0 ≤ o·s + offset ≤ W - 1
  const lo = Math.max(0, Math.ceil(-offset / s));
  const hi = sym.min(p.OW, sym.add(sym.floorDiv(sym.sub(sym.sub(p.W, 1), offset), s), 1));
  return { lo, count: sym.sub(hi, lo) };
}

/** Output channels up to which a dense conv runs as shifted rows, not convGemm. */
const SHIFTED_MAX_M = 8;

function conv(step: RowsStep, io: LowerIO, ranges: Ranges): Kernel[] | undefined {
  const x = shapeOf(step, 0);
  const wShape = step.inputTypes[1]!.shape;
  const p = plane(x.slice(2), symbolicWindow(step.ctx, x.slice(2), wShape.slice(2), ranges));
  if (!p) return undefined;
  const [C, M] = [sym.constValue(x[1])!, wShape[0]];
  const group = attrInt(step.node, 'group', 1);
  // on the GPU the tiles, sharing their scratch, would run in one invocation: the rows run in parallel
  const widest = sym.bounds(p.OW, ranges).max;
  if (!io.forGpu && x.length === 4 && M > SHIFTED_MAX_M)
    if (shiftedConvShapeFits(C, M, group, p.kernel, p.strides, widest))
      return [
        shiftedConvKernel(
          { ...p, name: step.node.name, batch: x[0], C, M, act: fusedActivation(step.node) },
          io,
          ranges,
        ),
      ];
  if (group === 1 && C * p.kernel[0] * p.kernel[1] > 1 && !io.forGpu && M > SHIFTED_MAX_M)
    return convGemm(step, io, p, C, M, ranges);
  const dims = windowDims(p);
  if (!io.forGpu && symbolicWindowFits(dims, ranges))
    return group === C
      ? depthwise(step, io, p, dims, ranges, C, M)
      : windowSums(step, io, p, dims, ranges, C, M);
  const [Cg, Mg] = [C / group, M / group];
  const [X, Wt, B] = io.inputs;
  const Y = io.outputs[0];
  const act = fusedActivation(step.node);
  const [n, m, oh, c, kh] = ['n', 'm', 'oh', 'c', 'kh'].map((name) => v(name));
  const row = (e: Expr) => add(v('yrow'), e);
  const taps: Stmt[] = [local('ih', 'i32', inputRow(p, oh, kh))];
  const tapRow: Stmt[] = [
    // ((n·C + group·Cg + c)·H + ih)·W
    local(
      'xrow',
      'i32',
      mul(add(mul(add(add(mul(n, i32(C)), mul(div(m, i32(Mg)), i32(Cg))), c), ix(p.H)), v('ih')), ix(p.W)),
    ),
    local('wrow', 'i32', mul(add(mul(add(mul(m, i32(Cg)), c), i32(p.kernel[0])), kh), i32(p.kernel[1]))),
  ];
  for (let kw = 0; kw < p.kernel[1]; kw++) {
    const { lo, count } = columnRun(p, kw);
    const first = lo * p.strides[1] + kw * p.dilations[1] - p.padBegin[1];
    const j = v(`j${kw}`);
    const xAt = add(v('xrow'), add(p.strides[1] === 1 ? j : mul(j, i32(p.strides[1])), i32(first)));
    tapRow.push(
      local(`w${kw}`, 'f32', load(Wt!, add(v('wrow'), i32(kw)))),
      loop(`j${kw}`, extentOf(count), [
        store(
          Y,
          row(add(j, i32(lo))),
          add(load(Y, row(add(j, i32(lo)))), mul(v(`w${kw}`, 'f32'), load(X!, xAt))),
        ),
      ]),
    );
  }
  const inside = cmp('lt_u', v('ih'), ix(p.H));
  taps.push(...(p.rowsChecked ? [when(inside, tapRow)] : tapRow));
  const o = v('o');
  const body: Stmt[] = [
    local('yrow', 'i32', mul(add(mul(add(mul(n, i32(M)), m), ix(p.OH)), oh), ix(p.OW))),
    loop('o', extentOf(p.OW), [store(Y, row(o), B ? load(B, m) : f32(0))]),
    loop('c', Cg, [loop('kh', p.kernel[0], taps)]),
    ...(act ? [loop('a', extentOf(p.OW), [store(Y, row(v('a')), activate(act, load(Y, row(v('a')))))])] : []),
  ];
  const nest = parallelLoop('n', extentOf(x[0]), [
    parallelLoop('m', M, [parallelLoop('oh', extentOf(p.OH), body)]),
  ]);
  return [{ name: step.node.name, body: [nest] }];
}

/** `act` over the first `count` elements of Y, in place (vectorized). */
const activationPass = (Y: BufRef, act: Activation, count: sym.SymLike): Stmt =>
  loop('a', extentOf(count), [store(Y, v('a'), activate(act, load(Y, v('a'))))]);

/** The plane's rows and columns as symbolic-window-runs.ts takes them. */
function windowDims(p: Plane): [WindowDim, WindowDim] {
  const dim = (d: 0 | 1): WindowDim => ({
    size: d === 0 ? p.H : p.W,
    out: d === 0 ? p.OH : p.OW,
    kernel: p.kernel[d],
    stride: p.strides[d],
    dilation: p.dilations[d],
    padBegin: p.padBegin[d],
  });
  return [dim(0), dim(1)];
}

/**
 * A depthwise conv (group = C, Mg = M / C output channels per input channel) as the static ones run
 * (ops/nn/depthwise.ts): per output plane the taps' weights and the bias in locals, the interior
 * vectorized. A `map` activation reads its input twice, so it runs over the finished planes instead.
 */
function depthwise(
  step: RowsStep,
  io: LowerIO,
  p: Plane,
  [rows, cols]: [WindowDim, WindowDim],
  ranges: Ranges,
  C: number,
  M: number,
): Kernel[] {
  const [X, Wt, B] = io.inputs;
  const Y = io.outputs[0];
  const act = fusedActivation(step.node);
  const [KH, KW] = p.kernel;
  const Mg = M / C;
  const [n, m] = [(s: number) => v(`n${s}`), (s: number) => v(`m${s}`)];
  const weight = (s: number, kh: number, kw: number) => v(`w${s}_${kh}_${kw}`, 'f32');
  const prologue = (s: number): Stmt[] => [
    ...Array.from({ length: KH * KW }, (_, k) =>
      local(`w${s}_${Math.floor(k / KW)}_${k % KW}`, 'f32', load(Wt!, add(mul(m(s), i32(KH * KW)), i32(k)))),
    ),
    local(`bias${s}`, 'f32', B ? load(B, m(s)) : f32(0)),
  ];
  const reduceOf = (s: number): WindowReduce => ({
    init: () => v(`bias${s}`, 'f32'),
    accumulates: true,
    combine: (acc, x, kh, kw) => add(acc!, mul(x, weight(s, kh, kw))),
    finish: (acc) => (act && act.op !== 'map' ? activate(act, acc) : acc),
  });
  const at = {
    x: (s: number) => [
      mul(add(mul(n(s), i32(C)), Mg === 1 ? m(s) : div(m(s), i32(Mg))), ix(sym.mul(p.H, p.W))),
    ],
    y: (s: number) => [mul(add(mul(n(s), i32(M)), m(s)), ix(sym.mul(p.OH, p.OW)))],
  };
  const planes = symbolicWindowPlane(rows, cols, X!, Y, at, reduceOf, ranges, prologue);
  const batch = extentOf(shapeOf(step, 0)[0]);
  const body = planes.map((stmts, s) => loop(`n${s}`, batch, [loop(`m${s}`, M, stmts)]));
  if (act?.op === 'map')
    body.push(activationPass(Y, act, sym.mul(sym.mul(shapeOf(step, 0)[0], M), sym.mul(p.OH, p.OW))));
  return [{ name: step.node.name, body }];
}

/**
 * A Conv of few output channels, or a grouped one, as sums of windows: each output plane starts at the
 * bias, then each input channel of its group adds its window, the interior one vectorized
 * read-modify-write of the output row per input channel (not one per tap, as the shifted rows below);
 * a fused activation runs over the finished planes.
 */
function windowSums(
  step: RowsStep,
  io: LowerIO,
  p: Plane,
  [rows, cols]: [WindowDim, WindowDim],
  ranges: Ranges,
  C: number,
  M: number,
): Kernel[] {
  const [X, Wt, B] = io.inputs;
  const Y = io.outputs[0];
  const act = fusedActivation(step.node);
  const group = attrInt(step.node, 'group', 1);
  const [Cg, Mg] = [C / group, M / group];
  const [KH, KW] = p.kernel;
  const batch = shapeOf(step, 0)[0];
  const outPlane = sym.mul(p.OH, p.OW);
  const [n, m, c] = ['n', 'm', 'c'].map((name) => (s: number) => v(`${name}${s}`));
  const weight = (s: number, kh: number, kw: number) => `w${s}_${kh}_${kw}`;
  const prologue = (s: number): Stmt[] =>
    Array.from({ length: KH * KW }, (_, k) =>
      local(
        weight(s, Math.floor(k / KW), k % KW),
        'f32',
        load(Wt!, add(mul(add(mul(m(s), i32(Cg)), c(s)), i32(KH * KW)), i32(k))),
      ),
    );
  const reduceOf = (s: number): WindowReduce => ({
    init: (yAt) => load(Y, yAt),
    accumulates: true,
    combine: (acc, x, kh, kw) => add(acc!, mul(x, v(weight(s, kh, kw), 'f32'))),
    finish: (acc) => acc,
  });
  const firstChannel = (s: number) => (group === 1 ? [] : [mul(div(m(s), i32(Mg)), i32(Cg))]);
  const at = {
    x: (s: number) => [mul([mul(n(s), i32(C)), ...firstChannel(s), c(s)].reduce(add), ix(sym.mul(p.H, p.W)))],
    y: (s: number) => [mul(add(mul(n(s), i32(M)), m(s)), ix(outPlane))],
  };
  const sums = symbolicWindowPlane(rows, cols, X!, Y, at, reduceOf, ranges, prologue);
  const plane = add(mul(v('nb'), i32(M)), v('mb'));
  const fill = loop('nb', extentOf(batch), [
    loop('mb', M, [
      local('bias', 'f32', B ? load(B, v('mb')) : f32(0)),
      loop('ob', extentOf(outPlane), [store(Y, add(mul(plane, ix(outPlane)), v('ob')), v('bias', 'f32'))]),
    ]),
  ]);
  const body = [
    fill,
    ...sums.map((stmts, s) => loop(`n${s}`, extentOf(batch), [loop(`m${s}`, M, [loop(`c${s}`, Cg, stmts)])])),
  ];
  if (act) body.push(activationPass(Y, act, sym.mul(sym.mul(batch, M), outPlane)));
  return [{ name: step.node.name, body }];
}

/**
 * Columns of the output a tiled conv computes at once: static, so its gemm is the static one; a whole number
 * of both modules' broadcast tiles (SIMD128's 8 columns, relaxed's 12: at 64 each relaxed tile ended in a
 * 4-column tail). Against 64, CPU clock, Intel Xeon: crnn-rec at width 320 0.988× the time relaxed,
 * 0.986× SIMD128; dbnet-det at 640² 0.976× / 0.987×. 48 gained more relaxed (0.94–0.96×) but cost
 * SIMD128 dbnet-det 1.01–1.02× (its weights read once per 48 columns).
 */
const TILE = 96;
/**
 * The narrower tile that covers the positions past the last whole TILE: one 8-wide gemm panel, so at most
 * 7 positions are computed twice (crnn-rec's 1×1 convs over 1×12 and 3×12 planes at width 100 computed
 * 64 columns for 12 and 36 through a scratch tile).
 */
const NARROW = 8;
/** Output positions per band of rows at the largest width, at least: a band's last tile is partly idle. */
const BAND_POSITIONS = 512;

/**
 * `tile(at)` over `count` positions in tiles of `width`, `at` the tile's first position: the whole tiles, then
 * one more that ends at the last position, overlapping the one before (recomputing a few positions costs
 * less than copying every tile out; a tile's stores do not depend on what is there); with fewer than
 * `width` positions `fewer()` instead.
 */
function tileRuns(
  suffix: string,
  count: sym.SymLike,
  tile: (at: Expr) => Stmt,
  fewer: () => Stmt[],
  width = TILE,
): Stmt[] {
  const t = v(`t${suffix}`);
  const whole = [loop(`t${suffix}`, extentOf(sym.floorDiv(count, width)), [tile(mul(t, i32(width)))])];
  if (sym.constValue(sym.mod(count, width)) === 0) return whole;
  const overlapping = [...whole, tile(ix(sym.sub(count, width)))];
  const fixed = sym.constValue(count);
  if (fixed !== undefined) return fixed >= width ? overlapping : fewer();
  return [when(cmp('ge', ix(count), i32(width)), overlapping, fewer())];
}

/**
 * A dense (group 1) Conv as the static gemm over tiles of TILE output positions, each tile written straight
 * into Y (a view of Y's [M, OH·OW] plane at its run-time row stride). A 1×1 conv of stride 1 without padding
 * reads X in place as the gemm's B (X's [C, H·W] plane at its run-time row stride). Other convs go per
 * image in bands of R output rows (R·OW at the largest width ≥ BAND_POSITIONS): the band's im2col matrix
 * is gathered into a [C·KH·KW, R·OW] scratch by `gatherRows`, then tiled. Positions past the last whole
 * tile run in NARROW tiles, the last of which ends at the last position, overlapping the one before
 * (recomputing a few columns costs less than copying every tile out); only where there are fewer than
 * NARROW positions does the gemm write a [M, NARROW] scratch whose columns are copied out (from a
 * gathered B: reading X in place, the tile would run past it).
 */
function convGemm(step: RowsStep, io: LowerIO, p: Plane, C: number, M: number, ranges: Ranges): Kernel[] {
  const [X, Wt, B] = io.inputs;
  const Y = io.outputs[0];
  const K = C * p.kernel[0] * p.kernel[1];
  const act = fusedActivation(step.node);
  const outPlane = sym.mul(p.OH, p.OW);
  const pointwise =
    K === C &&
    p.strides.every((s) => s === 1) &&
    p.padBegin.every((x) => x === 0) &&
    sym.constValue(sym.sub(p.OH, p.H)) === 0 &&
    sym.constValue(sym.sub(p.OW, p.W)) === 0;
  const n = v('n');
  /** W·B + bias, activated, over `width` columns of B into C */
  const product = (b: MatView, c: MatView, width = TILE): GemmStmt => {
    const g = gemm(M, width, K, view(Wt!, i32(0), K, 1), b, c, { ...(B && { bias: view(B, i32(0), 1, 0) }) });
    if (act) g.act = act;
    return g;
  };
  const imageAt = (plane: sym.SymLike, channels: number) => mul(mul(n, i32(channels)), ix(plane));
  /**
   * `count` output positions of image n from position `first` of its planes on, their im2col columns
   * from column 0 of `matrix` on
   */
  const tiles = (suffix: string, matrix: MatView, first: Expr, count: sym.SymLike): Stmt[] => {
    const b = (at: Expr): MatView => ({ ...matrix, offset: add(matrix.offset, at) });
    const y = (at: Expr) => view(Y, add(add(imageAt(outPlane, M), first), at), extentOf(outPlane), 1);
    const [t, u] = [v(`t${suffix}`), v(`u${suffix}`)];
    const wholeCount = sym.floorDiv(count, TILE);
    const narrowFirst = ix(sym.mul(wholeCount, TILE));
    const narrowCount = sym.floorDiv(sym.mod(count, TILE), NARROW);
    const runs = (extent: sym.SymLike, body: Stmt[], name: string): Stmt[] =>
      sym.constValue(extent) === 0 ? [] : [loop(name, extentOf(extent), body)];
    const whole = [
      ...runs(wholeCount, [product(b(mul(t, i32(TILE))), y(mul(t, i32(TILE))))], `t${suffix}`),
      ...runs(
        narrowCount,
        [product(b(add(narrowFirst, mul(u, i32(NARROW)))), y(add(narrowFirst, mul(u, i32(NARROW)))), NARROW)],
        `u${suffix}`,
      ),
    ];
    if (sym.constValue(sym.mod(count, NARROW)) === 0) return whole;
    const last = ix(sym.sub(count, NARROW));
    const overlapping = [...whole, product(b(last), y(last), NARROW)];
    // fewer than NARROW positions: a scratch tile copied out, its B gathered (X in place would run past X)
    const out = (outTile ??= io.scratch('float32', M * NARROW));
    const [m, j] = [v(`m${suffix}`), v(`j${suffix}`)];
    const scratchTile = [
      ...(pointwise ? gatherRows(p, X!, pointwiseCols(), NARROW, n, C, i32(0), p.OH, suffix) : []),
      product(
        pointwise ? view(pointwiseCols(), i32(0), NARROW, 1) : matrix,
        view(out, i32(0), NARROW, 1),
        NARROW,
      ),
      loop(`m${suffix}`, M, [
        loop(`j${suffix}`, extentOf(count), [
          store(
            Y,
            add(add(mul(add(mul(n, i32(M)), m), ix(outPlane)), first), j),
            load(out, add(mul(m, i32(NARROW)), j)),
          ),
        ]),
      ]),
    ];
    const fixed = sym.constValue(count);
    if (fixed !== undefined) return fixed >= NARROW ? overlapping : scratchTile;
    return [when(cmp('ge', ix(count), i32(NARROW)), overlapping, scratchTile)];
  };
  let [gathered, outTile]: (BufRef | undefined)[] = [];
  const pointwiseCols = () => (gathered ??= io.scratch('float32', C * NARROW));
  const image = pointwise
    ? tiles('', view(X!, imageAt(outPlane, C), extentOf(outPlane), 1), i32(0), outPlane)
    : bands();
  function bands(): Stmt[] {
    const widest = sym.bounds(p.OW, ranges).max;
    const R = Math.min(Math.max(1, Math.ceil(BAND_POSITIONS / widest)), sym.bounds(p.OH, ranges).max);
    const cols = io.scratch('float32', K * Math.ceil((R * widest) / TILE) * TILE);
    const rowStride = extentOf(sym.mul(R, p.OW));
    const band = (suffix: string, firstRow: Expr, rows: sym.SymLike): Stmt[] => [
      ...gatherRows(p, X!, cols, rowStride, n, C, firstRow, rows, suffix),
      ...tiles(suffix, view(cols, i32(0), rowStride, 1), mul(firstRow, ix(p.OW)), sym.mul(rows, p.OW)),
    ];
    const count = sym.floorDiv(p.OH, R);
    return [
      loop('b', extentOf(count), band('', mul(v('b'), i32(R)), R)),
      ...(sym.constValue(sym.mod(p.OH, R)) === 0
        ? []
        : band('_rest', ix(sym.mul(count, R)), sym.mod(p.OH, R))),
    ];
  }
  const body = loop('n', extentOf(step.inputTypes[0]!.symbolic?.[0] ?? step.inputTypes[0]!.shape[0]), image);
  return [{ name: step.node.name, body: [body] }];
}

/**
 * The im2col matrix of output rows [firstRow, firstRow + rows) of image n, row k of it (input channel, kernel
 * row, tap kw) at k·RS, output position (r, ow) at r·OW + ow: per output row, input channel, kernel row and
 * tap, the columns whose tap lies left of the input row (a static count), inside it and right of it are
 * zeros, a copy of input elements stride apart, and zeros — each a loop the wasm generator vectorizes; a
 * kernel row outside the input writes zeros over the row.
 */
function gatherRows(
  p: Plane,
  X: BufRef,
  cols: BufRef,
  RS: Extent,
  n: Expr,
  C: number,
  firstRow: Expr,
  rows: sym.SymLike,
  suffix: string,
): Stmt[] {
  const at = (x: string) => v(`${x}${suffix}`);
  const [r, c, kh] = [at('r'), at('c'), at('kh')];
  const s = p.strides[1];
  const matrixRow = (kw: number) =>
    mul(add(mul(add(mul(c, i32(p.kernel[0])), kh), i32(p.kernel[1])), i32(kw)), extentExpr(RS));
  const to = (kw: number, start: sym.SymLike, j: Expr) =>
    add(add(add(matrixRow(kw), mul(r, ix(p.OW))), ix(start)), j);
  const zeros = (name: string, kw: number, start: sym.SymLike, count: sym.SymLike): Stmt[] =>
    sym.constValue(count) === 0
      ? []
      : [loop(name, extentOf(count), [store(cols, to(kw, start, v(name)), f32(0))])];
  const inside: Stmt[] = [];
  const outside: Stmt[] = [];
  for (let kw = 0; kw < p.kernel[1]; kw++) {
    const offset = kw * p.dilations[1] - p.padBegin[1];
    // [0, head) left of the input row, [head, head + count) inside it, the rest right of it
    const run = columnRun(p, kw);
    const head = sym.min(run.lo, p.OW);
    const count = sym.max(0, run.count);
    const k = (x: string) => `${x}${kw}${suffix}`;
    const j = v(k('j'));
    inside.push(
      ...zeros(k('h'), kw, 0, head),
      local(k('from'), 'i32', add(at('xrow'), i32(run.lo * s + offset))),
      loop(k('j'), extentOf(count), [
        store(cols, to(kw, head, j), load(X, add(v(k('from')), s === 1 ? j : mul(j, i32(s))))),
      ]),
      ...zeros(k('t'), kw, sym.add(head, count), sym.sub(sym.sub(p.OW, head), count)),
    );
    outside.push(...zeros(k('z'), kw, 0, p.OW));
  }
  const ih = add(
    mul(add(firstRow, r), i32(p.strides[0])),
    add(mul(kh, i32(p.dilations[0])), i32(-p.padBegin[0])),
  );
  return [
    loop(`r${suffix}`, extentOf(rows), [
      loop(`c${suffix}`, C, [
        loop(`kh${suffix}`, p.kernel[0], [
          local(`ih${suffix}`, 'i32', ih),
          local(`xrow${suffix}`, 'i32', mul(add(mul(add(mul(n, i32(C)), c), ix(p.H)), at('ih')), ix(p.W))),
          when(cmp('lt_u', at('ih'), ix(p.H)), inside, outside),
        ]),
      ]),
    ]),
  ];
}

/**
 * MaxPool and AveragePool as window runs (symbolic-window-runs.ts); with count_include_pad, on the GPU or
 * with more taps than those unroll, every output element reads its window, taps outside the input skipped.
 */
function pool(step: RowsStep, io: LowerIO, ranges: Ranges): Kernel[] | undefined {
  const x = shapeOf(step, 0);
  const p = plane(
    x.slice(2),
    symbolicWindow(step.ctx, x.slice(2), attrInts(step.node, 'kernel_shape'), ranges),
  );
  if (!p) return undefined;
  const isMax = step.node.op === 'MaxPool';
  const countPads = attrInt(step.node, 'count_include_pad', 0) === 1;
  const [X, Y] = [io.inputs[0]!, io.outputs[0]];
  const dims = windowDims(p);
  if (!countPads && !io.forGpu && symbolicWindowFits(dims, ranges)) {
    // max, not a select: a NaN in the window gives NaN, as in the static MaxPool (ops/nn/pool.ts)
    const reduce: WindowReduce = {
      init: () => f32(isMax ? -Infinity : 0),
      combine: (acc, x) => (acc ? (isMax ? max(acc, x) : add(acc, x)) : x),
      finish: (acc, count) => (isMax ? acc : div(acc, cast('f32', count))),
      counts: !isMax,
    };
    const q = (s: number) => v(`q${s}`);
    const at = {
      x: (s: number) => [mul(q(s), ix(sym.mul(p.H, p.W)))],
      y: (s: number) => [mul(q(s), ix(sym.mul(p.OH, p.OW)))],
    };
    const planes = symbolicWindowPlane(dims[0], dims[1], X, Y, at, () => reduce, ranges);
    const count = extentOf(sym.mul(x[0], x[1]));
    return [{ name: step.node.name, body: planes.map((stmts, s) => loop(`q${s}`, count, stmts)) }];
  }
  const [q, oh, ow, kh, kw] = ['q', 'oh', 'ow', 'kh', 'kw'].map((name) => v(name));
  const ih = inputRow(p, oh, kh);
  const iw = sub(add(mul(ow, i32(p.strides[1])), mul(kw, i32(p.dilations[1]))), i32(p.padBegin[1]));
  const inside = bin('and', cmp('lt_u', ih, ix(p.H)), cmp('lt_u', iw, ix(p.W)));
  const value = load(X, add(mul(add(mul(q, ix(p.H)), ih), ix(p.W)), iw));
  const acc = v('acc', 'f32');
  const taps = loop('kh', p.kernel[0], [
    loop('kw', p.kernel[1], [
      when(
        inside,
        isMax
          ? [set('acc', max(acc, value))]
          : [set('acc', add(acc, value)), set('cnt', add(v('cnt'), i32(1)))],
      ),
    ]),
  ]);
  const taken = countPads ? f32(p.kernel[0] * p.kernel[1]) : cast('f32', v('cnt'));
  const yAt = add(mul(add(mul(q, ix(p.OH)), oh), ix(p.OW)), ow);
  const body: Stmt[] = [
    local('acc', 'f32', f32(isMax ? -Infinity : 0)),
    ...(isMax ? [] : [local('cnt', 'i32', i32(0))]),
    taps,
    store(Y, yAt, isMax ? acc : div(acc, taken)),
  ];
  const planes = extentOf(sym.mul(x[0], x[1]));
  const nest = parallelLoop('q', planes, [
    parallelLoop('oh', extentOf(p.OH), [parallelLoop('ow', extentOf(p.OW), body)]),
  ]);
  return [{ name: step.node.name, body: [nest] }];
}

/**
 * ConvTranspose (no output_shape or auto_pad; shape rule in passes/symbolic-spatial.ts) as scattered rows:
 * each output row (n, m, oh) starts at the bias; then for each input channel of m's group and kernel row
 * kh whose input row ih = (oh + pad - kh·dilation) / stride is whole and inside the input, and each tap
 * kw, input columns iw gain w·x[iw] at output column iw·stride + kw·dilation - pad: a run [lo, hi) of
 * iw, lo static and hi an expression of the widths, so no column is checked at run time. The row's
 * quotient and remainder are unsigned, so a negative numerator lands outside the input.
 */
function convTranspose(step: RowsStep, io: LowerIO, ranges: Ranges): Kernel[] | undefined {
  const x = shapeOf(step, 0);
  const out = step.outputTypes[0].symbolic ?? step.outputTypes[0].shape;
  const wShape = step.inputTypes[1]!.shape;
  const rank = x.length - 2;
  if (rank !== 1 && rank !== 2) return undefined;
  const attr = (name: string, dflt: number) => {
    const given = attrInts(step.node, name, []);
    const values = given.length > 0 ? given : Array.from({ length: rank }, () => dflt);
    return rank === 1 ? [dflt === 1 ? 1 : 0, values[0]] : values;
  };
  const [strides, dilations] = [attr('strides', 1), attr('dilations', 1)];
  const pads = attrInts(step.node, 'pads', []);
  const padBegin = rank === 1 ? [0, pads[0] ?? 0] : [pads[0] ?? 0, pads[1] ?? 0];
  const kernel = rank === 1 ? [1, wShape[2]] : [wShape[2], wShape[3]];
  const [H, W] = rank === 1 ? [1, x[2]] : [x[2], x[3]];
  const [OH, OW] = rank === 1 ? [1, out[2]] : [out[2], out[3]];
  const C = sym.constValue(x[1])!;
  const group = attrInt(step.node, 'group', 1);
  const [Cg, Mg] = [C / group, wShape[1]];
  const M = Mg * group;
  const outputPadding = attrInts(step.node, 'output_padding', []);
  const disjoint =
    kernel.every((k, d) => k === strides[d] && dilations[d] === 1) &&
    [...pads, ...outputPadding].every((p) => p === 0);
  const act = fusedActivation(step.node);
  if (disjoint && group === 1 && !io.forGpu)
    return disjointConvTranspose(step.node.name, io, x[0], [H, W], [OH, OW], C, M, kernel, ranges, act);
  const [X, Wt, B] = io.inputs;
  const Y = io.outputs[0];
  const [n, m, oh, c, kh] = ['n', 'm', 'oh', 'c', 'kh'].map((name) => v(name));
  const channel = add(mul(div(m, i32(Mg)), i32(Cg)), c);
  const t = sub(add(oh, i32(padBegin[0])), mul(kh, i32(dilations[0])));
  const s0 = strides[0];
  const rowInside =
    s0 === 1
      ? cmp('lt_u', v('t'), ix(H))
      : bin('and', cmp('eq', bin('rem_u', v('t'), i32(s0)), i32(0)), cmp('lt_u', v('ih'), ix(H)));
  const tapRow: Stmt[] = [
    local('xrow', 'i32', mul(add(mul(add(mul(n, i32(C)), channel), ix(H)), v('ih')), ix(W))),
    // weight [C, Mg, KH, KW]
    local(
      'wrow',
      'i32',
      mul(add(mul(add(mul(channel, i32(Mg)), bin('rem_u', m, i32(Mg))), i32(kernel[0])), kh), i32(kernel[1])),
    ),
  ];
  const s1 = strides[1];
  for (let kw = 0; kw < kernel[1]; kw++) {
    // input column iw lands on output column iw·s1 + offset: inside when 0 ≤ iw·s1 + offset ≤ OW - 1
    const offset = kw * dilations[1] - padBegin[1];
    const lo = Math.max(0, Math.ceil(-offset / s1));
    const hi = sym.min(W, sym.add(sym.floorDiv(sym.sub(sym.sub(OW, 1), offset), s1), 1));
    const j = v(`j${kw}`);
    const iw = add(j, i32(lo));
    const yAt = add(v('yrow'), add(s1 === 1 ? iw : mul(iw, i32(s1)), i32(offset)));
    tapRow.push(
      local(`w${kw}`, 'f32', load(Wt!, add(v('wrow'), i32(kw)))),
      loop(`j${kw}`, extentOf(sym.sub(hi, lo)), [
        store(Y, yAt, add(load(Y, yAt), mul(v(`w${kw}`, 'f32'), load(X!, add(v('xrow'), iw))))),
      ]),
    );
  }
  const o = v('o');
  const body: Stmt[] = [
    local('yrow', 'i32', mul(add(mul(add(mul(n, i32(M)), m), ix(OH)), oh), ix(OW))),
    loop('o', extentOf(OW), [store(Y, add(v('yrow'), o), B ? load(B, m) : f32(0))]),
    loop('c', Cg, [
      loop('kh', kernel[0], [
        local('t', 'i32', t),
        local('ih', 'i32', s0 === 1 ? v('t') : bin('div_u', v('t'), i32(s0))),
        when(rowInside, tapRow),
      ]),
    ]),
  ];
  const nest = parallelLoop('n', extentOf(x[0]), [
    parallelLoop('m', M, [parallelLoop('oh', extentOf(OH), body)]),
  ]);
  // a fused activation (passes/fuse-activation.ts): a pass after the rows, which accumulate into Y
  const kernels = [{ name: step.node.name, body: [nest] }];
  return act ? applyActivation(kernels, Y, act) : kernels;
}

/**
 * Input positions per gemm of a disjoint ConvTranspose: its reduction is short (the input channels), so a
 * wide tile pays for the gemm's set-up (dbnet-det at 640², CPU-clock profile, machine loaded: its 12 → 12
 * upsampling 3.4 ms with 64, 1.7 with 256, 4.4 with 1024; the static bundle's 1.9).
 */
const TRANSPOSE_TILE = 256;

/**
 * A ConvTranspose whose taps are disjoint (kernel = stride, no pads, dilations or output padding: the ×2
 * upsampling of FPNs and detector heads) as the static one runs (ops/nn/conv-transpose.ts): the gemm
 * Wᵀ·X (+ bias, through a fused activation) into a [M·KH·KW, H·W] scratch over tiles of TRANSPOSE_TILE
 * input positions, X read in place at its run-time plane stride (only below a tile's positions is X copied
 * into a scratch tile), then each product stored once at its output position: per output row, loads of the
 * taps' rows and sequential stores, the loops over input rows and columns so no position is divided by the
 * width.
 */
function disjointConvTranspose(
  name: string,
  io: LowerIO,
  batch: sym.SymLike,
  [H, W]: sym.SymLike[],
  [OH, OW]: sym.SymLike[],
  C: number,
  M: number,
  [KH, KW]: number[],
  ranges: Ranges,
  act: Activation | undefined,
): Kernel[] {
  const [X, Wt, B] = io.inputs;
  const Y = io.outputs[0];
  const taps = KH * KW;
  const P = sym.mul(H, W);
  const col = io.scratch('float32', M * taps * Math.max(sym.bounds(P, ranges).max, TRANSPOSE_TILE));
  const [n, m, ih, kh, iw] = ['n', 'm', 'ih', 'kh', 'iw'].map((x) => v(x));
  // col's elements are the outputs: the gemm adds the bias and applies the activation, the rows copy
  const bias = B && tapBias(B, M, taps, io);
  // W is [C, M, KH, KW]: read as (M·KH·KW) × C it is its transpose, column stride M·KH·KW
  const product = (b: MatView, c: MatView) => {
    const s = gemm(M * taps, TRANSPOSE_TILE, C, view(Wt!, i32(0), 1, M * taps), b, c, {
      bias: bias?.view(i32(0)),
    });
    if (act) s.act = act;
    return s;
  };
  const image = mul(mul(n, i32(C)), ix(P));
  const inPlace = (at: Expr) =>
    product(view(X!, add(image, at), extentOf(P), 1), view(col, at, extentOf(P), 1));
  const fewer = (): Stmt[] => {
    const [xs, out] = [
      io.scratch('float32', C * TRANSPOSE_TILE),
      io.scratch('float32', M * taps * TRANSPOSE_TILE),
    ];
    const [c, j, r, k] = ['cx', 'jx', 'rx', 'kx'].map((x) => v(x));
    return [
      loop('cx', C, [
        loop('jx', extentOf(P), [
          store(xs, add(mul(c, i32(TRANSPOSE_TILE)), j), load(X!, add(add(image, mul(c, ix(P))), j))),
        ]),
      ]),
      product(view(xs, i32(0), TRANSPOSE_TILE, 1), view(out, i32(0), TRANSPOSE_TILE, 1)),
      loop('rx', M * taps, [
        loop('kx', extentOf(P), [
          store(col, add(mul(r, ix(P)), k), load(out, add(mul(r, i32(TRANSPOSE_TILE)), k))),
        ]),
      ]),
    ];
  };
  const outputRow: Stmt[] = [
    // Y[n, m, ih·KH + kh, 0], and col[m·taps + kh·KW + kw, ih·W] per tap kw
    local('yrow', 'i32', mul(add(mul(add(mul(n, i32(M)), m), ix(OH)), add(mul(ih, i32(KH)), kh)), ix(OW))),
    ...Array.from({ length: KW }, (_, kw) =>
      local(
        `crow${kw}`,
        'i32',
        add(mul(add(add(mul(m, i32(taps)), mul(kh, i32(KW))), i32(kw)), ix(P)), mul(ih, ix(W))),
      ),
    ),
    loop(
      'iw',
      extentOf(W),
      Array.from({ length: KW }, (_, kw) =>
        store(Y, add(v('yrow'), add(mul(iw, i32(KW)), i32(kw))), load(col, add(v(`crow${kw}`), iw))),
      ),
    ),
  ];
  const scatter = loop('m', M, [loop('ih', extentOf(H), [loop('kh', KH, outputRow)])]);
  const body = loop('n', extentOf(batch), [...tileRuns('', P, inPlace, fewer, TRANSPOSE_TILE), scatter]);
  return [{ name, body: [...(bias?.fill ?? []), body] }];
}

/** GlobalAveragePool and GlobalMaxPool: one pass over each plane's run-time size. */
function globalPool(step: RowsStep, io: LowerIO): Kernel[] {
  const x = shapeOf(step, 0);
  const size = planeSize(x);
  const isMax = step.node.op === 'GlobalMaxPool';
  const [X, Y] = [io.inputs[0]!, io.outputs[0]];
  const [q, acc] = [v('q'), v('acc', 'f32')];
  const value = load(X, add(mul(q, ix(size)), v('i')));
  const body: Stmt[] = [
    local('acc', 'f32', f32(isMax ? -Infinity : 0)),
    loop('i', extentOf(size), [set('acc', isMax ? max(acc, value) : add(acc, value))]),
    store(Y, q, isMax ? acc : div(acc, cast('f32', ix(size)))),
  ];
  return [{ name: step.node.name, body: [parallelLoop('q', extentOf(sym.mul(x[0], x[1])), body)] }];
}

const SPATIAL_OPS = new Set([
  'Conv',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'BatchNormalization',
  'ConvTranspose',
]);

/**
 * The kernels of a spatial op whose spatial dims are known only at run time (float32, 1-D or 2-D; any
 * other such case is one error) or of a Pad, or undefined when it is no spatial op or only its batch dim is symbolic
 * (then it runs row by row over the batch: lower-rows.ts).
 */
export function spatialKernels(step: RowsStep, io: LowerIO, ranges: Ranges): Kernel[] | undefined {
  if (step.node.domain === '' && step.node.op === 'Pad') return [symbolicPad(step, io)];
  if (step.node.domain === '' && step.node.op === 'Resize') return [symbolicResize(step, io)];
  if (step.node.domain !== '' || !SPATIAL_OPS.has(step.node.op)) return undefined;
  const x = shapeOf(step, 0);
  if (x.slice(2).every((d) => sym.constValue(d) !== undefined)) return undefined;
  if (step.outputTypes[0].dtype !== 'float32' || (x.length !== 3 && x.length !== 4))
    throw new OpError(
      step.node,
      step.ctx.opset,
      'runs with spatial dims known only at run time on float32 1-D and 2-D inputs only; fix them with --shape',
    );
  switch (step.node.op) {
    case 'Conv':
      return conv(step, io, ranges);
    case 'MaxPool':
    case 'AveragePool':
      return pool(step, io, ranges);
    case 'ConvTranspose':
      return convTranspose(step, io, ranges);
    case 'BatchNormalization':
      return batchNormKernels(step.ctx, io, sym.constValue(x[1])!, extentOf(x[0]), extentOf(planeSize(x)));
    default:
      return globalPool(step, io);
  }
}
