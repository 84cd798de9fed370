/**
 * A detection CNN with a run-time height and width on the webgpu backend (#11), on Dawn: Resize and
 * ConvTranspose variants, and the bench's DBNet-style detector compiled once with stepped bounds
 * (`32..128:32`), run on the GPU at two sizes (one not square), matching onnxruntime-node.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import type { CompileOptions } from '../../src/compiler/options.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { ortMismatches } from '../helpers/ort-oracle.js';
import { convTransposeVariants, resizeVariants } from '../helpers/resize-models.js';
import { dbnetDet } from '../../scripts/bench-models.js';
import { nodeGpu } from './fixture.js';

const bounds = (min: number, max: number, step?: number) => ({ min, max, ...(step && { step }) });
const feedsOf = (spec: Record<string, number[]>, seed: number): Record<string, HostTensor> =>
  Object.fromEntries(
    Object.entries(spec).map(([name, dims], i) => [name, randomTensor(dims, seededRandom(seed + i))]),
  );

describe.each([
  [
    'Resize variants',
    resizeVariants(13),
    { dims: { height: bounds(2, 24), width: bounds(2, 24), lh: bounds(1, 40), lw: bounds(1, 40) } },
    [
      { x: [1, 2, 5, 7], like: [1, 1, 11, 3] },
      { x: [1, 2, 24, 9], like: [1, 1, 40, 17] },
    ],
  ],
  [
    'ConvTranspose variants',
    convTransposeVariants(),
    { dims: { height: bounds(1, 20), width: bounds(1, 20) } },
    [{ x: [1, 4, 3, 8] }, { x: [1, 4, 20, 13] }],
  ],
  [
    "the bench's DBNet-style detector",
    dbnetDet({ blocksPerStage: 1 }).bytes,
    { shapes: { x: [1, 3, bounds(32, 128, 32), bounds(32, 128, 32)] } },
    [{ x: [1, 3, 32, 32] }, { x: [1, 3, 64, 96] }],
  ],
] as [string, Uint8Array, CompileOptions, Record<string, number[]>[]][])(
  '%s, compiled once for wasm and webgpu with a run-time height and width',
  (_, bytes, options, sizes) => {
    let model: Model;
    beforeAll(async () => {
      const files = await compileModel(bytes, { ...options, targets: ['wasm', 'webgpu'], relaxed: false });
      model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
    }, 300_000);
    afterAll(() => model.dispose());

    test.each(sizes)(
      'matches onnxruntime at %o',
      async (spec) => {
        expect(model.backend).toBe('webgpu');
        expect(await ortMismatches(bytes, model, feedsOf(spec, spec.x[2] * 7 + spec.x[3]))).toEqual([]);
      },
      120_000,
    );
  },
);
