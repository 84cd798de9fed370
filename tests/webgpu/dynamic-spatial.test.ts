/**
 * CNN ops over an image width known only at run time on the webgpu backend (#11), on Dawn: one bundle
 * built for wasm and webgpu, run on the GPU at several widths, matching onnxruntime-node.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { ortMismatches } from '../helpers/ort-oracle.js';
import { sameStridedCnn, widthKeepingCnn } from '../helpers/width-cnn.js';
import { crnnRec } from '../../scripts/bench-models.js';
import { nodeGpu } from './fixture.js';

describe.each([
  [
    'a CNN with strided, dilated, grouped and depthwise Convs and pools',
    widthKeepingCnn(),
    12,
    5,
    [5, 33, 64],
  ],
  ["the bench's OCR recognizer (crnn-rec)", crnnRec().bytes, 48, 16, [16, 100, 320]],
])('%s, compiled once for wasm and webgpu with a run-time width', (_, bytes, height, least, widths) => {
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, {
      shapes: { x: [1, 3, height, { min: least, max: 320 }] },
      targets: ['wasm', 'webgpu'],
      relaxed: false,
    });
    model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  }, 300_000);
  afterAll(() => model.dispose());

  test.each(widths)(
    'matches onnxruntime at width %i',
    async (w) => {
      expect(model.backend).toBe('webgpu');
      const x = randomTensor([1, 3, height, w], seededRandom(w));
      expect(await ortMismatches(bytes, model, { x })).toEqual([]);
    },
    120_000,
  );
});

describe('auto_pad SAME at stride 2 over a run-time width bounded with a step of 4, on webgpu', () => {
  const bytes = sameStridedCnn('SAME_LOWER');
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, {
      shapes: { x: [1, 3, 8, { min: 4, max: 64, step: 4 }] },
      targets: ['wasm', 'webgpu'],
      relaxed: false,
    });
    model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  }, 120_000);
  afterAll(() => model.dispose());

  test.each([4, 36])('matches onnxruntime at width %i', async (w) => {
    expect(model.backend).toBe('webgpu');
    const x = randomTensor([1, 3, 8, w], seededRandom(w));
    expect(await ortMismatches(bytes, model, { x })).toEqual([]);
  });
});
