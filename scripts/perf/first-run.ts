/**
 * First run after load against Kiln's own steady state (issue #18), each measurement in a FRESH process:
 * V8 caches compiled wasm modules by their bytes within a process, so a second load in the same process
 * would start with code already tiered up.
 *
 *   npx tsx scripts/perf/first-run.ts [--procs 3] [--warm-ms 2000] [--lazy] [--variant simd128|relaxed] [--clock wall|cpu]
 *       [--load-warmup off|MS] [LABEL=]BUNDLE_DIR ...
 *
 * `--clock cpu` times runs by this process's CPU time (src/cli/cpu-time.ts) instead of the wall clock: on
 * a machine with more runnable processes than cores, one wall-clock sample of a short run often holds
 * another process's time slice. Integer inputs are fed ones (valid token ids, an all-ones mask).
 *
 * The children run with this process's node flags: on Node 20, `--variant relaxed` needs
 * `node --experimental-wasm-relaxed-simd --import tsx scripts/perf/first-run.ts …`.
 *
 * Per child process: load the bundle (wasm backend) as `kiln/runtime` loads it on Node (optimized code
 * compiled up front; `--lazy`: V8's lazy default, as in a Worker or browser; its warm-up at load for a small
 * model, or `--load-warmup off` none, `MS` that long), time run #1, #2, #3, then warm up by time
 * (≥ warm-ms) and take the median of the runs after that. The parent interleaves bundles (a, b, a, b, …)
 * so machine noise hits them alike, and prints per bundle the median over processes of each figure.
 *
 *   npx tsx scripts/perf/first-run.ts --steady [--blocks 15] A_DIR B_DIR ...
 *
 * compares steady states only, in one process: every bundle loaded and warmed up (≥ warm-ms each), then
 * blocks of runs interleaved (a, b, a, b, …); prints each bundle's median run and its ratio to the first.
 */
import { execFileSync } from 'node:child_process';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../../src/runtime-node/index.js';
import type { Feed, LoadOptions, Model, WasmVariant } from '../../src/runtime/types.js';
import { upperBounds } from '../../src/bundle/shape-dims.js';
import { ELEMENT_ARRAY, type NumericDType } from '../../src/bundle/elements.js';
import { cpuClock } from '../../src/cli/cpu-time.js';

interface Sample {
  loadMs: number;
  run1: number;
  run2: number;
  run3: number;
  steady: number;
  steadyRuns: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

const CLOCKS = { wall: () => performance.now(), cpu: cpuClock.ms };
type Clock = keyof typeof CLOCKS;

async function child(dir: string, warmMs: number, load: LoadOptions, clock: Clock): Promise<Sample> {
  const now = CLOCKS[clock];
  const t0 = now();
  const model = await loadModel(dir, load);
  const loadMs = now() - t0;
  const feeds = await feedsOf(model);
  const timeRun = async (): Promise<number> => {
    const start = now();
    await model.run(feeds);
    return now() - start;
  };
  const [run1, run2, run3] = [await timeRun(), await timeRun(), await timeRun()];
  const warmEnd = performance.now() + warmMs;
  while (performance.now() < warmEnd) await timeRun();
  const times: number[] = [];
  const end = performance.now() + Math.max(1000, 20 * run3);
  while (times.length < 10 || performance.now() < end) times.push(await timeRun());
  return { loadMs, run1, run2, run3, steady: median(times), steadyRuns: times.length };
}

/** The onnx-light inputs: arange(n) / n for each float32 input; ones for an integer one (token ids, masks). */
async function feedsOf(model: Model): Promise<Record<string, Feed>> {
  const feeds: Record<string, Feed> = {};
  for (const input of model.inputs) {
    const dims = upperBounds(input.shape);
    const n = dims.reduce((a, b) => a * b, 1);
    const dtype = input.dtype as NumericDType;
    const data =
      dtype === 'float32'
        ? new Float32Array(n).map((_, i) => i / n)
        : dtype === 'int64' || dtype === 'uint64'
          ? new ELEMENT_ARRAY[dtype](n).fill(1n as never)
          : new ELEMENT_ARRAY[dtype](n).fill(1 as never);
    feeds[input.name] = { dtype, dims, data } as Feed;
  }
  return feeds;
}

async function steady(
  bundles: { label: string; dir: string }[],
  warmMs: number,
  blocks: number,
  load: LoadOptions,
): Promise<void> {
  const models: { label: string; model: Model; feeds: Record<string, Feed>; times: number[] }[] = [];
  for (const b of bundles) {
    const model = await loadModel(b.dir, load);
    models.push({ label: b.label, model, feeds: await feedsOf(model), times: [] });
  }
  const once = async (m: (typeof models)[number]): Promise<number> => {
    const start = performance.now();
    await m.model.run(m.feeds);
    return performance.now() - start;
  };
  for (const m of models) {
    const end = performance.now() + warmMs;
    while (performance.now() < end) await once(m);
  }
  for (let block = 0; block < blocks; block++)
    for (const m of models) {
      const end = performance.now() + 300;
      do m.times.push(await once(m));
      while (performance.now() < end);
    }
  const first = median(models[0].times);
  console.log('| bundle | runs | steady median ms | vs first |\n|---|---|---|---|');
  for (const m of models)
    console.log(
      `| ${m.label} | ${m.times.length} | ${median(m.times).toFixed(2)} | ${(median(m.times) / first).toFixed(3)} |`,
    );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      child: { type: 'boolean', default: false },
      procs: { type: 'string', default: '3' },
      'warm-ms': { type: 'string', default: '2000' },
      steady: { type: 'boolean', default: false },
      blocks: { type: 'string', default: '15' },
      lazy: { type: 'boolean', default: false },
      variant: { type: 'string', default: 'simd128' },
      clock: { type: 'string', default: 'wall' },
      'load-warmup': { type: 'string' },
    },
  });
  const loadWarmup = values['load-warmup'];
  if (loadWarmup !== undefined && loadWarmup !== 'off' && !(Number(loadWarmup) >= 0))
    throw new Error(`--load-warmup ${loadWarmup}: expected off or a number of ms`);
  const warmMs = Number(values['warm-ms']);
  const clock = values.clock as Clock;
  if (!(clock in CLOCKS)) throw new Error(`--clock ${clock}: expected wall or cpu`);
  const variant = values.variant as WasmVariant;
  const load: LoadOptions = {
    backend: 'wasm',
    variant,
    ...(values.lazy && { compileWasm: WebAssembly.compile }),
    ...(loadWarmup !== undefined && { warmup: loadWarmup === 'off' ? false : Number(loadWarmup) }),
  };
  if (values.child) {
    process.stdout.write(JSON.stringify(await child(positionals[0], warmMs, load, clock)) + '\n');
    return;
  }
  const bundles = positionals.map((arg) => {
    const eq = arg.indexOf('=');
    const dir = resolve(eq > 0 ? arg.slice(eq + 1) : arg);
    return { label: eq > 0 ? arg.slice(0, eq) : basename(dir), dir, samples: [] as Sample[] };
  });
  if (bundles.length === 0)
    throw new Error('usage: first-run.ts [--procs N] [--warm-ms MS] [LABEL=]BUNDLE_DIR ...');
  if (values.steady) return steady(bundles, warmMs, Number(values.blocks), load);
  for (let p = 0; p < Number(values.procs); p++)
    for (const b of bundles) {
      const out = execFileSync(
        process.execPath,
        [
          // the parent's node flags (--experimental-wasm-relaxed-simd for `--variant relaxed` on Node 20, V8 traces)
          ...process.execArgv,
          import.meta.filename,
          '--child',
          '--warm-ms',
          String(warmMs),
          '--variant',
          variant,
          '--clock',
          clock,
          ...(values.lazy ? ['--lazy'] : []),
          ...(loadWarmup !== undefined ? ['--load-warmup', loadWarmup] : []),
          b.dir,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const s = JSON.parse(out.trim().split('\n').pop()!) as Sample;
      b.samples.push(s);
      process.stderr.write(
        `${b.label} #${p + 1}: load ${s.loadMs.toFixed(0)} ms, runs ${s.run1.toFixed(1)} / ${s.run2.toFixed(1)} / ${s.run3.toFixed(1)} ms, steady ${s.steady.toFixed(2)} ms (${s.steadyRuns} runs)\n`,
      );
    }
  const cols = [
    'bundle',
    'procs',
    'load ms',
    'run #1 ms',
    'run #2 ms',
    'run #3 ms',
    'steady ms',
    '#1 / steady',
  ];
  const rows = bundles.map((b) => {
    const m = (key: keyof Sample) => median(b.samples.map((s) => s[key]));
    const ratio = median(b.samples.map((s) => s.run1 / s.steady));
    return [
      b.label,
      String(b.samples.length),
      m('loadMs').toFixed(0),
      m('run1').toFixed(1),
      m('run2').toFixed(1),
      m('run3').toFixed(1),
      m('steady').toFixed(2),
      ratio.toFixed(2) + '×',
    ];
  });
  console.log(`| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

await main();
