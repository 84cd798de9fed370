/**
 * Whole CNNs through the relaxed-SIMD module (child process, Node 20's flag) against onnxruntime-node, on the
 * bench's image input (floats in [-1, 1)): kernel tests check each gemm tile alone, and a relaxed-only
 * remainder-tile change that passed all of them once turned SqueezeNet's output into a one-hot vector.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { writeBundle } from '../../src/bundle/node.js';
import { compareTensors } from '../../scripts/compare.js';
import { benchFeeds } from '../../scripts/bench/feeds.js';
import { runOrt } from '../helpers/ort-oracle.js';
import { inChild, outputsOf } from './child-run.js';

const LIGHT = '../shared/data/onnx-light';

describe('onnx-light CNNs, relaxed SIMD module, against onnxruntime', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-relaxed-light-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['squeezenet', 'data_0'],
    ['resnet50', 'gpu_0/data_0'],
  ])(
    '%s',
    async (name, input) => {
      const bytes = readFileSync(join(LIGHT, `light_${name}.onnx`));
      const feeds = benchFeeds([{ name: input, dtype: 'float32', dims: [1, 3, 224, 224], fill: 'image' }]);
      const bundle = join(dir, name);
      await writeBundle(bundle, await compileModel(bytes));
      const result = await inChild(bundle, 'relaxed', feeds, true);
      const got = outputsOf(result); // throws the child's error
      expect('variant' in result && result.variant).toBe('relaxed');
      const want = await runOrt(bytes, feeds);
      for (const [output, tensor] of Object.entries(want))
        expect(compareTensors(got[output], tensor, 1e-4, 1e-5), output).toBeUndefined();
    },
    180_000,
  );
});
