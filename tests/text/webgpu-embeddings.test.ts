/**
 * A BERT-style text bundle end to end on the webgpu backend (Dawn): compiled once with a run-time batch
 * and sequence for both targets, served by the Node server on webgpu, its /v1/embeddings vectors match
 * onnxruntime-node fed the same token ids.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { writeBundle } from '../../src/bundle/node.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { startNodeServer, type NodeServer } from '../../src/serve/node.js';
import { testGpu } from '../helpers/gpu.js';
import { bertBaseText, cosine } from '../helpers/text-model.js';
import { referenceVectors, TEXTS } from '../serve/embeddings-contract.js';
import { TEXT_BATCH, TEXT_SEQUENCE } from '../serve/fixture.js';

let dir: string;
let model: Model;
let server: NodeServer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-text-webgpu-'));
  const files = await compileModel(bertBaseText().encoder, {
    name: 'text',
    dims: { batch: { min: 1, max: TEXT_BATCH }, sequence: { min: 1, max: TEXT_SEQUENCE } },
    tokenizer: bertBaseText().tokenizer,
    task: { name: 'feature-extraction', pooling: 'mean', normalize: true },
    targets: ['wasm', 'webgpu'],
    relaxed: false,
  });
  await writeBundle(dir, files);
  model = await loadModel(dir, { backend: 'webgpu', gpu: await testGpu() });
  server = await startNodeServer({
    models: [{ name: 'text', model }],
    port: 0,
    host: '127.0.0.1',
    log: false,
  });
});
afterAll(async () => {
  await server?.close();
  model?.dispose();
  await rm(dir, { recursive: true, force: true });
});

// one run of two texts of different lengths; lavapipe (a CPU emulation of a GPU) takes minutes on a loaded machine
it(
  'serves /v1/embeddings on webgpu like onnxruntime on the same token ids',
  { timeout: 600_000 },
  async () => {
    expect(model.backend).toBe('webgpu');
    const texts = TEXTS.slice(0, 2);
    const tokenizer = new Tokenizer(JSON.parse(bertBaseText().tokenizer), {});
    const expected = await referenceVectors(texts.map((t) => tokenizer.encode(t).ids));
    const response = await fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'text', input: texts }),
    });
    const json = (await response.json()) as { data: { embedding: number[] }[] };
    expect(response.status, JSON.stringify(json)).toBe(200);
    expect(json.data).toHaveLength(2);
    json.data.forEach((d, i) => expect(cosine(d.embedding, expected[i])).toBeGreaterThanOrEqual(0.9999));
  },
);
