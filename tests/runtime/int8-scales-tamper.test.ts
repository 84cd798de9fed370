/**
 * An int8 bundle's per-channel scales live in weights.bin, and manifest.json says where (quant.scalesAt):
 * the place is checked against the weight (one scale per channel) and weights.bin, and the scales' bytes
 * are covered by weights.bin's sha256, so tampering with either is refused with one clear message.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel, type Feed } from '../../src/runtime/index.js';
import type { Manifest } from '../../src/bundle/manifest.js';
import { buildModel, randomTensor, seededRandom } from '../helpers/onnx-builder.js';

const rand = seededRandom(23);
const bundle = await compileModel(
  buildModel({
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 16, 8, 8] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 32, 8, 8] }],
    initializers: [{ name: 'conv.W', tensor: randomTensor([32, 16, 3, 3], rand) }],
    nodes: [{ op: 'Conv', inputs: ['x', 'conv.W'], outputs: ['y'], attrs: { pads: { ints: [1, 1, 1, 1] } } }],
  }),
  { weights: 'int8', relaxed: false },
);
const conv = bundle.manifest.weights.find((w) => w.name === 'conv.W')!;
const at = conv.quant!.scalesAt!;

/** The bundle with conv.W's scalesAt replaced. */
const withScalesAt = (scalesAt: unknown) => {
  const manifest = structuredClone(bundle.manifest) as Manifest;
  manifest.weights.find((w) => w.name === 'conv.W')!.quant!.scalesAt = scalesAt as never;
  return { ...bundle, manifest };
};

describe('int8 scales in weights.bin', () => {
  it('are listed by place, one float32 per output channel, and the bundle runs', async () => {
    expect(at.length).toBe(32);
    expect(JSON.stringify(bundle.manifest)).not.toMatch(/"scales"/);
    const model = await loadModel(bundle);
    const y = await model.run({ x: randomTensor([1, 16, 8, 8], rand) as Feed });
    expect(y.y.dims).toEqual([1, 32, 8, 8]);
    model.dispose();
  });

  it('a place outside weights.bin, or of the wrong length, is refused', async () => {
    const end = bundle.weights.byteLength;
    await expect(loadModel(withScalesAt({ offset: end - 64, length: 32 }))).rejects.toThrow(
      `bundle weight "conv.W": its scales (bytes ${end - 64}..${end + 64}) lie outside weights.bin`,
    );
    await expect(loadModel(withScalesAt({ ...at, length: 31 }))).rejects.toThrow(
      'bundle weight "conv.W": its scales are 31 values but it has 32 slices along axis 0',
    );
    await expect(loadModel(withScalesAt({ ...at, offset: at.offset + 2 }))).rejects.toThrow(
      /its scales start at byte \d+, which is not 4-byte aligned/,
    );
    await expect(loadModel(withScalesAt([0.5, 0.25]))).rejects.toThrow(
      'quant.scalesAt must be an object with non-negative integer offset and length',
    );
  });

  it('a changed scale in weights.bin fails its sha256 check', async () => {
    const weights = bundle.weights.slice();
    weights[at.offset + 5] ^= 0x40;
    await expect(loadModel({ ...bundle, weights })).rejects.toThrow(
      /bundle file weights\.bin failed its sha256 check/,
    );
  });
});
