/**
 * DFT: the Fourier transform along one axis of a real ([..., 1]) or complex ([..., 2]) signal, output
 * complex. dft_length (a constant input) zero-pads or truncates the signal; onesided keeps bins
 * 0..L/2 of a real signal's forward transform. Opset 17 takes the axis as an attribute (default 1),
 * opset 20 as a constant input (default -2).
 */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Kernel } from '../../kernels/ir.js';
import { add, i32, mul, v } from '../../kernels/build.js';
import { OpError, attrInt, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { FLOATS, typedInput } from '../elementwise/common.js';
import { dftKernel } from './fourier.js';
import { constIntScalar } from './common.js';

interface DftPlan {
  x: TensorType;
  axis: number;
  length: number;
  bins: number;
  inverse: boolean;
  complex: boolean;
}

function plan(ctx: OpContext, axisFromInput: boolean): DftPlan {
  const x = typedInput(ctx, 0, FLOATS);
  const rank = x.shape.length;
  const last = x.shape[rank - 1];
  if (rank < 2 || (last !== 1 && last !== 2))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `input must have shape [..., signal, 1] (real) or [..., signal, 2] (complex), found [${x.shape}]`,
    );
  const rawAxis = axisFromInput ? (constIntScalar(ctx, 2, 'axis') ?? -2) : attrInt(ctx.node, 'axis', 1);
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  if (axis < 0 || axis > rank - 2)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `axis ${rawAxis} must name a signal dim in [${-rank}, -2] or [0, ${rank - 2}] for input shape [${x.shape}]`,
    );
  const length = constIntScalar(ctx, 1, 'dft_length') ?? x.shape[axis];
  if (!Number.isInteger(length) || length < 1)
    throw new OpError(ctx.node, ctx.opset, `dft_length must be a positive integer, found ${length}`);
  const inverse = attrInt(ctx.node, 'inverse', 0) !== 0;
  const onesided = attrInt(ctx.node, 'onesided', 0) !== 0;
  const complex = last === 2;
  if (onesided && (complex || inverse))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `onesided=1 is not supported with ${complex ? 'a complex input' : 'inverse=1'}; only a real signal's forward transform is one-sided`,
    );
  return { x, axis, length, bins: onesided ? Math.floor(length / 2) + 1 : length, inverse, complex };
}

function dft(sinceVersion: number): OpDef {
  const axisFromInput = sinceVersion >= 20;
  return {
    sinceVersion,
    infer(ctx) {
      const p = plan(ctx, axisFromInput);
      const shape = p.x.shape.map((d, a) => (a === p.axis ? p.bins : a === p.x.shape.length - 1 ? 2 : d));
      return [{ dtype: p.x.dtype, shape }];
    },
    lower(ctx: OpContext, io: LowerIO): Kernel[] {
      const p = plan(ctx, axisFromInput);
      const shape = p.x.shape;
      const outer = sizeOf(shape.slice(0, p.axis));
      const inner = sizeOf(shape.slice(p.axis + 1, -1));
      const signal = shape[p.axis];
      const cin = shape[shape.length - 1];
      const [o, i] = [v('o'), v('i')];
      // [outer, signal, inner, cin] in, [outer, bins, inner, 2] out
      const at = (pos: ReturnType<typeof v>, extent: number, channels: number) =>
        mul(add(mul(add(mul(o, i32(extent)), pos), i32(inner)), i), i32(channels));
      return [
        dftKernel({
          name: ctx.node.name,
          outer: [
            { v: 'o', n: outer },
            { v: 'i', n: inner },
          ],
          length: p.length,
          samples: Math.min(signal, p.length),
          bins: p.bins,
          inverse: p.inverse,
          x: io.inputs[0]!,
          input: (n) => at(n, signal, cin),
          complex: p.complex,
          y: io.outputs[0],
          output: (k) => at(k, p.bins, 2),
          twiddles: io.scratch('float64', 2 * p.length),
        }),
      ];
    },
  };
}

registerOp('DFT', dft(17));
registerOp('DFT', dft(20));
