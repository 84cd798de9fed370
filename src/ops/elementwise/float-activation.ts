/**
 * The float activations, each written in the kernel language as its expression per element
 * (`elementwise`): the registry lowers them through `languageOp`, so they fuse into elementwise chains
 * and run on float16 (computed as f32), float32 and float64 like every built-in elementwise op.
 */
import { elementwise } from '../../kernel-lang/elementwise.js';
import { float, string } from '../../kernel-lang/kernel.js';
import { abs, erf, exp, log, max, min, select, sigmoid, tanh, type Value } from '../../kernel-lang/value.js';
import { registerOp } from '../registry.js';
import { languageOp } from './common.js';

/** log(1 + e^x) without overflow: max(x, 0) + log(1 + e^-|x|). */
const softplus = (x: Value) => max(x, 0).add(log(exp(abs(x).neg()).add(1)));

export const LeakyRelu = elementwise({
  op: 'LeakyRelu',
  inputs: ['x'],
  attrs: { alpha: float(0.01) },
  fn: ({ x, alpha }) => select(x.lt(0), alpha.mul(x), x),
});
export const ThresholdedRelu = elementwise({
  op: 'ThresholdedRelu',
  inputs: ['x'],
  attrs: { alpha: float(1) },
  fn: ({ x, alpha }) => select(x.gt(alpha), x, 0),
});
export const Elu = elementwise({
  op: 'Elu',
  inputs: ['x'],
  attrs: { alpha: float(1) },
  fn: ({ x, alpha }) => select(x.lt(0), alpha.mul(exp(x).sub(1)), x),
});
export const Selu = elementwise({
  op: 'Selu',
  inputs: ['x'],
  attrs: { alpha: float(1.6732632423543772), gamma: float(1.0507009873554805) },
  fn: ({ x, alpha, gamma }) => gamma.mul(select(x.gt(0), x, alpha.mul(exp(x).sub(1)))),
});
export const Celu = elementwise({
  op: 'Celu',
  inputs: ['x'],
  attrs: { alpha: float(1) },
  fn: ({ x, alpha }) => max(x, 0).add(min(alpha.mul(exp(x.div(alpha)).sub(1)), 0)),
});
export const Sigmoid = elementwise({ op: 'Sigmoid', inputs: ['x'], fn: ({ x }) => sigmoid(x) });
export const HardSigmoid = elementwise({
  op: 'HardSigmoid',
  inputs: ['x'],
  attrs: { alpha: float(0.2), beta: float(0.5) },
  fn: ({ x, alpha, beta }) => max(0, min(1, alpha.mul(x).add(beta))),
});
export const HardSwish = elementwise({
  op: 'HardSwish',
  inputs: ['x'],
  fn: ({ x }) => x.mul(max(0, min(1, x.div(6).add(0.5)))),
});
export const Softplus = elementwise({ op: 'Softplus', inputs: ['x'], fn: ({ x }) => softplus(x) });
export const Softsign = elementwise({
  op: 'Softsign',
  inputs: ['x'],
  fn: ({ x }) => x.div(abs(x).add(1)),
});
export const Mish = elementwise({ op: 'Mish', inputs: ['x'], fn: ({ x }) => x.mul(tanh(softplus(x))) });

/** x·Φ(x), Φ the normal CDF: exactly (erf) or by the tanh approximation */
export const Gelu = elementwise({
  op: 'Gelu',
  inputs: ['x'],
  attrs: { approximate: string('none', ['none', 'tanh']) },
  fn: ({ x, approximate }) => {
    const half = x.mul(0.5);
    if (approximate === 'tanh') {
      const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
      return half.mul(tanh(inner).add(1));
    }
    return half.mul(erf(x.mul(Math.SQRT1_2)).add(1));
  },
});

registerOp('LeakyRelu', languageOp(LeakyRelu));
registerOp('ThresholdedRelu', languageOp(ThresholdedRelu, 10));
registerOp('Elu', languageOp(Elu));
registerOp('Selu', languageOp(Selu));
registerOp('Celu', languageOp(Celu, 12));
registerOp('Sigmoid', languageOp(Sigmoid));
registerOp('HardSigmoid', languageOp(HardSigmoid));
registerOp('HardSwish', languageOp(HardSwish, 14));
registerOp('Softplus', languageOp(Softplus));
registerOp('Softsign', languageOp(Softsign));
registerOp('Mish', languageOp(Mish, 18));
registerOp('Gelu', languageOp(Gelu, 20));
