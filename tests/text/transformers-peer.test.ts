/**
 * The embeddings bench's peer (scripts/transformers-peer.ts): transformers.js's feature-extraction
 * pipeline, from local files on onnxruntime-web, gives the vectors Kiln serves for the same model and
 * tokenizer — the check the bench makes before timing it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { transformersPeer, writeTransformersModel } from '../../scripts/transformers-peer.js';
import { createApp } from '../../src/serve/app.js';
import { compileTextDynamic, type CompiledBundle } from '../serve/fixture.js';
import { bertBaseText, cosine, wordPieceTokenizerConfig } from '../helpers/text-model.js';

let text: CompiledBundle;
let dir: string;
beforeAll(async () => {
  [text, dir] = await Promise.all([compileTextDynamic(), mkdtemp(join(tmpdir(), 'kiln-transformers-'))]);
});
afterAll(async () => {
  await text?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

it('transformers.js on the same model and tokenizer, from local files, returns the vectors of /v1/embeddings', async () => {
  // 8, 8 and 4 tokens: transformers.js pads the batch to the longest text
  const texts = ['café naïve 日本語 😀', 'the cat sat on the mat', 'kiln'];
  const app = createApp({ models: [{ name: 'text', model: text.model }], log: false });
  const response = await app.request('/v1/embeddings', {
    method: 'POST',
    body: JSON.stringify({ model: 'text', input: texts }),
  });
  expect(response.status).toBe(200);
  const kiln = ((await response.json()) as { data: { embedding: number[] }[] }).data.map((d) => d.embedding);

  const model = join(dir, 'text');
  await writeTransformersModel(model, {
    onnx: bertBaseText().encoder,
    tokenizerJson: bertBaseText().tokenizer,
    tokenizerConfig: wordPieceTokenizerConfig(),
    config: { model_type: 'bert' },
  });
  const peer = await transformersPeer(model, { pooling: 'mean', normalize: true });
  const theirs = await peer.embed(texts);
  expect(theirs.map((v) => v.length)).toEqual(kiln.map((v) => v.length));
  theirs.forEach((v, i) => expect(cosine(v, kiln[i])).toBeGreaterThanOrEqual(0.999));
  // the texts differ, and so do their vectors: the check compares each text with its own
  expect(cosine(theirs[0], kiln[1])).toBeLessThan(0.99);
}, 120_000);
