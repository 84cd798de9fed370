/**
 * STFT (opset 17): the DFT of each frame signal[b, f·step .. f·step + L) times the window (rectangular
 * when omitted). frame_step and frame_length are constant inputs or fed at run time (passes/data-shapes.ts:
 * frame_length and the frame count are sizes the kernel reads from the dims block, bounded by `--dim
 * NAME=MIN..MAX` and the signal's length; the kernel reads a fed frame_step itself); L is the window's
 * length when a window is given. Output [batch, frames, bins, 2] with
 * frames = floor((signal − L) / step) + 1; onesided (default) keeps bins 0..L/2 of a real signal.
 */
import type { Kernel } from '../../kernels/ir.js';
import { add, cast, i32, load, mul, v } from '../../kernels/build.js';
import type { FedElement } from '../../ir/graph.js';
import { extentI32, extentOf } from '../../kernels/extent.js';
import * as sym from '../../ir/symbolic.js';
import { sizeOf } from '../../ir/tensor.js';
import { OpError, attrInt, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { FLOATS, typedInput } from '../elementwise/common.js';
import { dftKernel } from './fourier.js';
import { constIntScalar } from './common.js';

interface StftPlan {
  batch: number;
  signal: number;
  complex: boolean;
  /** a number, or undefined when fed at run time (the kernel reads it) */
  step: number | undefined;
  length: sym.SymLike;
  frames: sym.SymLike;
  bins: sym.SymLike;
}

/** The sizes fed at run time, as data-shapes.ts declares them: frame_length's, the frame count's. */
export interface StftFed {
  length: () => sym.SymLike;
  frames: (length: sym.SymLike) => sym.SymLike;
}

/** frame_step (1) or frame_length (3) fed at run time: a scalar int32 or int64 input that is no constant. */
export function stftSizeFed(ctx: OpContext, i: 1 | 3): boolean {
  const t = ctx.inputs[i];
  if (!t || ctx.consts[i]) return false;
  if (i === 3 && ctx.inputs[2]) return false; // the window's length is L: frame_length must be a constant
  typedInput(ctx, i, ['int32', 'int64']);
  if (sizeOf(t.shape) !== 1 || t.shape.length > 1)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `${i === 1 ? 'frame_step' : 'frame_length'} must be a scalar, found shape [${t.shape}]`,
    );
  return true;
}

/**
 * The plan, its sizes expressions over the symbols of `fed` (infer sees 1 for a fed size — a value
 * every bound admits — and the frame count that gives).
 */
export function stftPlan(ctx: OpContext, fed: StftFed): StftPlan {
  const x = typedInput(ctx, 0, FLOATS);
  if (x.shape.length !== 3 || (x.shape[2] !== 1 && x.shape[2] !== 2))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `signal must have shape [batch, length, 1] (real) or [batch, length, 2] (complex), found [${x.shape}]`,
    );
  const [batch, signal, channels] = x.shape;
  const stepFed = stftSizeFed(ctx, 1);
  const step = stepFed ? undefined : constIntScalar(ctx, 1, 'frame_step');
  if (!stepFed && (step === undefined || !Number.isInteger(step) || step < 1))
    throw new OpError(ctx.node, ctx.opset, `frame_step must be a positive integer, found ${step}`);
  const window = ctx.inputs[2] ? typedInput(ctx, 2, [x.dtype]) : undefined;
  if (window && window.shape.length !== 1)
    throw new OpError(ctx.node, ctx.opset, `window must be 1-D, found shape [${window.shape}]`);
  const given = stftSizeFed(ctx, 3) ? fed.length() : constIntScalar(ctx, 3, 'frame_length');
  const length = window?.shape[0] ?? given;
  if (length === undefined)
    throw new OpError(ctx.node, ctx.opset, 'one of window (input 2) or frame_length (input 3) is required');
  if (given !== undefined && given !== length)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `frame_length ${given} differs from the window's length ${length}`,
    );
  if (typeof length === 'number' && (length < 1 || length > signal))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `frame length ${length} must be in [1, ${signal}] (the signal length)`,
    );
  const complex = channels === 2;
  const onesided = attrInt(ctx.node, 'onesided', 1) !== 0;
  if (onesided && complex)
    throw new OpError(
      ctx.node,
      ctx.opset,
      'onesided=1 is not supported for a complex signal; set onesided=0',
    );
  return {
    batch,
    signal,
    complex,
    step,
    length,
    frames: step === undefined ? fed.frames(length) : sym.add(sym.floorDiv(sym.sub(signal, length), step), 1),
    bins: onesided ? sym.add(sym.floorDiv(length, 2), 1) : length,
  };
}

const stft: OpDef = {
  sinceVersion: 17,
  // sizes fed at run time are typed at their bounds by passes/data-shapes.ts
  infer(ctx) {
    const p = stftPlan(ctx, { length: () => 1, frames: () => ctx.inputs[0]!.shape[1] });
    return [
      {
        dtype: ctx.inputs[0]!.dtype,
        shape: [p.batch, sym.constValue(p.frames)!, sym.constValue(p.bins)!, 2],
      },
    ];
  },
  lower(ctx: OpContext, io: LowerIO): Kernel[] {
    const symbol = (fed: (f: FedElement) => boolean) =>
      sym.sym(io.sizes!.find((s) => s.fed && fed(s.fed))!.symbol);
    const p = stftPlan(ctx, {
      length: () => symbol((f) => f.input === ctx.node.inputs[3]),
      frames: () => symbol((f) => f.frames !== undefined),
    });
    // a fed frame_step is read from its input
    const step = p.step === undefined ? cast('i32', load(io.inputs[1]!, i32(0))) : i32(p.step);
    const [b, f] = [v('b'), v('f')];
    const cin = p.complex ? 2 : 1;
    const [length, frames, bins] = [p.length, p.frames, p.bins].map(extentOf);
    return [
      dftKernel({
        name: ctx.node.name,
        outer: [
          { v: 'b', n: p.batch },
          { v: 'f', n: frames },
        ],
        length,
        samples: length,
        bins,
        inverse: false,
        x: io.inputs[0]!,
        input: (n) => mul(add(add(mul(b, i32(p.signal)), mul(f, step)), n), i32(cin)),
        complex: p.complex,
        ...(io.inputs[2] ? { window: io.inputs[2] } : {}),
        y: io.outputs[0],
        output: (k) => mul(add(mul(add(mul(b, extentI32(frames)), f), extentI32(bins)), k), i32(2)),
        // a fed frame length is at most the signal's
        twiddles: io.scratch('float64', 2 * (typeof length === 'number' ? length : p.signal)),
      }),
    ];
  },
};

registerOp('STFT', stft);
