/** /v1/embeddings in the app: the feeds it packs, dynamic batching, and a model that is not a text model. */
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { buildModel } from '../helpers/onnx-builder.js';
import { bertBaseText, textVocab, wordPieceTokenizer } from '../helpers/text-model.js';
import {
  compileMlp,
  compileText,
  compileTextDynamic,
  TEXT_BATCH,
  type CompiledBundle,
} from '../serve/fixture.js';

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

it('a bad request among concurrent ones is refused alone: the others of its batch get their vectors', async () => {
  const app = (batching?: { maxBatch: number; delayMs: number }) =>
    createApp({ models: [{ name: 'text', model: text.model, ...(batching && { batching }) }], log: false });
  const [plain, batched] = [app(), app({ maxBatch: TEXT_BATCH, delayMs: 20 })];
  const embed = (target: ReturnType<typeof createApp>, input: unknown) =>
    target.request('/v1/embeddings', { method: 'POST', body: JSON.stringify({ model: 'text', input }) });
  const vectors = async (response: Response) =>
    ((await response.json()) as { data: { embedding: number[] }[] }).data[0].embedding;
  const bad = ['the cat sat on the mat '.repeat(10), ['x', 5], ''];
  const responses = await Promise.all([
    embed(batched, 'the cat'),
    ...bad.map((input) => embed(batched, input)),
    embed(batched, 'a mat'),
  ]);
  expect(responses.map((r) => r.status)).toEqual([200, 400, 400, 400, 200]);
  const together = [await vectors(responses[0]), await vectors(responses[4])];
  const alone = [await vectors(await embed(plain, 'the cat')), await vectors(await embed(plain, 'a mat'))];
  together.forEach((v, i) => v.forEach((x, h) => expect(x).toBeCloseTo(alone[i][h], 5)));
});

it('with a run-time batch and sequence, runs each request at its own rows padded to its longest text, and batches requests of one length together', async () => {
  const dynamic = await compileTextDynamic();
  try {
    const run = vi.spyOn(dynamic.model, 'run');
    const app = createApp({ models: [{ name: 'text', model: dynamic.model }], log: false });
    const texts = ['the cat', 'kiln runs small text models on the edge', 'a mat'];
    const response = await app.request('/v1/embeddings', {
      method: 'POST',
      body: JSON.stringify({ model: 'text', input: texts }),
    });
    expect(response.status).toBe(200);
    const tokenizer = new Tokenizer(JSON.parse(bertBaseText().tokenizer), {});
    const tokens = texts.map((t) => tokenizer.encode(t).ids.length);
    // in chunks of the largest batch (2): [2 texts, the longer one's tokens], then [1 text, its own]
    expect(run.mock.calls.map(([feeds]) => feeds.input_ids.dims)).toEqual([
      [2, Math.max(tokens[0], tokens[1])],
      [1, tokens[2]],
    ]);
    expect(run.mock.calls.map(([feeds]) => feeds.attention_mask.dims)).toEqual(
      run.mock.calls.map(([feeds]) => feeds.input_ids.dims),
    );
    const alone = ((await response.json()) as { data: { embedding: number[] }[] }).data;

    // batched: requests of the same length share a run at their total rows; another length runs apart
    run.mockClear();
    const batched = createApp({
      models: [{ name: 'text', model: dynamic.model, batching: { maxBatch: TEXT_BATCH, delayMs: 20 } }],
      log: false,
    });
    const requests = [texts[0], texts[2], texts[1]].map(async (input) => {
      const r = await batched.request('/v1/embeddings', {
        method: 'POST',
        body: JSON.stringify({ model: 'text', input }),
      });
      expect(r.status).toBe(200);
      return ((await r.json()) as { data: { embedding: number[] }[] }).data[0].embedding;
    });
    const [cat, mat, long] = await Promise.all(requests);
    expect(tokens[0]).toBe(tokens[2]);
    expect(run.mock.calls.map(([feeds]) => feeds.input_ids.dims)).toEqual([
      [2, tokens[0]],
      [1, tokens[1]],
    ]);
    [cat, long, mat].forEach((v, i) => v.forEach((x, h) => expect(x).toBeCloseTo(alone[i].embedding[h], 5)));
  } finally {
    await dynamic.cleanup();
  }
});

it.each([
  ['a non-string item', ['ok', 7], /^inputs\[0\]\.data\[1\] must be a string \(a text\), got a number$/],
  [
    'more texts than one request may carry',
    new Array(2049).fill('a'),
    /^inputs\[0\] has 2049 texts, more than the 2048/,
  ],
  ['an empty text', ['ok', ''], /^input\[1\] is an empty string$/],
  ['an over-long text', ['ok', 'the cat sat on the mat '.repeat(10)], /^input\[1\] is \d+ tokens, more than/],
])(
  'OIP /infer of a text model refuses %s with 400 naming it, and answers the next request',
  async (_, data, message) => {
    const app = createApp({ models: [{ name: 'text', model: text.model }], log: false });
    const infer = (texts: unknown[]) =>
      app.request('/v2/models/text/infer', {
        method: 'POST',
        body: JSON.stringify({
          inputs: [{ name: 'text', datatype: 'BYTES', shape: [texts.length], data: texts }],
        }),
      });
    const refused = await infer(data);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toMatch(message);
    expect((await infer(['the cat'])).status).toBe(200);
  },
);

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

it('feeds ids, attention mask and token types padded to the compiled sequence length, one row per text', async () => {
  // a model whose "embedding" is its own inputs: [ids | mask | token types] of each row, as floats
  const [rows, seq] = [2, 6];
  const i64 = (name: string) => ({ name, dtype: 'int64' as const, shape: [rows, seq] });
  const cast = (name: string) => ({
    op: 'Cast',
    inputs: [name],
    outputs: [`${name}_f`],
    attrs: { to: { i: 1 } },
  });
  const echo = buildModel({
    inputs: [i64('input_ids'), i64('attention_mask'), i64('token_type_ids')],
    outputs: [{ name: 'fed', dtype: 'float32', shape: [rows, 3 * seq] }],
    nodes: [
      cast('input_ids'),
      cast('attention_mask'),
      cast('token_type_ids'),
      {
        op: 'Concat',
        inputs: ['input_ids_f', 'attention_mask_f', 'token_type_ids_f'],
        outputs: ['fed'],
        attrs: { axis: { i: 1 } },
      },
    ],
  });
  const files = await compileModel(echo, { tokenizer: wordPieceTokenizer(), relaxed: false });
  expect(files.manifest.tokenizer!.inputs).toEqual({
    ids: 'input_ids',
    attentionMask: 'attention_mask',
    tokenTypeIds: 'token_type_ids',
  });
  const model = await loadModel(files);
  const app = createApp({ models: [{ name: 'echo', model }], log: false });
  const response = await app.request('/v1/embeddings', {
    method: 'POST',
    body: JSON.stringify({ model: 'echo', input: ['the cat', 'a dog sat', 'mat'] }),
  });
  const body = (await response.json()) as { data: { embedding: number[] }[] };
  model.dispose();
  const id = (t: string) => textVocab().indexOf(t);
  const row = (tokens: string[]) => {
    const ids = tokens.map(id);
    const pad = seq - ids.length;
    return [...ids, ...Array(pad).fill(0), ...ids.map(() => 1), ...Array(pad).fill(0), ...Array(seq).fill(0)];
  };
  expect(body.data.map((d) => d.embedding)).toEqual([
    row(['[CLS]', 'the', 'cat', '[SEP]']),
    row(['[CLS]', 'a', 'dog', 'sat', '[SEP]']),
    row(['[CLS]', 'mat', '[SEP]']),
  ]);
});
