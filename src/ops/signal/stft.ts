/**
 * STFT (opset 17): the DFT of each frame signal[b, f·step .. f·step + L) times the window (rectangular
 * when omitted). frame_step and frame_length are constant inputs; L is the window's length when a window
 * is given. Output [batch, frames, bins, 2]; onesided (default) keeps bins 0..L/2 of a real signal.
 */
import type { Kernel } from '../../kernels/ir.js';
import { add, i32, mul, v } from '../../kernels/build.js';
import { OpError, attrInt, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { FLOATS, typedInput } from '../elementwise/common.js';
import { dftKernel } from './fourier.js';
import { constIntScalar } from './common.js';

interface StftPlan {
  batch: number;
  signal: number;
  complex: boolean;
  step: number;
  length: number;
  frames: number;
  bins: number;
}

function plan(ctx: OpContext): StftPlan {
  const x = typedInput(ctx, 0, FLOATS);
  if (x.shape.length !== 3 || (x.shape[2] !== 1 && x.shape[2] !== 2))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `signal must have shape [batch, length, 1] (real) or [batch, length, 2] (complex), found [${x.shape}]`,
    );
  const [batch, signal, channels] = x.shape;
  const step = constIntScalar(ctx, 1, 'frame_step');
  if (step === undefined || !Number.isInteger(step) || step < 1)
    throw new OpError(ctx.node, ctx.opset, `frame_step must be a positive integer, found ${step}`);
  const window = ctx.inputs[2] ? typedInput(ctx, 2, [x.dtype]) : undefined;
  if (window && window.shape.length !== 1)
    throw new OpError(ctx.node, ctx.opset, `window must be 1-D, found shape [${window.shape}]`);
  const given = constIntScalar(ctx, 3, 'frame_length');
  const length = window?.shape[0] ?? given;
  if (length === undefined)
    throw new OpError(ctx.node, ctx.opset, 'one of window (input 2) or frame_length (input 3) is required');
  if (given !== undefined && given !== length)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `frame_length ${given} differs from the window's length ${length}`,
    );
  if (length < 1 || length > signal)
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
    frames: Math.floor((signal - length) / step) + 1,
    bins: onesided ? Math.floor(length / 2) + 1 : length,
  };
}

const stft: OpDef = {
  sinceVersion: 17,
  infer(ctx) {
    const p = plan(ctx);
    return [{ dtype: ctx.inputs[0]!.dtype, shape: [p.batch, p.frames, p.bins, 2] }];
  },
  lower(ctx: OpContext, io: LowerIO): Kernel[] {
    const p = plan(ctx);
    const [b, f] = [v('b'), v('f')];
    const cin = p.complex ? 2 : 1;
    return [
      dftKernel({
        name: ctx.node.name,
        outer: [
          { v: 'b', n: p.batch },
          { v: 'f', n: p.frames },
        ],
        length: p.length,
        samples: p.length,
        bins: p.bins,
        inverse: false,
        x: io.inputs[0]!,
        input: (n) => mul(add(add(mul(b, i32(p.signal)), mul(f, i32(p.step))), n), i32(cin)),
        complex: p.complex,
        ...(io.inputs[2] ? { window: io.inputs[2] } : {}),
        y: io.outputs[0],
        output: (k) => mul(add(mul(add(mul(b, i32(p.frames)), f), i32(p.bins)), k), i32(2)),
        twiddles: io.scratch('float64', 2 * p.length),
      }),
    ];
  },
};

registerOp('STFT', stft);
