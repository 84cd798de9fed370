/**
 * The per-target harness of `npm run bench:embeddings` (scripts/bench/embedding-targets.ts) serves the
 * vectors onnxruntime-node computes on the same token ids, on every target it times: `kiln serve` over
 * HTTP, the Lambda handler, the Worker that deploy builds in workerd. The small text bundle of the
 * serving tests, so a target that answered with another model's or a stale bundle's vectors would fail.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { embed, startTarget, TARGETS } from '../scripts/bench/embedding-targets.js';
import { bertBaseText, cosine } from './helpers/text-model.js';
import { referenceVectors, TEXTS } from './serve/embeddings-contract.js';
import { compileTextDynamic, type CompiledBundle } from './serve/fixture.js';

let text: CompiledBundle;
let expected: number[][];

beforeAll(async () => {
  text = await compileTextDynamic();
  const tokenizer = new Tokenizer(JSON.parse(bertBaseText().tokenizer), {});
  expected = await referenceVectors(TEXTS.map((t) => tokenizer.encode(t).ids));
});
afterAll(() => text?.cleanup());

it.each(TARGETS)(
  '%s: the vectors of onnxruntime on the same token ids',
  async (name) => {
    const target = await startTarget(name, text.dir);
    if ('refused' in target) throw new Error(`${name} refused the bundle: ${target.refused}`);
    try {
      // one request per text (the bundle's batch is 1..2), then two in one request
      for (const [i, t] of TEXTS.entries()) {
        const [vector] = await embed(target, 'text', [t]);
        expect(cosine(vector, expected[i])).toBeGreaterThanOrEqual(0.9999);
      }
      const pair = await embed(target, 'text', TEXTS.slice(0, 2));
      pair.forEach((v, i) => expect(cosine(v, expected[i])).toBeGreaterThanOrEqual(0.9999));
    } finally {
      await target.stop();
    }
  },
  180_000,
);
