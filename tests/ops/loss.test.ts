/** NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: validation, ignore_index, reductions, oracle cases. */
import { describe, expect, it } from 'vitest';
import '../../src/ops/loss/index.js';
import { expectClose, infer, run, t, values } from './elementwise-harness.js';
import { compareWithOrt, type NodeCase } from '../helpers/ort-oracle.js';

// input [N=2, C=3, D=2] as log-probabilities
const logp = t('float32', [2, 3, 2], [-1, -2, -3, -4, -5, -6, -0.5, -1.5, -2.5, -3.5, -4.5, -5.5]);
const target = t('int64', [2, 2], [0, 2, 1, -1]);

describe('NegativeLogLikelihoodLoss', () => {
  it('gathers -input[n, target, d] and zeroes ignored targets, even out-of-range ones', () => {
    const none = run('NegativeLogLikelihoodLoss', 13, [logp, target], {
      reduction: 'none',
      ignore_index: -1,
    })[0];
    expect(none.dims).toEqual([2, 2]);
    expect(values(none)).toEqual([1, 6, 2.5, 0]);
    const weight = t('float32', [3], [1, 2, 0.5]);
    const sum = run('NegativeLogLikelihoodLoss', 13, [logp, target, weight], {
      reduction: 'sum',
      ignore_index: -1,
    })[0];
    expect(sum.dims).toEqual([]);
    expect(values(sum)).toEqual([1 + 3 + 5]);
  });

  it('divides the mean by the sum of the gathered weights', () => {
    const weight = t('float64', [3], [1, 2, 0.5]);
    const x = t('float64', [2, 3, 2], values(logp));
    const tgt = t('int32', [2, 2], [0, 2, 1, 1]);
    const mean = run('NegativeLogLikelihoodLoss', 13, [x, tgt, weight])[0];
    expectClose(values(mean), [(1 + 3 + 5 + 7) / (1 + 0.5 + 2 + 2)]);
  });

  it('checks the target shape, the weight and the reduction', () => {
    const x = { dtype: 'float32' as const, shape: [2, 3, 4] };
    expect(() => infer('NegativeLogLikelihoodLoss', 13, [x, { dtype: 'int64', shape: [2, 3] }])).toThrow(
      /target has shape \[2,3\]; input \[2,3,4\] needs target shape \[2,4\]/,
    );
    expect(() =>
      infer('NegativeLogLikelihoodLoss', 13, [
        x,
        { dtype: 'int64', shape: [2, 4] },
        { dtype: 'float32', shape: [4] },
      ]),
    ).toThrow(/weight has shape \[4\]; expected \[3\]/);
    expect(() =>
      infer('NegativeLogLikelihoodLoss', 13, [x, { dtype: 'int64', shape: [2, 4] }], { reduction: 'max' }),
    ).toThrow(/reduction 'max' is not supported/);
    expect(() => infer('NegativeLogLikelihoodLoss', 13, [x, { dtype: 'float32', shape: [2, 4] }])).toThrow(
      /dtype float32; expected one of int32, int64/,
    );
  });
});

describe('SoftmaxCrossEntropyLoss', () => {
  it('returns the loss and the log-softmax over the class axis', () => {
    const scores = t('float32', [1, 3], [1, 2, 3]);
    const [loss, logProb] = run('SoftmaxCrossEntropyLoss', 13, [scores, t('int64', [1], [2])]);
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expectClose(values(logProb), [1 - lse, 2 - lse, 3 - lse]);
    expectClose(values(loss), [lse - 3]);
  });
});

const labels = (dims: number[], values: number[]) => ({ dtype: 'int64' as const, dims, values });
const oracleCases: Record<string, NodeCase> = {
  'NLL float64 mean, weight, ignore_index inside the class range': {
    op: 'NegativeLogLikelihoodLoss',
    inputs: [
      { dtype: 'float64', dims: [3, 4, 2] },
      labels([3, 2], [0, 3, 1, 1, 2, 3]),
      { dtype: 'float64', dims: [4], positive: true },
    ],
    attrs: { ignore_index: { i: 1 } },
    outputs: ['float64'],
  },
  'SCE 2-D sum with weights, both outputs': {
    op: 'SoftmaxCrossEntropyLoss',
    inputs: [
      { dtype: 'float32', dims: [4, 5] },
      labels([4], [4, 0, 2, 2]),
      { dtype: 'float32', dims: [5], positive: true },
    ],
    attrs: { reduction: { s: 'sum' } },
    outputs: ['float32', 'float32'],
  },
  'SCE 4-D none': {
    op: 'SoftmaxCrossEntropyLoss',
    inputs: [{ dtype: 'float32', dims: [2, 3, 2, 2] }, labels([2, 2, 2], [0, 1, 2, 0, 1, 2, 0, 1])],
    attrs: { reduction: { s: 'none' } },
    outputs: ['float32'],
  },
};

describe('losses against onnxruntime', () => {
  for (const [name, c] of Object.entries(oracleCases))
    it(name, async () => {
      expect(await compareWithOrt(c)).toBeUndefined();
    });
});
