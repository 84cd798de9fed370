/**
 * MelWeightMatrix (opset 17): [dft_length/2 + 1, num_mel_bins] triangular filters that map a one-sided
 * spectrum onto mel bands, following the ONNX reference: num_mel_bins + 2 points evenly spaced in mel
 * between the edge frequencies (spaced by range / (num_mel_bins + 2)), each mapped to the spectrum bin
 * floor((dft_length + 1) · hz / sample_rate); filter i rises from point i to point i+1 and falls to i+2.
 * num_mel_bins and dft_length are the shape: constants, or fed at run time (passes/data-shapes.ts: sizes
 * the kernel reads from the dims block, bounded by `--dim NAME=MIN..MAX`); the rest may be run-time values.
 */
import type { Expr, Extent, Kernel } from '../../kernels/ir.js';
import { sizeOf } from '../../ir/tensor.js';
import { extentF64, extentI32 } from '../../kernels/extent.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  bin,
  cast,
  cmp,
  dim,
  div,
  f64,
  i32,
  load,
  loop,
  mul,
  select,
  store,
  sub,
  un,
  v,
} from '../../kernels/build.js';
import { OpError, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { FLOATS, typedInput } from '../elementwise/common.js';
import { constIntScalar, outputDatatype } from './common.js';

/** A size input: its constant value, or undefined when it is fed at run time. */
function sizeInput(ctx: OpContext, i: number, what: string): number | undefined {
  if (!ctx.inputs[i]) throw new OpError(ctx.node, ctx.opset, `input ${i} (${what}) is required`);
  if (ctx.consts[i]) return constIntScalar(ctx, i, what);
  typedInput(ctx, i, ['int32', 'int64']);
  if (sizeOf(ctx.inputs[i]!.shape) !== 1 || ctx.inputs[i]!.shape.length > 1)
    throw new OpError(ctx.node, ctx.opset, `${what} must be a scalar, found shape [${ctx.inputs[i]!.shape}]`);
  return undefined;
}

/** num_mel_bins and dft_length, each a constant or undefined when fed at run time (a symbol in lower). */
export function melSizes(ctx: OpContext): { mels?: number; dft?: number } {
  const mels = sizeInput(ctx, 0, 'num_mel_bins');
  const dft = sizeInput(ctx, 1, 'dft_length');
  if ((mels !== undefined && mels < 1) || (dft !== undefined && dft < 1))
    throw new OpError(ctx.node, ctx.opset, `num_mel_bins (${mels}) and dft_length (${dft}) must be positive`);
  for (const [i, what] of [
    [2, 'sample_rate'],
    [3, 'lower_edge_hertz'],
    [4, 'upper_edge_hertz'],
  ] as const) {
    const t = typedInput(ctx, i, i === 2 ? ['int32', 'int64'] : FLOATS);
    if (t.shape.length > 1 || t.shape.reduce((a, b) => a * b, 1) !== 1)
      throw new OpError(ctx.node, ctx.opset, `${what} must be a scalar, found shape [${t.shape}]`);
  }
  return { mels, dft };
}

const LN10 = Math.log(10);
const hzToMel = (hz: Expr): Expr => mul(f64(2595 / LN10), un('log', add(f64(1), div(hz, f64(700)))));
const melToHz = (mel: Expr): Expr => mul(f64(700), sub(un('exp', mul(mel, f64(LN10 / 2595))), f64(1)));

const melWeightMatrix: OpDef = {
  sinceVersion: 17,
  // a size fed at run time is typed at its bound by passes/data-shapes.ts
  infer(ctx) {
    const { mels, dft } = melSizes(ctx);
    return [{ dtype: outputDatatype(ctx), shape: [Math.floor((dft ?? 0) / 2) + 1, mels ?? 0] }];
  },
  lower(ctx: OpContext, io: LowerIO): Kernel[] {
    const sizes = melSizes(ctx);
    const fed = (i: number): Extent =>
      dim(io.sizes!.find((s) => s.fed?.input === ctx.node.inputs[i])!.symbol);
    const mels: Extent = sizes.mels ?? fed(0);
    const dft: Extent = sizes.dft ?? fed(1);
    const spectrum: Extent =
      typeof dft === 'number' ? Math.floor(dft / 2) + 1 : add(div(dft, i32(2)), i32(1));
    const plus = (e: Extent, d: number): Extent => (typeof e === 'number' ? e + d : add(e, i32(d)));
    // inputs 2..4: sample_rate, lower_edge_hertz, upper_edge_hertz
    const scalar = (i: number): Expr => cast('f64', load(io.inputs[i]!, i32(0)));
    // a fed num_mel_bins is at most the output's length (the spectrum has at least one bin)
    const points = io.scratch('int32', (sizes.mels ?? io.outputs[0].length) + 2);
    const lowMel = hzToMel(scalar(3));
    const step = div(sub(hzToMel(scalar(4)), lowMel), extentF64(plus(mels, 2)));
    const p = v('p');
    const hz = melToHz(add(mul(cast('f64', p), step), lowMel));
    const bin_ = un('floor', div(mul(extentF64(plus(dft, 1)), hz), scalar(2)));
    const y = io.outputs[0];
    const t = scalarOf(y.dtype);
    const [m, j] = [v('m'), v('j')];
    const point = (d: number): Expr => load(points, add(m, i32(d)));
    const [left, center, right] = [point(0), point(1), point(2)];
    const toF = (e: Expr): Expr => cast('f64', e);
    const and = (a: Expr, b: Expr): Expr => bin('and', a, b);
    // Later assignments in the reference win: the falling edge overwrites the rising edge's last value.
    const rising = select(
      cmp('eq', center, left),
      select(cmp('eq', j, center), f64(1), f64(0)),
      select(
        and(cmp('ge', j, left), cmp('le', j, center)),
        div(toF(sub(j, left)), toF(sub(center, left))),
        f64(0),
      ),
    );
    const falling = div(toF(sub(right, j)), toF(sub(right, center)));
    const inFalling = and(cmp('gt', right, center), and(cmp('ge', j, center), cmp('lt', j, right)));
    return [
      {
        name: ctx.node.name,
        body: [
          loop('p', plus(mels, 2), [store(points, p, cast('i32', bin_))]),
          loop('j', spectrum, [
            loop('m', mels, [
              store(y, add(mul(j, extentI32(mels)), m), cast(t, select(inFalling, falling, rising))),
            ]),
          ]),
        ],
      },
    ];
  },
};

registerOp('MelWeightMatrix', melWeightMatrix);
