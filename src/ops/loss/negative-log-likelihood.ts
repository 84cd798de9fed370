/** NegativeLogLikelihoodLoss (opset 12, 13): the loss of log-probabilities already computed. */
import type { Kernel } from '../../kernels/ir.js';
import { registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { lossOutputType, lossShape, nllKernel } from './nll.js';

const nll: OpDef = {
  sinceVersion: 12,
  infer: (ctx) => [lossOutputType(lossShape(ctx, 'input'))],
  lower(ctx: OpContext, io: LowerIO): Kernel[] {
    const s = lossShape(ctx, 'input');
    const [x, target, weight] = io.inputs;
    return [nllKernel(ctx.node.name, s, x!, target!, weight, io.outputs[0])];
  },
};

registerOp('NegativeLogLikelihoodLoss', nll);
