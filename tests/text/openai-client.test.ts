/**
 * The official `openai` client, unchanged, against `kiln serve`'s HTTP server: `embeddings.create` asks
 * for base64 by default and decodes it; the vectors must be the ones the endpoint gives as floats.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startNodeServer } from '../../src/serve/node.js';
import { compileText, type CompiledBundle } from '../serve/fixture.js';

let text: CompiledBundle;
let server: Awaited<ReturnType<typeof startNodeServer>>;
beforeAll(async () => {
  text = await compileText();
  server = await startNodeServer({
    models: [{ name: 'text', model: text.model }],
    port: 0,
    host: '127.0.0.1',
    log: false,
    apiKey: 'key',
  });
});
afterAll(async () => {
  await server?.close();
  await text?.cleanup();
});

it('openai.embeddings.create gets the vectors /v1/embeddings gives as floats', async () => {
  const sent: string[] = [];
  const client = new OpenAI({
    apiKey: 'key',
    baseURL: `${server.url}/v1`,
    maxRetries: 0,
    fetch: (url, init) => {
      sent.push(String(init?.body));
      return fetch(url, init);
    },
  });
  const input = ['The cat sat on the mat.', 'kiln runs small text models on the edge', 'Café 日本語'];
  const got = await client.embeddings.create({ model: 'text', input });
  const floats = await fetch(`${server.url}/v1/embeddings`, {
    method: 'POST',
    headers: { Authorization: 'Bearer key', 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'text', input, encoding_format: 'float' }),
  }).then((r) => r.json() as Promise<{ data: { embedding: number[] }[] }>);
  expect(JSON.parse(sent[0])).toMatchObject({ model: 'text', input, encoding_format: 'base64' });
  expect(got.data.map((d) => d.index)).toEqual([0, 1, 2]);
  got.data.forEach((d, i) => expect(d.embedding).toEqual(floats.data[i].embedding));
  expect(got.usage.prompt_tokens).toBeGreaterThan(input.length * 2);
  // errors reach the client as its APIError, with the server's status
  await expect(client.embeddings.create({ model: 'text', input: '' })).rejects.toMatchObject({ status: 400 });
});
