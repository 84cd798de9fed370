/** Det: shape inference, validation, pivoting and singular matrices, and onnxruntime on random batches. */
import { describe, expect, it } from 'vitest';
import '../../src/ops/linalg/index.js';
import { expectClose, infer, run, t, values } from './elementwise-harness.js';
import { compareWithOrt } from '../helpers/ort-oracle.js';

describe('Det', () => {
  it('needs row swaps for a zero leading entry and flips the sign for each', () => {
    // [[0,1],[1,0]] has det -1; the 3×3 permutation of a diagonal matrix keeps |det| = 2·3·4.
    const m = t('float64', [2, 3, 3], [0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 2, 0, 3, 0, 4, 0, 0]);
    expect(values(run('Det', 11, [m], {}, [0])[0])).toEqual([-1, -24]);
    expect(values(run('Det', 11, [t('float32', [2, 2], [0, 1, 1, 0])], {}, [0])[0])).toEqual([-1]);
  });

  it('gives 0 for singular matrices and 1 for an empty one', () => {
    const singular = t('float32', [3, 3], [1, 2, 3, 2, 4, 6, 7, 8, 9]);
    expect(values(run('Det', 11, [singular], {}, [0])[0]).map(Math.abs)).toEqual([0]);
    const empty = run('Det', 11, [t('float32', [2, 0, 0], [])], {}, [0])[0];
    expect(empty.dims).toEqual([2]);
    expect(values(empty)).toEqual([1, 1]);
  });

  it('computes a float64 determinant to full precision', () => {
    const m = t('float64', [3, 3], [2, -1, 0.5, 4, 3, -2, -1, 0.25, 5]);
    // cofactor expansion along the first row
    const expected = 2 * (3 * 5 - -2 * 0.25) - -1 * (4 * 5 - -2 * -1) + 0.5 * (4 * 0.25 - 3 * -1);
    expectClose(values(run('Det', 11, [m], {}, [0])[0]), [expected], 1e-12);
  });

  it('infers the batch shape and rejects non-square or integer inputs', () => {
    expect(infer('Det', 11, [{ dtype: 'float32', shape: [4, 5, 3, 3] }])[0].shape).toEqual([4, 5]);
    expect(infer('Det', 11, [{ dtype: 'float16', shape: [2, 2] }])[0]).toEqual({
      dtype: 'float16',
      shape: [],
    });
    expect(() => infer('Det', 11, [{ dtype: 'float32', shape: [2, 3] }])).toThrow(
      /shape \[2,3\]; expected \[\.\.\., M, M\]/,
    );
    expect(() => infer('Det', 11, [{ dtype: 'int32', shape: [2, 2] }])).toThrow(/dtype int32/);
  });

  it('matches onnxruntime on a batch of random 5×5 matrices', async () => {
    const c = { op: 'Det', opset: 11, inputs: [{ dtype: 'float32' as const, dims: [3, 2, 5, 5] }] };
    expect(await compareWithOrt({ ...c, outputs: ['float32'], rtol: 1e-4, atol: 1e-5 })).toBeUndefined();
  });
});
