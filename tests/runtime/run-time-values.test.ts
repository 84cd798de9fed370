/**
 * Inputs that only change arithmetic, read by the kernel at run time (#11): Trilu's k moves the diagonal
 * and no size, so a k fed at run time runs in one bundle for every value, matching onnxruntime-node.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { ortMismatches } from '../helpers/ort-oracle.js';

/** Trilu of a [4, 5] input with k a model input (a 0-d int64, as the ONNX spec declares it). */
const triluModel = (upper: number) =>
  buildModel({
    opset: 14,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [4, 5] },
      { name: 'k', dtype: 'int64', shape: [] },
    ],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: [{ op: 'Trilu', inputs: ['x', 'k'], outputs: ['y'], attrs: { upper: { i: upper } } }],
  });

const scalarK = (n: bigint): HostTensor => ({ dtype: 'int64', dims: [], data: BigInt64Array.of(n) });

// beyond ±(rows + cols) every element is kept or zeroed alike; ±2^40 would wrap if narrowed to i32 unclamped
const TRILU_KS = [-(2n ** 40n), -7n, -1n, 0n, 2n, 9n, 2n ** 40n];

describe.each([0, 1])('Trilu (upper %i) with k fed at run time', (upper) => {
  const bytes = triluModel(upper);
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model?.dispose());

  test('keeps k a model input', () => {
    expect(model.inputs.map((i) => i.name)).toEqual(['x', 'k']);
  });

  test.each(TRILU_KS)('matches onnxruntime at k = %s, run after run in one bundle', async (k) => {
    const x = randomTensor([4, 5], seededRandom(Number(k % 97n) + 50));
    expect(await ortMismatches(bytes, model, { x, k: scalarK(k) })).toEqual([]);
  });
});

test('refuses a k of more than one value, naming the input', async () => {
  const bytes = buildModel({
    opset: 14,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [4, 5] },
      { name: 'k', dtype: 'int64', shape: [2] },
    ],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: [{ op: 'Trilu', inputs: ['x', 'k'], outputs: ['y'], name: 'band' }],
  });
  await expect(compileModel(bytes)).rejects.toThrow(
    'Trilu node "band" (opset 14): k (input 1) must hold one value, found shape [2]',
  );
});
