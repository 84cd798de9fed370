/**
 * `--weights int8` against fp32 on the bench models (issue 18, item 5): bundle size (the files a SIMD128
 * load reads: manifest.json, model.wasm and weights.bin; compiled without relaxed SIMD), linear memory,
 * memory at load, peak RSS, accuracy (top-1 agreement over pseudo-random inputs for the classifiers,
 * cosine of the encoder's embeddings) and speed, both bundles in one process, warmed by time, then timed
 * in alternating blocks (medians and minima; `--blocks 0` skips timing). SIMD128 modules (model.wasm) only.
 *
 * Memory at load: scripts/load-memory.ts in a fresh process, its peak RSS (VmHWM) once the bundle is
 * loaded minus its RSS before: what loading the model adds, the Node baseline (≈ 50–90 MiB, the same for
 * both bundles) left out, and what any first load costs too (a one-Relu bundle is loaded first). Peak RSS is `kiln bench --runs 1`'s: the whole process, load and one run.
 * A second table splits each bundle's linear memory (all of it is paged in at load) as the manifest
 * plans it (weights, init()-computed values, inputs/outputs, activation arena) and what lies past the
 * arena (the code generator's own scratch and the rounding to 64 KiB pages).
 *
 *   npx tsx scripts/int8-report.ts [--samples 50] [--blocks 6] [--block-ms 1500] [NAME...]
 *
 * NAME: mobilenetv3-cls, squeezenet, resnet50, bert-enc (default: all). squeezenet and resnet50 are the
 * onnx-light graphs, whose weights are ConstantOfShape nodes (one value per tensor): here every weight of
 * rank ≥ 2 becomes a seeded He-uniform initializer (`withSeededWeights`), so int8 has real weights to
 * quantize; 1-D tensors (biases, BatchNorm parameters) keep their constant.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compileModel } from '../src/compiler/compile.js';
import { writeBundle } from '../src/bundle/node.js';
import { MANIFEST_FILE, WASM_FILE, WEIGHTS_FILE } from '../src/bundle/files.js';
import type { MemoryPlan } from '../src/bundle/manifest.js';
import { loadModel, type Feed, type Model } from '../src/runtime/index.js';
import { randomFeed } from '../src/cli/tensors.js';
import { ensureBenchModels, benchFeeds, type BenchInput } from './bench-models.js';
import { onnx, type OnnxTypes } from '../src/frontend/onnx/proto.js';
import { buildModel, seededRandom } from '../tests/helpers/onnx-builder.js';

const root = resolve(import.meta.dirname, '..');
const light = resolve(root, '../shared/data/onnx-light');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    samples: { type: 'string', default: '50' },
    blocks: { type: 'string', default: '6' },
    'block-ms': { type: 'string', default: '1500' },
  },
});
const samples = Number(values.samples);

interface Case {
  name: string;
  onnx: string;
  inputs: BenchInput[];
  kind: 'classifier' | 'encoder';
}

function cases(): Case[] {
  const image = (name: string, dims: number[]): BenchInput[] => [
    { name, dtype: 'float32', dims, fill: 'image' },
  ];
  const generated = ensureBenchModels(['mobilenetv3-cls', 'bert-enc']);
  const all: Case[] = [
    {
      name: 'mobilenetv3-cls',
      onnx: generated['mobilenetv3-cls'].path,
      inputs: generated['mobilenetv3-cls'].inputs,
      kind: 'classifier',
    },
    {
      name: 'squeezenet',
      onnx: join(light, 'light_squeezenet.onnx'),
      inputs: image('data_0', [1, 3, 224, 224]),
      kind: 'classifier',
    },
    {
      name: 'resnet50',
      onnx: join(light, 'light_resnet50.onnx'),
      inputs: image('gpu_0/data_0', [1, 3, 224, 224]),
      kind: 'classifier',
    },
    {
      name: 'bert-enc',
      onnx: generated['bert-enc'].path,
      inputs: generated['bert-enc'].inputs,
      kind: 'encoder',
    },
  ];
  return all.filter((c) => positionals.length === 0 || positionals.includes(c.name));
}

/** The model with each ConstantOfShape of rank ≥ 2 (a weight) replaced by a seeded He-uniform initializer. */
function withSeededWeights(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const shapes = new Map(graph.initializer!.map((t) => [t.name!, t]));
  const rand = seededRandom(11);
  const dimsOf = (t: OnnxTypes.ITensorProto): number[] =>
    t.int64Data?.length
      ? t.int64Data.map(Number)
      : Array.from(new BigInt64Array(new Uint8Array(t.rawData!).slice().buffer), Number);
  graph.node = graph.node!.filter((node) => {
    const shape = node.opType === 'ConstantOfShape' ? shapes.get(node.input![0]) : undefined;
    const dims = shape ? dimsOf(shape) : [];
    if (dims.length < 2) return true;
    const limit = Math.sqrt(6 / dims.slice(1).reduce((a, b) => a * b, 1));
    const data = Float32Array.from(
      { length: dims.reduce((a, b) => a * b, 1) },
      () => (rand() * 2 - 1) * limit,
    );
    graph.initializer!.push(
      onnx.TensorProto.create({
        name: node.output![0],
        dims,
        dataType: 1,
        rawData: new Uint8Array(data.buffer),
      }),
    );
    return false;
  });
  return onnx.ModelProto.encode(model).finish();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

function argmax(data: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < data.length; i++) if (data[i] > data[best]) best = i;
  return best;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let [dot, na, nb] = [0, 0, 0];
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] ** 2;
    nb += b[i] ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

/** A one-Relu bundle, loaded before the measured one by scripts/load-memory.ts. */
async function warmUpBundle(): Promise<string> {
  const bytes = buildModel({
    name: 'relu',
    inputs: [{ name: 'x', dtype: 'float32', shape: [4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [4] }],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  });
  const out = join(dir, 'warm-up');
  await writeBundle(out, await compileModel(bytes, { relaxed: false }), { force: true });
  return out;
}

/** The size of the files a SIMD128 load reads: manifest.json, model.wasm and weights.bin, as written. */
function loadedBytes(bundle: string): number {
  return [MANIFEST_FILE, WASM_FILE, WEIGHTS_FILE].reduce((sum, f) => sum + statSync(join(bundle, f)).size, 0);
}

/** Memory at load (see the top of this file) in a fresh process, in bytes. */
function loadMemory(bundle: string, warm: string): number {
  const args = ['--import', 'tsx', 'scripts/load-memory.ts', bundle, warm];
  const out = execFileSync(process.execPath, args, {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(out).bytes as number;
}

/** Peak RSS of a fresh process that loads the bundle and runs it once (kiln bench --json). */
function peakRssMb(dir: string): number {
  const out = execFileSync(
    process.execPath,
    ['bin/kiln.js', 'bench', dir, '--runs', '1', '--warmup', '0', '--variant', 'simd128', '--json'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  return JSON.parse(out).peak_rss_mb as number;
}

async function accuracy(c: Case, fp32: Model, int8: Model): Promise<string> {
  // classifiers: pseudo-random images; the encoder: the bench's token ids, shifted through the vocabulary
  const feedsFor = (s: number): Record<string, Feed> => {
    if (c.kind === 'classifier')
      return Object.fromEntries(
        fp32.inputs.map((info, i) => [info.name, randomFeed(info, 1 + i + 1000 * s)]),
      );
    const feeds = benchFeeds(c.inputs) as Record<string, Feed>;
    for (const input of c.inputs) {
      if (input.fill !== 'ids') continue;
      const ids = feeds[input.name].data as BigInt64Array;
      const vocab = BigInt(input.vocab ?? 1000);
      for (let i = 1; i < ids.length; i++) ids[i] = (ids[i] + BigInt(s * 7919)) % vocab;
    }
    return feeds;
  };
  let agree = 0;
  let worstCos = 1;
  const n = c.kind === 'encoder' ? Math.min(samples, 5) : samples;
  for (let s = 0; s < n; s++) {
    const feeds = feedsFor(s);
    const [a, b] = [await fp32.run(feeds), await int8.run(feeds)];
    const name = fp32.outputs[0].name;
    const [ya, yb] = [a[name].data as Float32Array, b[name].data as Float32Array];
    if (argmax(ya) === argmax(yb)) agree++;
    worstCos = Math.min(worstCos, cosine(ya, yb));
  }
  return c.kind === 'classifier'
    ? `top-1 agreement ${agree}/${n}, worst logits cosine ${worstCos.toFixed(4)}`
    : `worst embeddings cosine ${worstCos.toFixed(4)} over ${n} inputs`;
}

/** Both warmed 2 s, then `blocks` alternating blocks of `block-ms` each; per-run times. */
async function speed(feeds: Record<string, Feed>, models: Model[]): Promise<number[][]> {
  const times = models.map((): number[] => []);
  for (const m of models) {
    const until = performance.now() + 2000;
    while (performance.now() < until) await m.run(feeds);
  }
  for (let b = 0; b < Number(values.blocks); b++)
    for (const [i, m] of (b % 2 ? [...models].reverse() : models).entries()) {
      const k = b % 2 ? models.length - 1 - i : i;
      const until = performance.now() + Number(values['block-ms']);
      do {
        const t0 = performance.now();
        await m.run(feeds);
        times[k].push(performance.now() - t0);
      } while (performance.now() < until);
    }
  return times;
}

/**
 * Linear memory's regions in MiB: the plan's, then what lies past the arena (the code generator's own
 * scratch, e.g. float32 gemms' packed panels, and the rounding up to 64 KiB pages), then the total.
 */
function regions(plan: MemoryPlan): string {
  const past = plan.totalBytes - plan.arenaOffset - plan.arenaBytes;
  const planned = [plan.weightsBytes, plan.persistentBytes, plan.ioBytes, plan.arenaBytes];
  return [...planned, past, plan.totalBytes].map(mib).join(' | ');
}

const memoryRows: string[] = [];
const dir = join(root, '.kiln/int8-report');
mkdirSync(dir, { recursive: true });
console.log(
  '| model | bundle fp32 → int8 (ratio) | linear memory fp32 → int8 (ratio) | memory at load fp32 → int8 (ratio) | peak RSS fp32 → int8 MiB (ratio) | accuracy | ms fp32 median/min | ms int8 median/min | int8 ÷ fp32 median (min) |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
const warm = await warmUpBundle();
for (const c of cases()) {
  if (!existsSync(c.onnx)) {
    console.error(`${c.name}: ${c.onnx} missing, skipped`);
    continue;
  }
  const file = new Uint8Array(readFileSync(c.onnx));
  const bytes = c.onnx.startsWith(light) ? withSeededWeights(file) : file;
  const shapes = Object.fromEntries(c.inputs.map((i) => [i.name, i.dims]));
  const built: Record<string, { dir: string; size: number; memory: number }> = {};
  const plans: string[] = [];
  for (const weights of ['fp32', 'int8'] as const) {
    console.error(`${c.name}: compiling ${weights}`);
    const files = await compileModel(bytes, { weights, relaxed: false, shapes });
    const out = join(dir, `${c.name}-${weights}`);
    await writeBundle(out, files, { force: true });
    built[weights] = { dir: out, size: loadedBytes(out), memory: files.manifest.memory.totalBytes };
    plans.push(`| ${c.name} ${weights} | ${regions(files.manifest.memory)} |`);
  }
  const rss = { fp32: peakRssMb(built.fp32.dir), int8: peakRssMb(built.int8.dir) };
  const atLoad = { fp32: loadMemory(built.fp32.dir, warm), int8: loadMemory(built.int8.dir, warm) };
  const [fp32, int8] = await Promise.all(
    [built.fp32.dir, built.int8.dir].map((d) => loadModel(d, { backend: 'wasm', variant: 'simd128' })),
  );
  console.error(`${c.name}: accuracy`);
  const acc = await accuracy(c, fp32, int8);
  const timed = Number(values.blocks) > 0;
  if (timed) console.error(`${c.name}: timing`);
  const [t32, t8] = timed
    ? await speed(benchFeeds(c.inputs) as Record<string, Feed>, [fp32, int8])
    : [[], []];
  fp32.dispose();
  int8.dispose();
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  const ms = (t: number[]) => (timed ? `${median(t).toFixed(2)} / ${Math.min(...t).toFixed(2)}` : '–');
  console.log(
    `| ${c.name} | ${mib(built.fp32.size)} → ${mib(built.int8.size)} MiB (${ratio(built.int8.size, built.fp32.size)}) ` +
      `| ${mib(built.fp32.memory)} → ${mib(built.int8.memory)} MiB (${ratio(built.int8.memory, built.fp32.memory)}) ` +
      `| ${mib(atLoad.fp32)} → ${mib(atLoad.int8)} MiB (${ratio(atLoad.int8, atLoad.fp32)}) ` +
      `| ${rss.fp32} → ${rss.int8} (${ratio(rss.int8, rss.fp32)}) | ${acc} | ${ms(t32)} | ${ms(t8)} ` +
      `| ${timed ? `${ratio(median(t8), median(t32))} (${ratio(Math.min(...t8), Math.min(...t32))})` : '–'} |`,
  );
  memoryRows.push(...plans);
}
console.log(
  '\n| bundle | weights | init() values | inputs, outputs | arena | past the arena | linear memory (MiB) |',
);
console.log('|---|---|---|---|---|---|---|');
memoryRows.forEach((row) => console.log(row));
