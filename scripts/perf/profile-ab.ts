/**
 * Per-kernel times of bundles of one model (say, compiled before and after a change) in this one process,
 * as medians over runs: `kiln bench --profile` sums every run, so on a loaded machine one preemption
 * inside a 10 µs kernel makes it look like a 600 µs one. Each bundle's model.wasm is instrumented as the
 * profiler does it (src/cli/profile/instrument.ts), compiled with the optimizing tier up front, warmed by
 * time, then the bundles run in turns; kernels are matched across bundles by name (the node's).
 *
 *   npx tsx scripts/perf/profile-ab.ts DIR_A [DIR_B ..] [--runs 300] [--top 30] [--peak 48.9] [--shape NAME=D0,D1,..]
 *
 * Inputs are fed at their upper bounds, or at `--shape`'s dims (a bundle with dims known at run time
 * beside one compiled for that shape).
 *
 * Prints the summed medians per bundle and a table of the top kernels of the first bundle: µs per run
 * and % of `--peak` GFLOP/s (this core's SIMD128 multiply-add peak, as `kiln bench --profile` measures it).
 */
import { parseArgs } from 'node:util';
import type { KernelInfo } from '../../src/bundle/manifest.js';
import {
  attributeCallSites,
  instrumentRun,
  PROFILE_IMPORT_MODULE,
} from '../../src/cli/profile/instrument.js';
import { kernelTableOf } from '../../src/cli/profile/measure.js';
import { readBundleDirectory } from '../../src/runtime/directory-source.js';
import { compileOptimized } from '../../src/runtime-node/v8-tiers.js';
import { loadModel, type Feed, type Model } from '../../src/runtime/index.js';
import { benchFeeds, shapeFlags } from './ab.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '300' },
    top: { type: 'string', default: '30' },
    peak: { type: 'string', default: '48.9' },
    'warm-ms': { type: 'string', default: '2000' },
    shape: { type: 'string', multiple: true, default: [] },
  },
});
if (positionals.length === 0) throw new Error('usage: profile-ab.ts DIR_A [DIR_B ..] [--runs N] [--top N]');

const fedDims = shapeFlags(values.shape);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

interface Profiled {
  kernels: KernelInfo[];
  model: Model;
  feeds: Record<string, Feed>;
  /** per kernel, its time in each timed run (ms) */
  times: number[][];
  /** run one inference and return each kernel's ms in it */
  run(): Promise<Float64Array>;
}

async function profiled(dir: string): Promise<Profiled> {
  const files = await readBundleDirectory(dir);
  const kernels = kernelTableOf(files.manifest);
  const instrumented = instrumentRun(files.wasm, files.manifest.wasm.exports.run);
  const siteKernel = attributeCallSites(instrumented.callees, kernels, instrumented.functions);
  const siteMs = new Float64Array(siteKernel.length);
  let enteredAt = 0;
  const imports = {
    [PROFILE_IMPORT_MODULE]: {
      enter: () => void (enteredAt = performance.now()),
      exit: (site: number) => void (siteMs[site] += performance.now() - enteredAt),
    },
  };
  const model = await loadModel(
    { manifest: files.manifest, wasm: compileOptimized(instrumented.bytes), weights: files.weights },
    { backend: 'wasm', variant: 'simd128', imports },
  );
  const feeds = benchFeeds(model.inputs, fedDims, model.manifest.indexChecks);
  return {
    kernels,
    model,
    feeds,
    times: kernels.map(() => []),
    async run() {
      siteMs.fill(0);
      await model.run(feeds);
      const perKernel = new Float64Array(kernels.length);
      siteKernel.forEach((k, site) => k >= 0 && (perKernel[k] += siteMs[site]));
      return perKernel;
    },
  };
}

const bundles = await Promise.all(positionals.map(profiled));
const warmEnd = performance.now() + Number(values['warm-ms']);
while (performance.now() < warmEnd) for (const b of bundles) await b.model.run(b.feeds);
for (let r = 0; r < Number(values.runs); r++)
  for (const b of bundles) (await b.run()).forEach((ms, k) => b.times[k].push(ms));

const medians = bundles.map((b) => new Map(b.kernels.map((k, i) => [k.name, median(b.times[i])])));
const sums = medians.map((m) => [...m.values()].reduce((a, b) => a + b, 0));
console.log(
  `sum of kernel medians, ms: ${sums.map((s) => s.toFixed(3)).join(' / ')} (${positionals.join(' / ')})`,
);
// per op (a fused kernel's op names what it fused), so kernels renamed by a fusion still compare
const byOp = bundles.map((b, i) => {
  const sums = new Map<string, number>();
  b.kernels.forEach((k) => sums.set(k.op, (sums.get(k.op) ?? 0) + medians[i].get(k.name)!));
  return sums;
});
const ops = [...new Set(byOp.flatMap((m) => [...m.keys()]))].sort(
  (a, b) => Math.max(...byOp.map((m) => m.get(b) ?? 0)) - Math.max(...byOp.map((m) => m.get(a) ?? 0)),
);
console.log(`| op | ${positionals.map((_, i) => `µs ${i}`).join(' | ')} |`);
console.log(`|---|${positionals.map(() => '---|').join('')}`);
for (const op of ops.slice(0, Number(values.top)))
  console.log(
    `| ${op} | ${byOp.map((m) => (m.has(op) ? (m.get(op)! * 1e3).toFixed(1) : '–')).join(' | ')} |`,
  );
const peak = Number(values.peak);
const cols = positionals.map((_, i) => `µs ${i} | % peak ${i}`).join(' | ');
console.log(`| kernel | op | output | ${cols} | share of 0 |`);
console.log(`|---|---|---|${positionals.map(() => '---|---|').join('')}---|`);
const [first] = bundles;
const rows = first.kernels
  .map((k) => ({ k, ms: medians.map((m) => m.get(k.name)) }))
  .sort((a, b) => (b.ms[0] ?? 0) - (a.ms[0] ?? 0))
  .slice(0, Number(values.top));
for (const { k, ms } of rows) {
  const cells = ms.map((t) =>
    t === undefined
      ? '– | –'
      : `${(t * 1e3).toFixed(1)} | ${((k.flops / t / 1e6 / peak) * 100).toFixed(0)} %`,
  );
  const share = (((ms[0] ?? 0) / sums[0]) * 100).toFixed(1);
  console.log(
    `| ${k.name} | ${k.op} | ${k.outputs[0]?.shape.join('×') ?? ''} | ${cells.join(' | ')} | ${share} % |`,
  );
}
