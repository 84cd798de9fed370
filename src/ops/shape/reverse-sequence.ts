/** ReverseSequence: reverse the first seq_len[b] steps along the time axis of each batch entry. */
import type { TensorType } from '../../ir/graph.js';
import { cast, cmp, i32, linearIndex, load, max, min, select, stridesOf, sub } from '../../kernels/build.js';
import { attrInt, OpError, registerOp, type OpContext, type OpDef } from '../registry.js';
import { copyKernel, dataInput, expectDtype } from './common.js';

function layout(ctx: OpContext): { x: TensorType; batchAxis: number; timeAxis: number } {
  const x = dataInput(ctx, 0);
  const lens = expectDtype(ctx, 1, ['int64'], 'sequence_lens');
  const batchAxis = attrInt(ctx.node, 'batch_axis', 1);
  const timeAxis = attrInt(ctx.node, 'time_axis', 0);
  if (x.shape.length < 2)
    throw new OpError(ctx.node, ctx.opset, `input must have rank ≥ 2, found [${x.shape}]`);
  const axes = [batchAxis, timeAxis].sort();
  if (axes[0] !== 0 || axes[1] !== 1)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `batch_axis=${batchAxis} and time_axis=${timeAxis} must be 0 and 1 in some order`,
    );
  if (lens.shape.length !== 1 || lens.shape[0] !== x.shape[batchAxis])
    throw new OpError(
      ctx.node,
      ctx.opset,
      `sequence_lens must have shape [${x.shape[batchAxis]}], found [${lens.shape}]`,
    );
  return { x, batchAxis, timeAxis };
}

const reverseSequence: OpDef = {
  infer: (ctx) => [{ ...layout(ctx).x }],
  lower: (ctx, io) => {
    const { x, batchAxis, timeAxis } = layout(ctx);
    const steps = x.shape[timeAxis];
    return [
      copyKernel(ctx.node.name, x.shape, io.outputs[0], io.inputs[0]!, (idx) => {
        // A length outside [0, steps] is clamped: never a stray read (a fed one the runtime refuses first).
        const len = min(max(cast('i32', load(io.inputs[1]!, idx[batchAxis])), i32(0)), i32(steps));
        const t = idx[timeAxis];
        const from = select(cmp('lt', t, len), sub(sub(len, i32(1)), t), t);
        return linearIndex(
          idx.map((e, i) => (i === timeAxis ? from : e)),
          stridesOf(x.shape),
        );
      }),
    ];
  },
};

registerOp('ReverseSequence', reverseSequence);
