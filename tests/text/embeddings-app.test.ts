/** /v1/embeddings in the app: through dynamic batching, and refused for a model that is not a text model. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import { compileMlp, compileText, TEXT_BATCH, type CompiledBundle } from '../serve/fixture.js';

let text: CompiledBundle;
beforeAll(async () => {
  text = await compileText();
});
afterAll(() => text?.cleanup());

it('batches the texts of concurrent requests and splits the vectors back per request', async () => {
  const plain = createApp({ models: [{ name: 'text', model: text.model }], log: false });
  const batched = createApp({
    models: [{ name: 'text', model: text.model, batching: { maxBatch: TEXT_BATCH, delayMs: 20 } }],
    log: false,
  });
  const embed = async (app: ReturnType<typeof createApp>, input: string[]) => {
    const response = await app.request('/v1/embeddings', {
      method: 'POST',
      body: JSON.stringify({ model: 'text', input }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: { embedding: number[] }[] }).data.map((d) => d.embedding);
  };
  const inputs = [['the cat'], ['the dog sat'], ['a mat'], ['kiln']];
  const alone = await Promise.all(inputs.map((i) => embed(plain, i)));
  const together = await Promise.all(inputs.map((i) => embed(batched, i)));
  together.forEach((vectors, r) =>
    vectors.forEach((v, i) => v.forEach((x, h) => expect(x).toBeCloseTo(alone[r][i][h], 5))),
  );
  const metrics = await (await batched.request('/metrics')).text();
  // 4 one-text requests at once, in batches of 2: fewer runs than requests
  const runs = Number(/^kiln_model_runs_total\{model="text"[^}]*\} (\d+)$/m.exec(metrics)?.[1]);
  expect(runs).toBeGreaterThanOrEqual(2);
  expect(runs).toBeLessThan(4);
});

it('refuses a model without a tokenizer with 400 and the way to build one', async () => {
  const mlp = await compileMlp();
  try {
    const app = createApp({ models: [{ name: 'mlp', model: mlp.model }], log: false });
    const response = await app.request('/v1/embeddings', {
      method: 'POST',
      body: JSON.stringify({ model: 'mlp', input: 'hello' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error:
        'model "mlp" has no tokenizer: compile it with --tokenizer tokenizer.json to serve /v1/embeddings',
    });
  } finally {
    await mlp.cleanup();
  }
});
