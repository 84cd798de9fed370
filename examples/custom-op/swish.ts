/**
 * com.example:Swish — y = x · sigmoid(beta · x), one input, one output of the same shape, a float
 * attribute `beta` (default 1.0). One parallel loop over the elements: the GPU spreads it over
 * invocations, the CPU runs it as a SIMD loop.
 */
import { float, kernel, sigmoid } from '../../src/kernel-lang/index.js';

export const Swish = kernel({
  domain: 'com.example',
  op: 'Swish',
  inputs: { x: 'f32' },
  outputs: { y: 'f32' },
  attrs: { beta: float(1.0) },
  shape: ({ x }) => ({ y: x.shape }),
  body: ({ x, y, beta }, k) => k.forEach(y, (i) => y.set(i, x.at(i).mul(sigmoid(x.at(i).mul(beta))))),
});
