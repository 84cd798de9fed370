/**
 * Texts per second through `POST /v1/embeddings` (the serving app in process, so no network): a
 * MiniLM-L6-shaped encoder (scripts/bench-models.ts's bertEncoder: 6 layers, hidden 384, vocabulary
 * 30522, seeded random weights) compiled at [batch, 128] with a WordPiece tokenizer and mean pooling + L2
 * normalization in the graph. Every text is padded to the compiled 128 tokens (run-time sequence dims are
 * not there yet), so the time per text does not depend on its length. Also times the tokenizer alone, and
 * the first request after load (it loads the tokenizer library).
 *
 *   npx tsx scripts/bench-embeddings.ts [--batch 8] [--warm-ms 2000] [--ms 5000]
 */
import { parseArgs } from 'node:util';
import { bertEncoder } from './bench-models.js';
import { compileModel } from '../src/compiler/compile.js';
import { loadModel } from '../src/runtime/index.js';
import { createApp } from '../src/serve/app.js';
import { TextTokenizer } from '../src/runtime/text-tokenizer.js';
import { wordPieceTokenizer } from '../tests/helpers/text-model.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '8' },
    'warm-ms': { type: 'string', default: '2000' },
    ms: { type: 'string', default: '5000' },
  },
});
const [batch, warmMs, ms] = [Number(values.batch), Number(values['warm-ms']), Number(values.ms)];
const SEQUENCE = 128;

const CORPUS = [
  'the cat sat on the mat',
  'kiln runs small text models on the edge',
  'search for a vector of a text',
  'hello world, the dog is fast',
  'a big model is small on the edge',
  'café naïve 日本語 😀',
  'the embedding of a word is a vector',
  'token by token the text is run',
];
const texts = Array.from({ length: batch }, (_, i) => CORPUS[i % CORPUS.length]);

const started = performance.now();
const files = await compileModel(bertEncoder({ sequence: SEQUENCE }).bytes, {
  name: 'minilm',
  shapes: { input_ids: [batch, SEQUENCE], attention_mask: [batch, SEQUENCE] },
  tokenizer: wordPieceTokenizer(),
  task: { name: 'feature-extraction', pooling: 'mean', normalize: true },
});
const compileMs = performance.now() - started;
const model = await loadModel(files, { warmup: true });
const app = createApp({ models: [{ name: 'minilm', model }], log: false });
const request = async () => {
  const response = await app.request('/v1/embeddings', {
    method: 'POST',
    body: JSON.stringify({ model: 'minilm', input: texts, encoding_format: 'base64' }),
  });
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
};

const first = performance.now();
await request();
const firstMs = performance.now() - first;

async function timeFor(
  budget: number,
  run: () => Promise<void> | void,
): Promise<{ runs: number; ms: number }> {
  const t0 = performance.now();
  let runs = 0;
  while (performance.now() - t0 < budget) {
    await run();
    runs++;
  }
  return { runs, ms: performance.now() - t0 };
}
await timeFor(warmMs, request);
const served = await timeFor(ms, request);
const tokenizer = new TextTokenizer(files.tokenizer!, files.manifest.tokenizer!);
const tokenized = await timeFor(Math.min(ms, 2000), () => {
  for (const t of texts) tokenizer.encode(t, 'truncate', 'input');
});

const perText = (r: { runs: number; ms: number }) => r.ms / (r.runs * batch);
console.log(
  `model: MiniLM-L6-shaped encoder, [${batch}, ${SEQUENCE}], mean pooling + L2 in the graph; compiled in ${(compileMs / 1000).toFixed(1)} s`,
);
console.log(`first request after load (${batch} texts, loads the tokenizer): ${firstMs.toFixed(1)} ms`);
console.log(
  `/v1/embeddings in process: ${(1000 / perText(served)).toFixed(1)} texts/s (${perText(served).toFixed(2)} ms per text, ${served.runs} requests of ${batch})`,
);
console.log(
  `tokenizer alone: ${(1000 / perText(tokenized)).toFixed(0)} texts/s (${(perText(tokenized) * 1000).toFixed(1)} µs per text)`,
);
model.dispose();
