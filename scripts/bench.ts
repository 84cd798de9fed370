/**
 * Kiln vs onnxruntime-web (wasm, 1 thread, SIMD) vs onnxruntime-node (CPU, 1 intra-op thread), side by
 * side in one process on the same inputs. Reports medians and ratios (peer median / Kiln median:
 * above 1 means Kiln is faster).
 *
 *   npm run bench -- [--runs N] [--warmup N] [--filter REGEX] [--json FILE]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { loadModel } from '../src/runtime/index.js';
import type { Feed } from '../src/runtime/types.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    filter: { type: 'string' },
    json: { type: 'string' },
  },
});
const runs = Number(args.runs);
const warmup = Number(args.warmup);
const root = resolve(import.meta.dirname, '..');
const light = resolve(root, '../shared/data/onnx-light');

const MODELS: { name: string; path: string; input: string; dims: number[] }[] = [
  { name: 'mlp', path: resolve(root, 'models/mlp.onnx'), input: 'x', dims: [1, 64] },
  { name: 'cnn', path: resolve(root, 'models/cnn.onnx'), input: 'image', dims: [1, 3, 32, 32] },
  { name: 'attention', path: resolve(root, 'models/attention.onnx'), input: 'x', dims: [1, 8, 32] },
  { name: 'squeezenet', path: `${light}/light_squeezenet.onnx`, input: 'data_0', dims: [1, 3, 224, 224] },
  { name: 'resnet50', path: `${light}/light_resnet50.onnx`, input: 'gpu_0/data_0', dims: [1, 3, 224, 224] },
];

async function time(fn: () => Promise<unknown>): Promise<{ median: number; min: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)], min: t[0] };
}

ortWeb.env.wasm.numThreads = 1;
ortWeb.env.wasm.simd = true;
const rows = [];
for (const m of MODELS.filter((m) => !args.filter || new RegExp(args.filter).test(m.name))) {
  const bytes = readFileSync(m.path);
  const n = m.dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n).map((_, i) => Math.sin(i) * 0.5);
  // Compile in a child process with the `kiln` CLI: the compiler's own wasm (binaryen) keeps V8 busy
  // tiering up in the background, which would slow whatever this process measures next.
  process.stderr.write(`${m.name}: compiling…\n`);
  const dir = join(mkdtempSync(join(tmpdir(), 'kiln-bench-')), m.name);
  execFileSync(
    process.execPath,
    [resolve(root, 'bin/kiln.js'), 'compile', m.path, '-o', dir, '--shape', `${m.input}=${m.dims.join(',')}`],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const model = await loadModel(dir, { backend: 'wasm' });
  const feed: Record<string, Feed> = { [m.input]: { dtype: 'float32', dims: m.dims, data } };
  const kiln = await time(() => model.run(feed));
  const web = await ortWeb.InferenceSession.create(bytes, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const webFeed = { [m.input]: new ortWeb.Tensor('float32', data, m.dims) };
  const ortw = await time(() => web.run(webFeed));
  const node = await ortNode.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const nodeFeed = { [m.input]: new ortNode.Tensor('float32', data, m.dims) };
  const ortn = await time(() => node.run(nodeFeed));
  model.dispose();
  rows.push({
    model: m.name,
    kiln_ms: kiln.median,
    ort_web_ms: ortw.median,
    ort_node_ms: ortn.median,
    vs_ort_web: ortw.median / kiln.median,
    vs_ort_node: ortn.median / kiln.median,
  });
}
console.log(`median of ${runs} runs (${warmup} warm-up); ratio = peer / kiln, above 1 = kiln faster`);
console.log(
  'model'.padEnd(12),
  'kiln ms'.padStart(9),
  'ort-web ms'.padStart(11),
  'ort-node ms'.padStart(12),
  'vs web'.padStart(7),
  'vs node'.padStart(8),
);
for (const r of rows)
  console.log(
    r.model.padEnd(12),
    r.kiln_ms.toFixed(3).padStart(9),
    r.ort_web_ms.toFixed(3).padStart(11),
    r.ort_node_ms.toFixed(3).padStart(12),
    r.vs_ort_web.toFixed(2).padStart(7),
    r.vs_ort_node.toFixed(2).padStart(8),
  );
if (args.json) writeFileSync(args.json, JSON.stringify(rows, null, 1));
