/**
 * The OpenAI-compatible `/v1/embeddings` endpoint as cases shared by every runtime that serves the app
 * (in-process, Node server, workerd, Lambda handler), beside the Open Inference Protocol contract
 * (contract.ts). Each runtime serves the compiled text bundle (fixture.ts's compileText: an encoder over
 * bert-base-uncased's 30,522-token vocabulary) as "text" with CONTRACT_ENV; expected vectors come from
 * onnxruntime-node running the source model on the token ids @huggingface/tokenizers gives, pooled the
 * sentence-transformers way.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOrt } from '../helpers/ort-oracle.js';
import { bertBaseText, cosine, pooledReference } from '../helpers/text-model.js';
import { API_KEY, type ServedTarget } from './contract.js';
import { compileText, compileTextDynamic, TEXT_SEQUENCE, type CompiledBundle } from './fixture.js';

export const TEXTS = [
  'The cat sat on the mat.',
  'Café naïve — 日本語 😀',
  'kiln runs small text models on the edge',
];
const HIDDEN = 32;

/** The reference embedding of each token-id list, from onnxruntime fed the same ids. */
export async function referenceVectors(idLists: number[][]): Promise<number[][]> {
  const { encoder } = bertBaseText();
  return Promise.all(
    idLists.map(async (ids) => {
      const i64 = (v: number[]) => ({
        dtype: 'int64' as const,
        dims: [1, ids.length],
        data: BigInt64Array.from(v, BigInt),
      });
      const mask = ids.map(() => 1);
      const states = (await runOrt(encoder, { input_ids: i64(ids), attention_mask: i64(mask) }))
        .last_hidden_state;
      return pooledReference(
        states.data as Float32Array,
        mask,
        { rows: 1, sequence: ids.length, hidden: HIDDEN },
        'mean',
        true,
      )[0];
    }),
  );
}

/** The text bundles every runtime serves: shapes fixed at compile time, and batch and sequence known at run time. */
const TEXT_BUNDLES: [string, () => Promise<CompiledBundle>][] = [
  ['compiled shapes', compileText],
  ['run-time batch and sequence', compileTextDynamic],
];

export function describeEmbeddingsContract(
  runtime: string,
  serve: (text: CompiledBundle) => Promise<ServedTarget>,
) {
  describe.each(TEXT_BUNDLES)(`/v1/embeddings: ${runtime}, %s`, (_, compile) => {
    let text: CompiledBundle;
    let target: ServedTarget;
    let ids: number[][];
    let expected: number[][];

    beforeAll(async () => {
      text = await compile();
      const tokenizer = new Tokenizer(JSON.parse(bertBaseText().tokenizer), {});
      ids = TEXTS.map((t) => tokenizer.encode(t).ids);
      expected = await referenceVectors(ids);
      target = await serve(text);
    });
    afterAll(async () => {
      await target?.stop?.();
      await text?.cleanup();
    });

    const embeddings = (body: unknown) =>
      target.send('/v1/embeddings', {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
      });
    const vectorsOf = async (body: unknown) => {
      const response = await embeddings(body);
      const json = await response.json();
      expect(response.status, JSON.stringify(json)).toBe(200);
      return json as {
        object: string;
        model: string;
        data: { object: string; index: number; embedding: number[] | string }[];
        usage: { prompt_tokens: number; total_tokens: number };
      };
    };

    it('embeds a string and a list of strings (more than one compiled batch) like onnxruntime on the same token ids', async () => {
      const one = await vectorsOf({ model: 'text', input: TEXTS[0] });
      expect(one.object).toBe('list');
      expect(one.model).toBe('text');
      expect(one.data).toHaveLength(1);
      expect(cosine(one.data[0].embedding as number[], expected[0])).toBeGreaterThanOrEqual(0.9999);
      expect(one.usage).toEqual({ prompt_tokens: ids[0].length, total_tokens: ids[0].length });
      const all = await vectorsOf({ model: 'text', input: TEXTS });
      expect(all.data.map((d) => [d.object, d.index])).toEqual(TEXTS.map((_, i) => ['embedding', i]));
      all.data.forEach((d, i) => {
        expect(d.embedding).toHaveLength(HIDDEN);
        expect(cosine(d.embedding as number[], expected[i])).toBeGreaterThanOrEqual(0.9999);
      });
      expect(all.usage.prompt_tokens).toBe(ids.flat().length);
    });

    it('takes token ids as they are, gives base64 float32 and shortened, renormalized vectors', async () => {
      const tokens = await vectorsOf({ model: 'text', input: [ids[1]] });
      expect(cosine(tokens.data[0].embedding as number[], expected[1])).toBeGreaterThanOrEqual(0.9999);
      const floats = (await vectorsOf({ model: 'text', input: TEXTS[2] })).data[0].embedding as number[];
      const encoded = (await vectorsOf({ model: 'text', input: TEXTS[2], encoding_format: 'base64' })).data[0]
        .embedding;
      const bytes = Uint8Array.from(atob(encoded as string), (c) => c.charCodeAt(0));
      expect(Array.from(new Float32Array(bytes.buffer))).toEqual(floats);
      const short = (await vectorsOf({ model: 'text', input: TEXTS[2], dimensions: 8 })).data[0]
        .embedding as number[];
      const norm = Math.hypot(...floats.slice(0, 8));
      short.forEach((x, i) => expect(x).toBeCloseTo(floats[i] / norm, 6));
    });

    it('refuses an over-long text unless the request asks for truncation', async () => {
      const long = 'the cat sat on the mat '.repeat(10);
      const refused = await embeddings({ model: 'text', input: ['a cat', long] });
      expect(refused.status).toBe(400);
      expect((await refused.json()).error).toMatch(
        new RegExp(
          `^input\\[1\\] is \\d+ tokens, more than the model's ${TEXT_SEQUENCE}; shorten it or ask for truncation`,
        ),
      );
      const cut = await vectorsOf({ model: 'text', input: ['a cat', long], truncation: true });
      expect(cut.data).toHaveLength(2);
      expect(cut.usage.prompt_tokens).toBe(4 + TEXT_SEQUENCE); // [CLS] a cat [SEP], and the cut text
    });

    it('OIP model metadata lists the texts input (BYTES, any count) before the token inputs', async () => {
      const response = await target.send('/v2/models/text', {
        headers: { Authorization: `Bearer ${API_KEY}` },
      });
      expect(response.status).toBe(200);
      const { inputs, outputs } = await response.json();
      expect(inputs[0]).toEqual({ name: 'text', datatype: 'BYTES', shape: [-1] });
      expect(inputs.slice(1).map((i: { name: string }) => i.name)).toEqual(['input_ids', 'attention_mask']);
      expect(outputs).toEqual([
        { name: 'sentence_embedding', datatype: 'FP32', shape: [expect.any(Number), HIDDEN] },
      ]);
    });

    it('OIP /infer takes the texts as a BYTES input and answers the pooled vectors', async () => {
      const infer = (body: unknown) =>
        target.send('/v2/models/text/infer', {
          method: 'POST',
          body: JSON.stringify(body),
          headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
        });
      const texts = { name: 'text', datatype: 'BYTES', shape: [3], data: TEXTS };
      const response = await infer({ id: 'q1', inputs: [texts] });
      const json = await response.json();
      expect(response.status, JSON.stringify(json)).toBe(200);
      expect(json).toMatchObject({ model_name: 'text', id: 'q1' });
      const [out] = json.outputs;
      expect([out.name, out.datatype, out.shape]).toEqual(['sentence_embedding', 'FP32', [3, HIDDEN]]);
      expected.forEach((want, i) =>
        expect(cosine(out.data.slice(i * HIDDEN, (i + 1) * HIDDEN), want)).toBeGreaterThanOrEqual(0.9999),
      );
      const bad = await infer({ inputs: [{ ...texts, shape: [2] }] });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error).toBe('inputs[0]: "shape" must be [3] for 3 texts, got [2]');
    });

    it.each([
      ['an empty string', { model: 'text', input: '' }, 400, /^input is an empty string$/],
      ['an empty list', { model: 'text', input: [] }, 400, /"input" must be a string or a non-empty array/],
      [
        'a non-string item',
        { model: 'text', input: ['ok', { text: 'no' }] },
        400,
        /^input\[1\] must be a string or an array of token ids, got an object$/,
      ],
      [
        'too many items',
        { model: 'text', input: new Array(2049).fill('a') },
        400,
        /"input" has 2049 items, more than the 2048/,
      ],
      [
        'a token id outside the vocabulary',
        { model: 'text', input: [[2, 100000, 3]] },
        400,
        /^input\[0\]\[1\] is token id 100000, outside the vocabulary/,
      ],
      [
        'too many dimensions',
        { model: 'text', input: 'a', dimensions: 33 },
        400,
        /"dimensions" is 33, but model "text" gives vectors of 32/,
      ],
      [
        'a bad encoding_format',
        { model: 'text', input: 'a', encoding_format: 'hex' },
        400,
        /"encoding_format" must be "float" or "base64"/,
      ],
      ['no model', { input: 'a' }, 400, /"model" must be a string/],
      ['an unknown model', { model: 'gpt-4', input: 'a' }, 404, /unknown model "gpt-4"/],
    ])('%s → %i with the reason', async (_, body, status, message) => {
      const response = await embeddings(body);
      expect(response.status).toBe(status);
      expect((await response.json()).error).toMatch(message);
    });
  });
}
