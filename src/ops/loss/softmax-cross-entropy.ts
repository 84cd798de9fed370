/**
 * SoftmaxCrossEntropyLoss (opset 12, 13): log-softmax over the class axis (output 1, log_prob,
 * optional), then the negative log-likelihood of the labels.
 */
import type { BufRef, Kernel, Scalar } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { add, cnst, i32, load, local, loop, max, mul, set, store, sub, un, v } from '../../kernels/build.js';
import { registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { lossOutputType, lossShape, nllKernel, type LossShape } from './nll.js';

/** logp[n, c, d] = x[n, c, d] - max_c x - log Σ_c exp(x - max), per (n, d). */
function logSoftmaxKernel(name: string, s: LossShape, x: BufRef, logp: BufRef): Kernel {
  const t: Scalar = scalarOf(s.dtype);
  const at = (c: string) => add(add(mul(v('n'), i32(s.C * s.D)), mul(v(c), i32(s.D))), v('d'));
  const m = v('m', t);
  return {
    name,
    body: [
      local('m', t, cnst(t, 0)),
      local('lse', t, cnst(t, 0)),
      loop('n', s.N, [
        loop('d', s.D, [
          set('m', cnst(t, -Infinity)),
          loop('c1', s.C, [set('m', max(m, load(x, at('c1'))))]),
          set('lse', cnst(t, 0)),
          loop('c2', s.C, [set('lse', add(v('lse', t), un('exp', sub(load(x, at('c2')), m))))]),
          set('lse', add(m, un('log', v('lse', t)))),
          loop('c3', s.C, [store(logp, at('c3'), sub(load(x, at('c3')), v('lse', t)))]),
        ]),
      ]),
    ],
  };
}

const softmaxCrossEntropy: OpDef = {
  sinceVersion: 12,
  infer(ctx) {
    const s = lossShape(ctx, 'scores');
    // log_prob is always computed (the loss reads it), so it is always typed; omitted it lives in scratch.
    return [lossOutputType(s), ctx.inputs[0]!];
  },
  lower(ctx: OpContext, io: LowerIO): Kernel[] {
    const s = lossShape(ctx, 'scores');
    const [scores, labels, weights] = io.inputs;
    const logp = io.outputs[1];
    return [
      logSoftmaxKernel(`${ctx.node.name}_log_softmax`, s, scores!, logp),
      nllKernel(ctx.node.name, s, logp, labels!, weights, io.outputs[0]),
    ];
  },
};

registerOp('SoftmaxCrossEntropyLoss', softmaxCrossEntropy);
