/**
 * Hostile models through the whole compiler: 1,000 seeded mutations and truncations of real models.
 * Every case must end in a clean one-line Error or a valid bundle that loads and runs.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../src/compiler/compile.js';
import { loadModel } from '../src/runtime/index.js';
import { verifyBundle } from '../src/bundle/index.js';
import { mutateModel } from './helpers/mutate-model.js';
import { attentionModel, cnnModel, mlpModel } from './helpers/models.js';
import { seededRandom } from './helpers/onnx-builder.js';
import type { Feed } from '../src/runtime/types.js';
import { allocTensor } from '../src/ir/tensor.js';
import { upperBounds } from '../src/bundle/shape-dims.js';

const CASES = 1000;
// Small models keep each valid mutant's compile short; the frontend fuzz covers the large light CNNs.
const seeds: Uint8Array[] = [mlpModel(), cnnModel(), attentionModel()];

function expectCleanError(e: unknown, label: string) {
  expect(e, label).toBeInstanceOf(Error);
  const err = e as Error;
  expect(
    ['TypeError', 'RangeError', 'ReferenceError', 'RuntimeError'],
    `${label}: ${err.stack}`,
  ).not.toContain(err.name);
  expect(err.message.length, label).toBeGreaterThan(0);
  expect(err.message.includes('\n'), `${label}: ${err.message}`).toBe(false);
}

describe('compiler fuzzing', () => {
  it(`${CASES} mutated models end in a clean error or a valid bundle`, async () => {
    const rand = seededRandom(20261127);
    const outcomes = { error: 0, bundle: 0, ran: 0 };
    for (let i = 0; i < CASES; i++) {
      const seed = seeds[i % seeds.length];
      const { kind, bytes } = mutateModel(seed, rand);
      const label = `case ${i} (${kind})`;
      let files;
      try {
        files = await compileModel(bytes);
      } catch (e) {
        expectCleanError(e, label);
        outcomes.error++;
        continue;
      }
      await verifyBundle(files);
      outcomes.bundle++;
      if (files.manifest.memory.totalBytes > 64 << 20) continue;
      const model = await loadModel(files, { backend: 'wasm' });
      const feeds: Record<string, Feed> = {};
      for (const input of model.inputs)
        feeds[input.name] = allocTensor(input.dtype, upperBounds(input.shape)) as Feed;
      try {
        await model.run(feeds);
        outcomes.ran++;
      } catch (e) {
        expectCleanError(e, `${label} at run`);
      }
      model.dispose();
    }
    console.log(`fuzz outcomes: ${JSON.stringify(outcomes)}`);
    expect(outcomes.error + outcomes.bundle).toBe(CASES);
  }, 600_000);
});
