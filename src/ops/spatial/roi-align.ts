/**
 * RoiAlign: each region of interest (x1, y1, x2, y2 in input coordinates × spatial_scale) is split into
 * output_height × output_width bins; each bin averages (or takes the max of) bilinear samples on a
 * regular sampling grid inside it. Follows the ONNX Runtime / ONNX reference kernel, including its
 * max mode (the largest weighted corner value of each sample) and its clamping of sample points.
 */
import type { TensorType } from '../../ir/graph.js';
import { tensorToNumbers } from '../../ir/tensor.js';
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
  load,
  local,
  loop,
  max,
  min,
  mul,
  select,
  set,
  store,
  sub,
  un,
  v,
  when,
} from '../../kernels/build.js';
import {
  attrFloat,
  attrInt,
  attrString,
  constInput,
  registerOp,
  type LowerIO,
  type OpContext,
} from '../registry.js';
import { FLOAT_TYPES, fail, fmtShape, loadAs, typedInput } from '../nn/common.js';

interface Settings {
  avg: boolean;
  outH: number;
  outW: number;
  samplingRatio: number;
  scale: number;
  /** half_pixel shifts ROI corners by -0.5 and lets ROIs be smaller than one pixel */
  halfPixel: boolean;
}

function settings(ctx: OpContext, defaultTransform: string): Settings {
  const mode = attrString(ctx.node, 'mode', 'avg');
  if (mode !== 'avg' && mode !== 'max') fail(ctx, `mode '${mode}' is unsupported; expected avg or max`);
  const transform = attrString(ctx.node, 'coordinate_transformation_mode', defaultTransform);
  if (transform !== 'half_pixel' && transform !== 'output_half_pixel')
    fail(
      ctx,
      `coordinate_transformation_mode '${transform}' is unsupported; expected half_pixel or output_half_pixel`,
    );
  const outH = attrInt(ctx.node, 'output_height', 1);
  const outW = attrInt(ctx.node, 'output_width', 1);
  if (outH < 1 || outW < 1) fail(ctx, `output_height ${outH} and output_width ${outW} must be ≥ 1`);
  const samplingRatio = attrInt(ctx.node, 'sampling_ratio', 0);
  if (samplingRatio < 0) fail(ctx, `sampling_ratio ${samplingRatio} must be ≥ 0`);
  const scale = attrFloat(ctx.node, 'spatial_scale', 1);
  return { avg: mode === 'avg', outH, outW, samplingRatio, scale, halfPixel: transform === 'half_pixel' };
}

function inferWith(ctx: OpContext, defaultTransform: string): TensorType[] {
  const x = typedInput(ctx, 0, 'X', FLOAT_TYPES);
  const rois = typedInput(ctx, 1, 'rois', [x.dtype]);
  const idx = typedInput(ctx, 2, 'batch_indices', ['int64']);
  const { outH, outW } = settings(ctx, defaultTransform);
  if (x.shape.length !== 4) fail(ctx, `input 0 (X) has shape ${fmtShape(x.shape)}; expected [N, C, H, W]`);
  if (rois.shape.length !== 2 || rois.shape[1] !== 4)
    fail(ctx, `input 1 (rois) has shape ${fmtShape(rois.shape)}; expected [num_rois, 4]`);
  if (idx.shape.length !== 1 || idx.shape[0] !== rois.shape[0])
    fail(ctx, `input 2 (batch_indices) has shape ${fmtShape(idx.shape)}; expected [${rois.shape[0]}]`);
  return [{ dtype: x.dtype, shape: [rois.shape[0], x.shape[1], outH, outW] }];
}

/**
 * The sampling grid size along one axis: sampling_ratio, or (adaptive, 0) ceil(roi extent / bins),
 * which depends on the ROI values — then the loop bound comes from constant rois and each ROI's own
 * count is computed in the kernel.
 */
function gridBounds(ctx: OpContext, s: Settings): [number, number] {
  if (s.samplingRatio > 0) return [s.samplingRatio, s.samplingRatio];
  const rois = tensorToNumbers(constInput(ctx, 1, 'rois, needed for the adaptive sampling_ratio 0,'));
  let [gh, gw] = [1, 1];
  for (let i = 0; i + 3 < rois.length; i += 4) {
    let h = (rois[i + 3] - rois[i + 1]) * s.scale;
    let w = (rois[i + 2] - rois[i]) * s.scale;
    if (!s.halfPixel) [h, w] = [Math.max(h, 1), Math.max(w, 1)];
    // +1: the kernel computes the same ceil in float32, which may round up where float64 does not.
    gh = Math.max(gh, Math.ceil(h / s.outH) + 1);
    gw = Math.max(gw, Math.ceil(w / s.outW) + 1);
  }
  return [gh, gw];
}

/**
 * Bilinear corner indices (ylo/yhi, xlo/xhi) and weights (w1..w4) of the sample point at locals (sy, sx)
 * in an H×W plane, as the reference's pre-calc: points more than one pixel outside get zero weights,
 * others clamp to the image.
 */
function sampleStmts(t: Scalar, H: number, W: number): Stmt[] {
  const c = (x: number) => cnst(t, x);
  const [y, x] = [v('sy', t), v('sx', t)];
  const outside = bin(
    'or',
    bin('or', cmp('lt', y, c(-1)), cmp('gt', y, c(H))),
    bin('or', cmp('lt', x, c(-1)), cmp('gt', x, c(W))),
  );
  const axis = (p: string, coord: Expr, len: number): Stmt[] => [
    local(`${p}c`, t, max(coord, c(0))),
    local(`${p}lo`, 'i32', min(cast('i32', v(`${p}c`, t)), i32(len - 1))),
    local(`${p}hi`, 'i32', min(add(v(`${p}lo`), i32(1)), i32(len - 1))),
    // At the last pixel the sample sits exactly on it: no weight for the (clamped) next pixel.
    local(
      `${p}f`,
      t,
      select(
        cmp('ge', cast('i32', v(`${p}c`, t)), i32(len - 1)),
        c(0),
        sub(v(`${p}c`, t), cast(t, v(`${p}lo`))),
      ),
    ),
  ];
  const keep = select(outside, c(0), c(1));
  return [
    ...axis('y', y, H),
    ...axis('x', x, W),
    local('w1', t, mul(keep, mul(sub(c(1), v('yf', t)), sub(c(1), v('xf', t))))),
    local('w2', t, mul(keep, mul(sub(c(1), v('yf', t)), v('xf', t)))),
    local('w3', t, mul(keep, mul(v('yf', t), sub(c(1), v('xf', t))))),
    local('w4', t, mul(keep, mul(v('yf', t), v('xf', t)))),
  ];
}

function lowerWith(ctx: OpContext, io: LowerIO, defaultTransform: string): Kernel[] {
  const s = settings(ctx, defaultTransform);
  const [N, C, H, W] = ctx.inputs[0]!.shape;
  const R = ctx.inputs[1]!.shape[0];
  if (H === 0 || W === 0)
    fail(ctx, `input 0 (X) has shape [${N},${C},${H},${W}]; RoiAlign needs pixels to sample`);
  const X = io.inputs[0]!;
  const Rois = io.inputs[1]!;
  const Idx = io.inputs[2]!;
  const Y = io.outputs[0];
  const t: Scalar = scalarOf(Y.dtype);
  const c = (x: number) => cnst(t, x);
  const [GH, GW] = gridBounds(ctx, s);
  const offset = s.halfPixel ? 0.5 : 0;
  const corner = (k: number) =>
    sub(mul(loadAs(t, Rois, add(mul(v('r'), i32(4)), i32(k))), c(s.scale)), c(offset));
  const extent = (hi: Expr, lo: Expr) => (s.halfPixel ? sub(hi, lo) : max(sub(hi, lo), c(1)));
  const adaptiveCount = (size: string, bins: number): Expr =>
    s.samplingRatio > 0 ? i32(s.samplingRatio) : cast('i32', un('ceil', div(v(size, t), c(bins))));

  const roiStmts: Stmt[] = [
    local('sw', t, corner(0)),
    local('sh', t, corner(1)),
    local('rw', t, extent(corner(2), v('sw', t))),
    local('rh', t, extent(corner(3), v('sh', t))),
    local('bh', t, div(v('rh', t), c(s.outH))),
    local('bw', t, div(v('rw', t), c(s.outW))),
    local('gh', 'i32', adaptiveCount('rh', s.outH)),
    local('gw', 'i32', adaptiveCount('rw', s.outW)),
    local('batch', 'i32', cast('i32', load(Idx, v('r')))),
    local('valid', 'i32', cmp('lt_u', load(Idx, v('r')), { k: 'const', t: 'i64', v: BigInt(N) })),
  ];
  const pos = (yv: string, xv: string) =>
    add(mul(add(mul(v('batch'), i32(C)), v('c')), i32(H * W)), add(mul(v(yv), i32(W)), v(xv)));
  const pix = (w: string, yv: string, xv: string) => mul(v(w, t), loadAs(t, X, pos(yv, xv)));
  const sampleAt = (binVar: string, start: string, size: string, iv: string, count: string): Expr =>
    add(
      add(v(start, t), mul(cast(t, v(binVar)), v(size, t))),
      div(mul(add(cast(t, v(iv)), c(0.5)), v(size, t)), cast(t, v(count))),
    );
  const val = s.avg
    ? add(
        add(pix('w1', 'ylo', 'xlo'), pix('w2', 'ylo', 'xhi')),
        add(pix('w3', 'yhi', 'xlo'), pix('w4', 'yhi', 'xhi')),
      )
    : max(
        max(pix('w1', 'ylo', 'xlo'), pix('w2', 'ylo', 'xhi')),
        max(pix('w3', 'yhi', 'xlo'), pix('w4', 'yhi', 'xhi')),
      );
  const accumulate = s.avg
    ? set('acc', add(v('acc', t), v('val', t)))
    : set('acc', select(v('first'), v('val', t), max(v('acc', t), v('val', t))));
  const samples: Stmt[] = [
    loop('iy', GH, [
      loop('ix', GW, [
        when(bin('and', cmp('lt', v('iy'), v('gh')), cmp('lt', v('ix'), v('gw'))), [
          local('sy', t, sampleAt('ph', 'sh', 'bh', 'iy', 'gh')),
          local('sx', t, sampleAt('pw', 'sw', 'bw', 'ix', 'gw')),
          ...sampleStmts(t, H, W),
          local('val', t, val),
          accumulate,
          set('first', i32(0)),
        ]),
      ]),
    ]),
  ];
  const count = cast(t, max(mul(v('gh'), v('gw')), i32(1)));
  const result = s.avg ? div(v('acc', t), count) : v('acc', t);
  const out = add(
    mul(add(mul(v('r'), i32(C)), v('c')), i32(s.outH * s.outW)),
    add(mul(v('ph'), i32(s.outW)), v('pw')),
  );
  const body: Stmt[] = [
    loop('r', R, [
      ...roiStmts,
      loop('c', C, [
        loop('ph', s.outH, [
          loop('pw', s.outW, [
            local('acc', t, c(0)),
            local('first', 'i32', i32(1)),
            // A batch index outside [0, N) has no image to sample: the ROI's output stays 0.
            when(v('valid'), samples),
            store(Y, out, result),
          ]),
        ]),
      ]),
    ]),
  ];
  return [{ name: ctx.node.name, body }];
}

registerOp('RoiAlign', {
  sinceVersion: 10,
  infer: (ctx) => inferWith(ctx, 'output_half_pixel'),
  lower: (ctx, io) => lowerWith(ctx, io, 'output_half_pixel'),
});
registerOp('RoiAlign', {
  sinceVersion: 16,
  infer: (ctx) => inferWith(ctx, 'half_pixel'),
  lower: (ctx, io) => lowerWith(ctx, io, 'half_pixel'),
});
