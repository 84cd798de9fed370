/**
 * Kiln vs onnxruntime-web 1.31 (wasm, 1 thread, SIMD) vs onnxruntime-node (CPU, 1 intra-op thread),
 * measured the way DESIGN.md §5 asks:
 *
 * - steady state in one process per model (engines that ran earlier models would carry their state
 *   into later ones): every engine warmed by time (≥ 2 s), then the engines timed in alternating
 *   blocks (the order rotates each block); median and p10–p90 of all timed runs;
 * - start-up in fresh child processes (V8 caches compiled wasm per module within a process, so only a
 *   new process shows a real first run): load, first run, peak RSS as the child reports them, and cold
 *   start = spawn → first result as this process times it; median of `--cold-runs` children per engine;
 * - bundle size, compile time, GFLOP/s (FLOPs as the compiler counts them in the manifest's kernel table:
 *   2 per multiply-add in convs and matmuls, 1 per float op elsewhere) and its share of one core's
 *   measured SIMD128 peak (src/cli/simd-peak.ts);
 * - Kiln's outputs checked against onnxruntime-node's before timing;
 * - what a million inferences of Kiln cost on Workers and on Lambda (src/deploy/cost.ts), at the CPU
 *   time per run counted over its steady-state blocks.
 * - the GEMM-bound layers' share of the peak apart from the memory-bound conv/matmul kernels, per Kiln
 *   variant, from one `kiln bench --profile` pass each (scripts/bench/gemm-layers.ts);
 * - the kernel examples (scripts/bench/kernel-cases.ts): Kiln running the kernel bundle beside the
 *   peers running the decomposition into built-in ops, and every engine running that decomposition.
 *
 * Ratios are Kiln ÷ peer: below 1 means Kiln is faster (or smaller). Tables go to stdout (Markdown),
 * progress to stderr. Kiln bundles are compiled in child processes with bin/kiln.js, and the SIMD peak is
 * measured in a child process too, so no compiler wasm tiers up in the timing process.
 *
 *   npm run bench -- [--filter REGEX] [--warm-ms 2000] [--blocks 5] [--block-ms 1000] [--cold-runs 3]
 *                    [--json FILE] [--quick] [--backend wasm|webgpu]
 *
 * `--backend webgpu` times the GPU instead (steady state only): Kiln's webgpu bundle beside onnxruntime-web's
 * WebGPU execution provider, both on Dawn (scripts/bench/webgpu.ts), outputs checked against
 * onnxruntime-node; the table names the adapter, and says when it is a CPU emulation (lavapipe).
 *
 * Kiln runs twice: model.wasm (SIMD128) and model.relaxed.wasm (relaxed SIMD). Node 20 compiles relaxed
 * SIMD only with --experimental-wasm-relaxed-simd, so the bench runs itself (and its children) with it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { ensureBenchModels } from './bench-models.js';
import { benchFeeds, type BenchInput } from './bench/feeds.js';
import { kernelBenchCases } from './bench/kernel-cases.js';
import { profileGemmLayers, type GemmLayers } from './bench/gemm-layers.js';
import {
  differsFrom,
  ENGINE_IDS,
  ENGINE_LABELS,
  openEngine,
  runFor,
  type EngineId,
  type OpenedEngine,
} from './bench/engines.js';
import { adapterLabel, GPU_ENGINE_IDS, GPU_ENGINE_LABELS, openGpuEngine } from './bench/webgpu.js';
import { hasRelaxedSimd } from '../src/runtime/relaxed-simd.js';
import { RELAXED_FLAG, rerunWithRelaxedSimd } from './bench/relaxed-flag.js';
import { quantile } from '../src/runtime/timing.js';
import type { Manifest } from '../src/bundle/manifest.js';
import { readServedBundles } from '../src/deploy/bundles.js';
import { modelFootprint } from '../src/deploy/cloudflare-limits.js';
import { targetCosts, type TargetCost } from '../src/deploy/cost.js';
import { DEFAULT_INSTANCE_TYPE } from '../src/deploy/gpu-limits.js';
import { PRICES_DATE } from '../src/deploy/prices.js';
import { cpuClock, cpuMsPerInference, PROCESS_CLOCK_NOTE } from '../src/cli/cpu-time.js';

rerunWithRelaxedSimd(import.meta.filename);
/** the engines timed: Kiln's relaxed module only where this engine compiles relaxed SIMD */
const ENGINES = ENGINE_IDS.filter((e) => e !== 'kiln-relaxed' || hasRelaxedSimd());
/** the Kiln engine also started with warm-up at load (the variant `kiln serve` would run) */
const WARMUP_ENGINE: EngineId = ENGINES.includes('kiln-relaxed') ? 'kiln-relaxed' : 'kiln';
/** node flags every child gets, so fresh processes see the same engine features */
const CHILD_FLAGS = process.execArgv.filter((a) => a === RELAXED_FLAG);

const { values: args } = parseArgs({
  options: {
    filter: { type: 'string' },
    'warm-ms': { type: 'string' },
    blocks: { type: 'string' },
    'block-ms': { type: 'string' },
    'cold-runs': { type: 'string' },
    json: { type: 'string' },
    quick: { type: 'boolean' },
    backend: { type: 'string' },
    // internal: a child process benching one model (see `benchInChild`)
    'one-model': { type: 'string' },
    'cold-child': { type: 'string' },
    result: { type: 'string' },
  },
});
const quick = !!args.quick;
const warmMs = Number(args['warm-ms'] ?? (quick ? 300 : 2000));
const blocks = Number(args.blocks ?? (quick ? 2 : 5));
const blockMs = Number(args['block-ms'] ?? (quick ? 250 : 1000));
const coldRuns = Number(args['cold-runs'] ?? (quick ? 1 : 3));
const backend = args.backend ?? 'wasm';
if (backend !== 'wasm' && backend !== 'webgpu')
  throw new Error(`--backend ${backend}: expected wasm or webgpu`);
const root = resolve(import.meta.dirname, '..');
const work = join(root, '.kiln/bench');
const log = (line: string) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------- models

interface BenchCase {
  name: string;
  about: string;
  onnx: string;
  inputs: BenchInput[];
  /** Kiln runs this kernel's bundle (the peers run `onnx`): scripts/bench/kernel-cases.ts */
  kernel?: { file: string; name: string };
  /**
   * `kiln compile` flags for a second bundle with dims known only at run time (#11), timed at the bench
   * shape beside the bundle compiled for that shape
   */
  runTimeShapes?: string[];
}

const image = (name: string, dims: number[]): BenchInput[] => [
  { name, dtype: 'float32', dims, fill: 'image' },
];

/** ../shared/data/onnx-light from the main checkout or a worktree beside it */
function lightDir(): string | undefined {
  const candidates = [
    process.env.KILN_ONNX_LIGHT,
    resolve(root, '../shared/data/onnx-light'),
    resolve(root, '../../shared/data/onnx-light'),
  ];
  return candidates.find((d) => d && existsSync(d));
}

function benchCases(filter: RegExp | undefined): BenchCase[] {
  const light = lightDir();
  const cases: BenchCase[] = [
    { name: 'mlp', about: '64→128→10', onnx: join(root, 'models/mlp.onnx'), inputs: image('x', [1, 64]) },
    {
      name: 'cnn',
      about: '32×32, 2 convs',
      onnx: join(root, 'models/cnn.onnx'),
      inputs: image('image', [1, 3, 32, 32]),
    },
    {
      name: 'attention',
      about: '8×32, 4 heads',
      onnx: join(root, 'models/attention.onnx'),
      inputs: image('x', [1, 8, 32]),
    },
  ];
  if (light)
    cases.push(
      {
        name: 'squeezenet',
        about: 'onnx-light, 224²',
        onnx: join(light, 'light_squeezenet.onnx'),
        inputs: image('data_0', [1, 3, 224, 224]),
      },
      {
        name: 'resnet50',
        about: 'onnx-light, 224²',
        onnx: join(light, 'light_resnet50.onnx'),
        inputs: image('gpu_0/data_0', [1, 3, 224, 224]),
      },
    );
  else log('onnx-light models not found (set KILN_ONNX_LIGHT): squeezenet and resnet50 skipped');
  const generated: Record<string, string> = {
    'mobilenetv3-cls': 'exporter-shaped, 48×192',
    'dbnet-det': 'exporter-shaped, 640²',
    'crnn-rec': 'exporter-shaped, 48×320',
    'bert-enc': 'exporter-shaped, seq 128',
  };
  /** the run-time-shape bundles: the shapes an OCR service (detector, recognizer) and a text encoder are served at */
  const runTimeShapes: Record<string, string[]> = {
    'dbnet-det': ['--shape', 'x=1,3,32..1024:32,32..1024:32'],
    'crnn-rec': ['--shape', 'x=1,3,48,16..1024'],
    'bert-enc': ['--dim', 'batch=1..4', '--dim', 'sequence=1..256'],
  };
  const wanted = Object.keys(generated).filter((n) => !filter || filter.test(n));
  for (const [name, m] of Object.entries(ensureBenchModels(wanted, log)))
    cases.push({
      name,
      about: generated[name],
      onnx: m.path,
      inputs: m.inputs,
      runTimeShapes: runTimeShapes[name],
    });
  cases.push(...kernelBenchCases(work));
  return cases.filter((c) => !filter || filter.test(c.name));
}

// ---------------------------------------------------------------- child processes

/** Run `node ARGS` and parse the last stdout line as JSON. */
function nodeJson<T>(nodeArgs: string[]): T {
  const out = execFileSync(process.execPath, nodeArgs, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = out.toString().trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}

const tsx = (script: string, ...rest: string[]) => ['--import', 'tsx', join(root, script), ...rest];

interface ColdSample {
  load_ms: number;
  first_run_ms: number;
  peak_rss_mb: number;
  cold_start_ms: number;
}

/** One fresh process: spawn → its result line is the cold start; the child reports the rest. */
function coldStart(
  child: string,
  engine: EngineId,
  c: BenchCase,
  bundle: string,
  warmup = false,
): Promise<ColdSample> {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    const proc = spawn(
      process.execPath,
      [
        ...CHILD_FLAGS,
        child,
        engine,
        c.onnx,
        bundle,
        JSON.stringify(c.inputs),
        ...(warmup ? ['warmup'] : []),
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let sample: ColdSample | undefined;
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!sample && stdout.includes('\n'))
        sample = { ...JSON.parse(stdout.split('\n')[0]), cold_start_ms: performance.now() - start };
    });
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (code) =>
      code === 0 && sample
        ? resolvePromise(sample)
        : reject(new Error(`${engine} cold-start child for ${c.name} exited ${code}: ${stderr.trim()}`)),
    );
  });
}

/** The cold-start child as plain JS (Kiln's runtime bundled in, the peers left as packages). */
async function buildColdStartChild(): Promise<string> {
  const outfile = join(work, 'cold-start.mjs');
  await build({
    entryPoints: [join(root, 'scripts/bench/cold-start.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['onnxruntime-web', 'onnxruntime-node'],
    logLevel: 'warning',
  });
  return outfile;
}

// ---------------------------------------------------------------- sizes

const fileMb = (path: string) => statSync(path).size / 1e6;
const dirMb = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce(
    (sum, e) => sum + (e.isDirectory() ? dirMb(join(dir, e.name)) : fileMb(join(dir, e.name))),
    0,
  );

/** What each engine needs besides the model file: ORT-web's wasm binary, ORT-node's native libraries. */
function runtimeMb(engine: EngineId): number {
  if (engine === 'ort-web')
    return fileMb(join(root, 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm'));
  if (engine === 'ort-node') {
    const bin = join(root, 'node_modules/onnxruntime-node/bin');
    const napi = readdirSync(bin).find((d) => d.startsWith('napi'));
    return napi ? dirMb(join(bin, napi, process.platform, process.arch)) : NaN;
  }
  return 0;
}

// ---------------------------------------------------------------- steady state

interface Stats {
  median_ms: number;
  p10_ms: number;
  p90_ms: number;
  runs: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  return { median_ms: quantile(s, 0.5), p10_ms: quantile(s, 0.1), p90_ms: quantile(s, 0.9), runs: s.length };
}

// ---------------------------------------------------------------- one model

interface ModelResult {
  model: string;
  about: string;
  gflop: number;
  compile_s: number;
  agrees_with_ort_node: string;
  steady: Partial<Record<string, Stats>>;
  cold: Partial<Record<EngineId, ColdSample & { samples: ColdSample[] }>>;
  /** Kiln (relaxed where measured) loaded with warm-up at load, as `kiln serve` loads it */
  cold_warmup: ColdSample & { samples: ColdSample[] };
  size_mb: Record<EngineId, number>;
  /** $ per 1M inferences of the Kiln variant a deploy runs (relaxed where measured) on each target */
  cost_per_million: { engine: EngineId; targets: TargetCost[] };
  /** the run-time-shape bundle (BenchCase.runTimeShapes) as `engine` runs it, timed in the same blocks */
  run_time_shapes?: { flags: string[]; engine: EngineId; steady: Stats };
  /** the GEMM-bound layers apart from the rest, one profiled pass per Kiln variant (scripts/bench/gemm-layers.ts) */
  gemm_layers: Partial<Record<EngineId, GemmLayers>>;
}

/**
 * Compile the case's Kiln bundle in a child process (`--targets wasm,webgpu` for the GPU bench), at the
 * bench shape, or with `shapeFlags` (the run-time-shape bundle) into `NAME-run-time-shapes`.
 */
function compileCase(
  c: BenchCase,
  shapeFlags?: string[],
): { bundle: string; compileS: number; flops: number } {
  const name = shapeFlags ? `${c.name}-run-time-shapes` : c.name;
  const bundle = join(work, backend === 'webgpu' ? 'bundles-webgpu' : 'bundles', name);
  log(`[${name}] kiln: compiling (child process)`);
  const t0 = performance.now();
  execFileSync(
    process.execPath,
    [
      join(root, 'bin/kiln.js'),
      'compile',
      ...(c.kernel ? [c.kernel.file, '--kernel', c.kernel.name] : [c.onnx]),
      '-o',
      bundle,
      ...(shapeFlags ?? c.inputs.flatMap((i) => ['--shape', `${i.name}=${i.dims.join(',')}`])),
      ...(backend === 'webgpu' ? ['--targets', 'wasm,webgpu'] : []),
    ],
    // the GPU bench reads a refusal's message from stderr (benchGpuModel)
    { cwd: root, stdio: ['ignore', 'ignore', backend === 'webgpu' ? 'pipe' : 'inherit'] },
  );
  const compileS = (performance.now() - t0) / 1000;
  // the compiler's count (manifest kernel table): 2 per multiply-add in convs and matmuls, 1 per float op elsewhere
  const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as Manifest;
  const flops = (manifest.kernels ?? []).reduce((sum, k) => sum + k.flops, 0);
  return { bundle, compileS, flops };
}

async function benchModel(c: BenchCase, child: string): Promise<ModelResult> {
  const { bundle, compileS, flops } = compileCase(c);

  const onnxMb = fileMb(c.onnx);
  const size_mb = {
    kiln: fileMb(join(bundle, 'model.wasm')) + fileMb(join(bundle, 'weights.bin')),
    'kiln-relaxed':
      fileMb(
        join(bundle, existsSync(join(bundle, 'model.relaxed.wasm')) ? 'model.relaxed.wasm' : 'model.wasm'),
      ) + fileMb(join(bundle, 'weights.bin')),
    'ort-web': onnxMb + runtimeMb('ort-web'),
    'ort-node': onnxMb + runtimeMb('ort-node'),
  };

  // start-up: fresh processes, engines interleaved
  const coldSamples = Object.fromEntries(ENGINES.map((e) => [e, [] as ColdSample[]])) as Record<
    EngineId,
    ColdSample[]
  >;
  const warmSamples: ColdSample[] = [];
  for (let i = 0; i < coldRuns; i++) {
    for (const engine of ENGINES) {
      log(`[${c.name}] ${engine}: cold start ${i + 1}/${coldRuns} (fresh process)`);
      coldSamples[engine].push(await coldStart(child, engine, c, bundle));
    }
    log(`[${c.name}] ${WARMUP_ENGINE} with warm-up at load: cold start ${i + 1}/${coldRuns} (fresh process)`);
    warmSamples.push(await coldStart(child, WARMUP_ENGINE, c, bundle, true));
  }
  const medians = (s: ColdSample[]) => {
    const med = (k: keyof ColdSample) =>
      quantile(
        s.map((x) => x[k]).sort((a, b) => a - b),
        0.5,
      );
    return {
      load_ms: med('load_ms'),
      first_run_ms: med('first_run_ms'),
      peak_rss_mb: med('peak_rss_mb'),
      cold_start_ms: med('cold_start_ms'),
      samples: s,
    };
  };
  const cold: ModelResult['cold'] = {};
  for (const engine of ENGINES) cold[engine] = medians(coldSamples[engine]);

  // steady state in this process
  const feeds = benchFeeds(c.inputs);
  const opened = {} as Record<EngineId, OpenedEngine>;
  for (const engine of ENGINES) {
    log(`[${c.name}] ${engine}: loading`);
    opened[engine] = await openEngine(engine, { onnx: c.onnx, bundle }, feeds);
  }
  // the run-time-shape bundle, as the variant a deploy runs, at the bench shape: one more engine in the blocks
  const dynamic = c.runTimeShapes && {
    flags: c.runTimeShapes,
    engine: WARMUP_ENGINE,
    opened: await openEngine(
      WARMUP_ENGINE,
      { onnx: c.onnx, bundle: compileCase(c, c.runTimeShapes).bundle },
      feeds,
    ),
  };
  const agrees = await checkAgainstOrtNode({ ...opened, ...(dynamic && { dynamic: dynamic.opened }) });
  log(`[${c.name}] kiln vs ort-node outputs: ${agrees}`);
  type Timed = EngineId | 'dynamic';
  const timed: Timed[] = [...ENGINES, ...(dynamic ? ['dynamic' as const] : [])];
  const engineOf = (t: Timed) => (t === 'dynamic' ? dynamic!.opened : opened[t]);
  for (const t of timed) {
    log(`[${c.name}] ${t}: warming ≥ ${warmMs} ms`);
    await runFor(engineOf(t), warmMs, 3);
  }
  const samples = Object.fromEntries(timed.map((e) => [e, [] as number[]])) as Record<Timed, number[]>;
  /** CPU time counted over each engine's blocks (src/cli/cpu-time.ts), for the cost columns */
  const cpuMs = Object.fromEntries(timed.map((e) => [e, 0])) as Record<Timed, number>;
  for (let b = 0; b < blocks; b++)
    for (let k = 0; k < timed.length; k++) {
      const t = timed[(b + k) % timed.length];
      log(`[${c.name}] ${t}: block ${b + 1}/${blocks}`);
      const cpuStart = cpuClock.ms();
      const times = await runFor(engineOf(t), blockMs, 2);
      cpuMs[t] += cpuClock.ms() - cpuStart;
      for (const x of times) samples[t].push(x); // µs models: too many to spread
    }
  for (const t of timed) await engineOf(t).dispose();
  const gemmLayers: ModelResult['gemm_layers'] = {};
  for (const engine of ['kiln', 'kiln-relaxed'] as const) {
    if (!ENGINES.includes(engine) || !opened[engine]) continue;
    if (engine === 'kiln-relaxed' && !existsSync(join(bundle, 'model.relaxed.wasm'))) continue;
    log(`[${c.name}] ${engine}: profiling the kernels (child process)`);
    gemmLayers[engine] = profileGemmLayers(root, bundle, engine === 'kiln' ? 'simd128' : 'relaxed', {
      nodeFlags: CHILD_FLAGS,
      runs: quick ? 3 : 10,
      warmupMs: quick ? 500 : 2000,
    });
  }
  const steady: ModelResult['steady'] = {};
  for (const engine of ENGINES) steady[engine] = stats(samples[engine]);
  return {
    cost_per_million: await kilnCost(bundle, samples, cpuMs),
    model: c.name,
    about: c.about,
    gflop: flops / 1e9,
    compile_s: compileS,
    agrees_with_ort_node: agrees,
    steady,
    cold,
    cold_warmup: medians(warmSamples),
    size_mb,
    gemm_layers: gemmLayers,
    ...(dynamic && {
      run_time_shapes: { flags: dynamic.flags, engine: dynamic.engine, steady: stats(samples.dynamic) },
    }),
  };
}

/**
 * Kiln on each deploy target, priced from the variant those runtimes pick (relaxed SIMD: Node 24 on
 * Lambda, workerd) and its CPU time per inference over the timed blocks, as `kiln bench --cost` does.
 */
async function kilnCost(
  bundle: string,
  samples: Record<EngineId, number[]>,
  cpuMs: Record<EngineId, number>,
): Promise<ModelResult['cost_per_million']> {
  const engine: EngineId = ENGINES.includes('kiln-relaxed') ? 'kiln-relaxed' : 'kiln';
  const runs = samples[engine];
  const [served] = await readServedBundles([bundle]);
  const targets = targetCosts({
    manifest: served.manifest,
    footprint: modelFootprint(served, true),
    measurement: {
      backend: 'wasm',
      medianMs: stats(runs).median_ms,
      cpuMs: cpuMsPerInference(cpuMs[engine] / runs.length, runs),
      cpuClock: cpuClock.kind,
    },
    instanceType: DEFAULT_INSTANCE_TYPE,
  });
  return { engine, targets };
}

async function checkAgainstOrtNode(
  opened: Partial<Record<EngineId | 'dynamic', OpenedEngine>>,
): Promise<string> {
  for (const engine of ['kiln', 'kiln-relaxed', 'dynamic'] as const) {
    if (!opened[engine]) continue;
    const problem = await differsFrom(opened['ort-node']!, opened[engine]);
    if (problem) return `${engine}: ${problem}`;
  }
  return 'yes';
}

// ---------------------------------------------------------------- one model on the GPU

interface GpuModelResult {
  model: string;
  about: string;
  gflop: number;
  /** the adapter both engines ran on, "(CPU emulation — not performance)" where it is one */
  adapter: string;
  /** per engine: `yes`, where its outputs differ from onnxruntime-node's, or why it did not run */
  agrees_with_ort_node: Record<string, string>;
  steady: Partial<Record<string, Stats>>;
}

/** The compiler's own message (its `kiln: ...` line on stderr) from a failed compile child. */
function compileError(err: unknown): string {
  const stderr = String((err as { stderr?: Buffer | string }).stderr ?? '');
  const line = stderr.split('\n').find((l) => l.startsWith('kiln: ') && !l.startsWith('kiln: warning'));
  return line?.slice('kiln: '.length) ?? (err as Error).message.split('\n')[0];
}

/** Kiln webgpu and ORT-web WebGPU warmed, then timed in alternating blocks; an engine that cannot load says why. */
async function benchGpuModel(c: BenchCase): Promise<GpuModelResult> {
  const agrees: Record<string, string> = {};
  let compiled: { bundle: string; flops: number } = { bundle: '', flops: 0 };
  try {
    compiled = compileCase(c);
  } catch (err) {
    // a model Kiln does not compile for webgpu gets its row, saying why; the peer is still timed
    agrees[GPU_ENGINE_IDS[0]] = `did not compile: ${compileError(err)}`;
  }
  const { bundle, flops } = compiled;
  const feeds = benchFeeds(c.inputs);
  const oracle = await openEngine('ort-node', { onnx: c.onnx, bundle }, feeds);
  const opened: { id: string; engine: OpenedEngine }[] = [];
  for (const id of GPU_ENGINE_IDS) {
    if (agrees[id]) continue;
    log(`[${c.name}] ${id}: loading`);
    try {
      const engine = await openGpuEngine(id, { onnx: c.onnx, bundle }, feeds);
      agrees[id] = (await differsFrom(oracle, engine)) ?? 'yes';
      opened.push({ id, engine });
    } catch (err) {
      agrees[id] = `did not run: ${(err as Error).message.split('\n')[0]}`;
    }
    log(`[${c.name}] ${id} vs ort-node outputs: ${agrees[id]}`);
  }
  await oracle.dispose();
  for (const { id, engine } of opened) {
    log(`[${c.name}] ${id}: warming ≥ ${warmMs} ms`);
    await runFor(engine, warmMs, 3);
  }
  const samples = Object.fromEntries(opened.map(({ id }) => [id, [] as number[]]));
  for (let b = 0; b < blocks; b++)
    for (let k = 0; k < opened.length; k++) {
      const { id, engine } = opened[(b + k) % opened.length];
      log(`[${c.name}] ${id}: block ${b + 1}/${blocks}`);
      samples[id].push(...(await runFor(engine, blockMs, 2)));
    }
  for (const { engine } of opened) await engine.dispose();
  return {
    model: c.name,
    about: c.about,
    gflop: flops / 1e9,
    adapter: await adapterLabel(),
    agrees_with_ort_node: agrees,
    steady: Object.fromEntries(Object.entries(samples).map(([id, s]) => [id, stats(s)])),
  };
}

// ---------------------------------------------------------------- report

const fmt = (x: number | undefined, digits?: number) => {
  if (x === undefined || !Number.isFinite(x)) return 'n/a';
  const d = digits ?? (x >= 100 ? 0 : x >= 10 ? 1 : x >= 1 ? 2 : 3);
  return x.toFixed(d);
};
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? fmt(a / b, 2) : 'n/a');
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
/** a target's $ per 1M inferences, or why there is none (a limit of the target) */
const dollars = (r: ModelResult, target: string) => {
  const cost = r.cost_per_million.targets.find((t) => t.target === target)!;
  return cost.usdPerMillion === undefined ? cost.basis.replace(/:.*/, '') : `$${fmt(cost.usdPerMillion, 3)}`;
};

function report(results: ModelResult[], peak: { simd128: number; relaxed?: number }, date: string): string {
  const lines: string[] = [];
  const steadyCols = ENGINES;
  const label = (id: EngineId) => ENGINE_LABELS[id];
  const relaxed = ENGINES.includes('kiln-relaxed');
  lines.push(
    `${date}, Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), one thread per engine.`,
    `Measured SIMD128 peak of one core: ${fmt(peak.simd128)} GFLOP/s` +
      (peak.relaxed ? `, relaxed madd ${fmt(peak.relaxed)} GFLOP/s.` : ' (no relaxed SIMD in this engine).'),
    `Steady state: each engine warmed ≥ ${warmMs} ms, then ${blocks} alternating blocks of ≥ ${blockMs} ms; ` +
      `median ms (p10–p90). Start-up: median of ${coldRuns} fresh process(es) per engine.`,
    '**Ratios are Kiln ÷ peer: below 1 = Kiln faster (or smaller).**',
    `$/1M: a million inferences of ${relaxed ? 'Kiln relaxed' : 'Kiln'} (at its CPU time per run over the blocks) on Workers Standard and on ` +
      `Lambda arm64 at the memory size kiln deploy picks, requests included; prices of ${PRICES_DATE} (src/deploy/prices.ts, \`kiln bench --cost\`)` +
      (cpuClock.kind === 'process' ? `; ${PROCESS_CLOCK_NOTE}.` : '.'),
    '',
    row([
      'model',
      'GFLOP',
      ...steadyCols.map((e) => `${label(e)} ms`),
      'Kiln ÷ ORT-web',
      ...(relaxed ? ['Kiln relaxed ÷ ORT-web'] : []),
      'Kiln ÷ ORT-node',
      ...steadyCols.map((e) => `${label(e)} GFLOP/s (% peak)`),
      'Kiln output = ORT-node',
      'Kiln $/1M Workers',
      'Kiln $/1M Lambda arm64',
    ]),
    row(Array(7 + (relaxed ? 1 : 0) + 2 * steadyCols.length).fill('---')),
  );
  for (const r of results) {
    const cell = (e: EngineId) => {
      const s = r.steady[e];
      return s ? `${fmt(s.median_ms)} (${fmt(s.p10_ms)}–${fmt(s.p90_ms)})` : 'n/a';
    };
    const rate = (e: EngineId) => {
      const s = r.steady[e];
      if (!s || !r.gflop) return 'n/a';
      const g = r.gflop / (s.median_ms / 1000);
      return `${fmt(g, 1)} (${fmt((100 * g) / peak.simd128, 0)} %)`;
    };
    lines.push(
      row([
        `${r.model} (${r.about})`,
        r.gflop ? r.gflop.toPrecision(3) : 'n/a',
        ...steadyCols.map(cell),
        ratio(r.steady.kiln?.median_ms, r.steady['ort-web']?.median_ms),
        ...(relaxed ? [ratio(r.steady['kiln-relaxed']?.median_ms, r.steady['ort-web']?.median_ms)] : []),
        ratio(r.steady.kiln?.median_ms, r.steady['ort-node']?.median_ms),
        ...steadyCols.map(rate),
        r.agrees_with_ort_node,
        dollars(r, 'cloudflare'),
        dollars(r, 'lambda arm64'),
      ]),
    );
  }
  lines.push('', ...gemmLayersTable(results, peak));
  const dynamic = results.filter((r) => r.run_time_shapes);
  if (dynamic.length)
    lines.push(
      '',
      'Run-time shapes: one bundle compiled with dims known only at run time, run at the bench shape in the same',
      'alternating blocks as the bundle compiled for that shape (same variant); ratio = run-time ÷ fixed.',
      '',
      row(['model', 'compiled with', 'fixed-shape ms', 'run-time-shape ms', 'run-time ÷ fixed']),
      row(Array(5).fill('---')),
      ...dynamic.map((r) => {
        const d = r.run_time_shapes!;
        const fixed = r.steady[d.engine];
        return row([
          `${r.model} (${ENGINE_LABELS[d.engine]})`,
          `\`${d.flags.join(' ')}\``,
          fixed ? fmt(fixed.median_ms) : 'n/a',
          fmt(d.steady.median_ms),
          ratio(d.steady.median_ms, fixed?.median_ms),
        ]);
      }),
    );
  lines.push(
    '',
    'Start-up, each sample a fresh `node` process: load = model load (library already imported), first run = the',
    'run after it, cold start = spawn → first result (Node start, imports, load, first run), peak RSS of the',
    'process. Size = what the engine needs for the model: Kiln model.wasm + weights.bin; ORT-web the .onnx +',
    'ort-wasm-simd-threaded.wasm; ORT-node the .onnx + its native libraries. First ÷ steady = first run ÷ the',
    "engine's steady-state median above. Kiln rows load with `kiln/runtime`'s Node default (the module compiled",
    'by V8\'s optimizing tier at load, src/runtime-node/index.ts); "warm-up at load" = loaded as `kiln serve` loads it:',
    'also run on zeros before loadModel resolves (src/runtime/warmup.ts; its time is in load).',
    '',
    row([
      'model',
      'engine',
      'load ms',
      'first run ms',
      'first ÷ steady',
      'cold start ms',
      'peak RSS MB',
      'size MB',
      'compile s',
    ]),
    row(Array(9).fill('---')),
  );
  for (const r of results) {
    const startRow = (label: string, e: EngineId, c: ColdSample) =>
      row([
        r.model,
        label,
        fmt(c.load_ms),
        fmt(c.first_run_ms),
        ratio(c.first_run_ms, r.steady[e]?.median_ms),
        fmt(c.cold_start_ms),
        fmt(c.peak_rss_mb, 0),
        fmt(r.size_mb[e], 2),
        e === 'kiln' ? fmt(r.compile_s, 1) : '',
      ]);
    for (const e of ENGINES) {
      lines.push(startRow(ENGINE_LABELS[e], e, r.cold[e]!));
      if (e === WARMUP_ENGINE) lines.push(startRow(`${ENGINE_LABELS[e]}, warm-up at load`, e, r.cold_warmup));
    }
    const k = r.cold.kiln!;
    const w = r.cold['ort-web']!;
    lines.push(
      row([
        r.model,
        '**Kiln ÷ ORT-web**',
        ratio(k.load_ms, w.load_ms),
        ratio(k.first_run_ms, w.first_run_ms),
        '',
        ratio(k.cold_start_ms, w.cold_start_ms),
        ratio(k.peak_rss_mb, w.peak_rss_mb),
        ratio(r.size_mb.kiln, r.size_mb['ort-web']),
        '',
      ]),
    );
  }
  return lines.join('\n');
}

/**
 * The GEMM-bound layers' share of the SIMD128 peak per Kiln variant, FLOP-weighted, with the worst of them,
 * and the other conv/matmul kernels (memory-bound) apart: rated against this bench's peak measurement.
 */
function gemmLayersTable(results: ModelResult[], peak: { simd128: number; relaxed?: number }): string[] {
  const variants = (['kiln', 'kiln-relaxed'] as const).filter((e) => results.some((r) => r.gemm_layers[e]));
  const pct = (gflops: number | null | undefined) =>
    gflops === null || gflops === undefined ? 'n/a' : `${fmt((100 * gflops) / peak.simd128, 0)} %`;
  /** the relaxed variant's share of the relaxed madd peak too: what FMA leaves on the table on this core */
  const pctOfMadd = (e: EngineId, gflops: number | null | undefined) =>
    e !== 'kiln-relaxed' || !peak.relaxed || gflops === null || gflops === undefined
      ? ''
      : ` (${fmt((100 * gflops) / peak.relaxed, 0)} % of madd)`;
  const rule = results.map((r) => r.gemm_layers.kiln?.rule).find((x) => x);
  const rows = results.filter((r) => r.gemm_layers.kiln);
  if (!rows.length || !rule) return [];
  return [
    `GEMM-bound layers (\`kiln bench --profile\`'s split, src/cli/profile/gemm-bound.ts: ${rule}): their FLOPs over their`,
    'time as % of the SIMD128 peak above (the relaxed variant also as % of the relaxed madd peak), and the worst of them; "other conv/matmul" = the Conv/MatMul/Gemm kernels',
    'that miss the bar (depthwise, 1×1 maps, small K: memory-bound). One profiled pass per variant, by CPU time.',
    '',
    row([
      'model',
      'GEMM-bound kernels (% of FLOPs)',
      ...variants.map((e) => `${ENGINE_LABELS[e]} % peak`),
      ...variants.map((e) => `${ENGINE_LABELS[e]} worst layer`),
      'other conv/matmul kernels (% of FLOPs)',
      ...variants.map((e) => `${ENGINE_LABELS[e]} other % peak`),
    ]),
    row(Array(3 + 3 * variants.length).fill('---')),
    ...rows.map((r) => {
      const g = r.gemm_layers.kiln!;
      const worst = (e: EngineId) => {
        const w = r.gemm_layers[e]?.gemm_bound.worst;
        return w ? `${w.kernel} (${w.gemm.M}×${w.gemm.N}×${w.gemm.K}) ${pct(w.gflops)}` : 'n/a';
      };
      return row([
        r.model,
        `${g.gemm_bound.kernels} (${fmt(g.gemm_bound.flops_pct, 1)} %)`,
        ...variants.map(
          (e) => pct(r.gemm_layers[e]?.gemm_bound.gflops) + pctOfMadd(e, r.gemm_layers[e]?.gemm_bound.gflops),
        ),
        ...variants.map(worst),
        `${g.other_matrix.kernels} (${fmt(g.other_matrix.flops_pct, 1)} %)`,
        ...variants.map((e) => pct(r.gemm_layers[e]?.other_matrix.gflops)),
      ]);
    }),
  ];
}

/** The GPU table: both engines' steady-state medians on the adapter each row names. */
function gpuReport(results: GpuModelResult[], date: string): string {
  const [kiln, peer] = GPU_ENGINE_IDS;
  const cell = (r: GpuModelResult, id: string) => {
    const s = r.steady[id];
    return s ? `${fmt(s.median_ms)} (${fmt(s.p10_ms)}–${fmt(s.p90_ms)})` : 'n/a';
  };
  return [
    `${date}, Node ${process.version}, WebGPU through Dawn (the \`webgpu\` package).`,
    `Steady state: each engine warmed ≥ ${warmMs} ms, then ${blocks} alternating blocks of ≥ ${blockMs} ms; median ms (p10–p90).`,
    '**Ratios are Kiln ÷ peer: below 1 = Kiln faster.**',
    '',
    row([
      'model',
      'adapter',
      'GFLOP',
      ...GPU_ENGINE_IDS.map((id) => `${GPU_ENGINE_LABELS[id]} ms`),
      `Kiln ÷ ${GPU_ENGINE_LABELS[peer]}`,
      ...GPU_ENGINE_IDS.map((id) => `${GPU_ENGINE_LABELS[id]} output = ORT-node`),
    ]),
    row(Array(4 + 2 * GPU_ENGINE_IDS.length).fill('---')),
    ...results.map((r) =>
      row([
        `${r.model} (${r.about})`,
        r.adapter,
        r.gflop ? r.gflop.toPrecision(3) : 'n/a',
        ...GPU_ENGINE_IDS.map((id) => cell(r, id)),
        ratio(r.steady[kiln]?.median_ms, r.steady[peer]?.median_ms),
        ...GPU_ENGINE_IDS.map((id) => r.agrees_with_ort_node[id]),
      ]),
    ),
  ].join('\n');
}

// ---------------------------------------------------------------- main

/** settings a child process must share with this one */
const SETTING_FLAGS = ['warm-ms', 'blocks', 'block-ms', 'cold-runs', 'backend'] as const;

/**
 * Each model is benched in its own process: engines that ran earlier models leave their state behind
 * (onnxruntime-web's heap and tiered-up code ran 2–3× slower on later models in one shared process),
 * so a fresh process per model gives every engine the same start.
 */
function benchInChild<R>(c: BenchCase, child: string | undefined): R {
  const resultFile = join(work, `result-${c.name}.json`);
  const settings = SETTING_FLAGS.flatMap((k) => (args[k] ? [`--${k}`, args[k]!] : []));
  execFileSync(
    process.execPath,
    [
      ...process.execArgv,
      import.meta.filename,
      ...(quick ? ['--quick'] : []),
      ...settings,
      '--one-model',
      c.name,
      ...(child ? ['--cold-child', child] : []),
      '--result',
      resultFile,
    ],
    { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return JSON.parse(readFileSync(resultFile, 'utf8')) as R;
}

mkdirSync(join(work, 'bundles'), { recursive: true });
if (args['one-model']) {
  const name = args['one-model'];
  const [c] = /^[\w-]+$/.test(name) ? benchCases(new RegExp(`^${name}$`)) : [];
  if (!c) throw new Error(`no bench model named ${args['one-model']}`);
  const result = backend === 'webgpu' ? await benchGpuModel(c) : await benchModel(c, args['cold-child']!);
  writeFileSync(args.result!, JSON.stringify(result));
  process.exit(0);
}
const cases = benchCases(args.filter ? new RegExp(args.filter) : undefined);
if (!cases.length) throw new Error(`no model matches --filter ${args.filter}`);
const date = () => new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
if (backend === 'webgpu') {
  const results = cases.map((c) => benchInChild<GpuModelResult>(c, undefined));
  const when = date();
  console.log(gpuReport(results, when));
  if (args.json)
    writeFileSync(
      args.json,
      JSON.stringify(
        {
          date: when,
          node: process.version,
          backend,
          settings: { warm_ms: warmMs, blocks, block_ms: blockMs },
          ratio_direction: 'kiln / peer: below 1 = kiln faster',
          results,
        },
        null,
        1,
      ),
    );
  process.exit(0);
}
log('measuring the SIMD128 peak (child process)');
const peak = nodeJson<{ simd128: number; relaxed?: number }>([
  ...CHILD_FLAGS,
  ...tsx('scripts/bench/probe.ts', quick ? '300' : '1000'),
]);
log('building the cold-start child');
const child = await buildColdStartChild();
const results: ModelResult[] = [];
for (const c of cases) results.push(benchInChild<ModelResult>(c, child));
const when = date();
console.log(report(results, peak, when));
if (args.json)
  writeFileSync(
    args.json,
    JSON.stringify(
      {
        date: when,
        node: process.version,
        cpu: cpus()[0]?.model,
        cores: cpus().length,
        simd_peak_gflops: peak,
        settings: {
          warm_ms: warmMs,
          blocks,
          block_ms: blockMs,
          cold_runs: coldRuns,
        },
        ratio_direction: 'kiln / peer: below 1 = kiln faster or smaller',
        results,
      },
      null,
      1,
    ),
  );
