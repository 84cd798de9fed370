/**
 * A detection CNN with a run-time height and width (#11): Resize (nearest and linear, by scales and to
 * the sizes of another tensor's shape), ConvTranspose, and the bench's DBNet-style detector, whose FPN
 * adds and concatenates levels that are equal only when the image is a multiple of 32 (the step in
 * `height=32..256:32`), compiled once and matching onnxruntime-node at several sizes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import type { Feed } from '../../src/runtime/types.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { ortMismatches } from '../helpers/ort-oracle.js';
import { convTransposeVariants, resizeVariants } from '../helpers/resize-models.js';
import { dbnetDet } from '../../scripts/bench-models.js';

const bounds = (min: number, max: number, step?: number) => ({ min, max, ...(step && { step }) });

describe.each([13, 19] as const)('Resize variants (opset %i) over a run-time height and width', (opset) => {
  const bytes = resizeVariants(opset);
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, {
      dims: { height: bounds(2, 24), width: bounds(2, 24), lh: bounds(1, 40), lw: bounds(1, 40) },
      relaxed: false,
    });
    model = await loadModel(files, { backend: 'wasm' });
  }, 120_000);
  afterAll(() => model.dispose());

  test.each([
    [2, 2, 1, 1],
    [5, 7, 11, 3],
    [24, 9, 40, 17],
  ])('matches onnxruntime at %i×%i (like %i×%i)', async (h, w, lh, lw) => {
    const x = randomTensor([1, 2, h, w], seededRandom(h * 31 + w));
    const like = randomTensor([1, 1, lh, lw], seededRandom(lh));
    expect(await ortMismatches(bytes, model, { x, like })).toEqual([]);
  });
});

describe('ConvTranspose variants over a run-time height and width', () => {
  const bytes = convTransposeVariants();
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, {
      dims: { height: bounds(1, 20), width: bounds(1, 20) },
      relaxed: false,
    });
    model = await loadModel(files, { backend: 'wasm' });
  }, 120_000);
  afterAll(() => model.dispose());

  test.each([
    [1, 1],
    [3, 8],
    [20, 13],
    [16, 16],
  ])('matches onnxruntime at %i×%i', async (h, w) => {
    const x = randomTensor([1, 4, h, w], seededRandom(h + 100 * w));
    expect(await ortMismatches(bytes, model, { x })).toEqual([]);
  });
});

describe("the bench's DBNet-style detector compiled once with --shape x=1,3,32..256:32,32..256:32", () => {
  const { bytes } = dbnetDet({ blocksPerStage: 1 });
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, {
      shapes: { x: [1, 3, bounds(32, 256, 32), bounds(32, 256, 32)] },
      relaxed: false,
    });
    model = await loadModel(files, { backend: 'wasm' });
  }, 300_000);
  afterAll(() => model.dispose());

  test('lists the stepped dims on the input and the probability map', () => {
    expect(model.inputs[0].shape).toMatchObject([
      1,
      3,
      { name: 'height', min: 32, max: 256, step: 32 },
      { name: 'width', min: 32, max: 256, step: 32 },
    ]);
    expect(model.outputs[0].shape).toMatchObject([
      1,
      1,
      { name: 'height', step: 32 },
      { name: 'width', step: 32 },
    ]);
  });

  test.each([
    [32, 32],
    [64, 160],
    [256, 96],
  ])('matches onnxruntime at %i×%i', async (h, w) => {
    const x = randomTensor([1, 3, h, w], seededRandom(h + w));
    expect(await ortMismatches(bytes, model, { x })).toEqual([]);
  });

  test('a size off the step or out of bounds is one error naming the input, dim and bounds; the next run works', async () => {
    const feed = (h: number, w: number): Record<string, Feed> => ({
      x: randomTensor([1, 3, h, w], seededRandom(1)) as Feed,
    });
    await expect(model.run(feed(64, 100))).rejects.toThrow(
      'input "x" axis 3 is 100, not a multiple of 32 as "width" must be (32..256:32)',
    );
    await expect(model.run(feed(288, 64))).rejects.toThrow(
      'input "x" axis 2 is 288, outside the bounds of "height" (32..256:32)',
    );
    const out = await model.run(feed(64, 32));
    expect(out['sigmoid_0.tmp_0'].dims).toEqual([1, 1, 64, 32]);
  });

  test('without the step, the FPN levels cannot be shown equal: one compile error that says to add one', async () => {
    await expect(
      compileModel(bytes, { shapes: { x: [1, 3, bounds(32, 256), bounds(32, 256)] }, relaxed: false }),
    ).rejects.toThrow(/Add node .* broadcasts against .*a step in the bounds/);
  });
});
