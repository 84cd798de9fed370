/**
 * `kiln bench DIR`: load time, first run, and the distribution of steady-state run times; with
 * `--profile`, the time of every kernel (see ../profile/); with `--cost`, dollars per million
 * inferences on each deploy target (src/deploy/cost.ts).
 */
import { performance } from 'node:perf_hooks';
import { readBundleDir } from '../../bundle/node.js';
import { verifyBundle } from '../../bundle/verify.js';
import { loadModel } from '../../runtime/index.js';
import type { Feed } from '../../runtime/types.js';
import type { Manifest } from '../../bundle/manifest.js';
import { isSymbolic, userBounds } from '../../bundle/shape-dims.js';
import { quantile, timeRuns } from '../../runtime/timing.js';
import { onePositional, parseChoice, parseCommandArgs, parseCount } from '../args.js';
import { UsageError } from '../errors.js';
import { kernelTableOf, PROFILE_CLOCKS, timeKernels } from '../profile/measure.js';
import { formatProfile, profileReport } from '../profile/report.js';
import { print, printJson, type Command } from '../command.js';
import { feedsFromArgs } from '../feeds.js';
import { nodeGpu } from '../gpu.js';
import { progressLine } from '../progress.js';
import { BACKENDS } from './run.js';
import { peakRssMb } from '../peak-rss.js';
import { cpuClock, cpuMsPerInference } from '../cpu-time.js';
import { describeBackend, VARIANTS } from '../variant.js';
import { readServedBundles } from '../../deploy/bundles.js';
import { modelFootprint, relaxedFromEnv } from '../../deploy/cloudflare-limits.js';
import { gpuHourlyPrice, targetCosts, type CostMeasurement } from '../../deploy/cost.js';
import { DEFAULT_INSTANCE_TYPE } from '../../deploy/gpu-limits.js';
import { costReport, formatCost } from '../cost-report.js';
import { describeAdapter } from '../gpu.js';

const usage =
  'kiln bench DIR [--backend wasm|webgpu] [--variant auto|simd128|relaxed] [--runs N] [--warmup N] [--warmup-ms MS] [--input NAME=FILE]... [--profile [--top N] [--clock wall|cpu]] [--cost [--instance-type TYPE]] [--json]';

/** --profile warms by time first: V8 optimizes wasm in the background, seconds for a large model */
const PROFILE_WARMUP_MS = 2000;

export const benchCommand: Command = {
  name: 'bench',
  usage,
  summary:
    'time a bundle: load, first run, median/p90/min of repeated runs; --profile: time per kernel of the module run, and the GEMM-bound kernels as a share of the SIMD128 peak (--clock cpu: by CPU time, for a busy machine); --cost: $ per 1M inferences per deploy target',
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        backend: { type: 'string' },
        variant: { type: 'string' },
        runs: { type: 'string' },
        warmup: { type: 'string' },
        'warmup-ms': { type: 'string' },
        input: { type: 'string', multiple: true },
        profile: { type: 'boolean' },
        top: { type: 'string' },
        clock: { type: 'string' },
        cost: { type: 'boolean' },
        'instance-type': { type: 'string' },
        json: { type: 'boolean' },
      },
      usage,
    );
    const dir = onePositional(positionals, 'bundle DIR', usage);
    const backend = parseChoice('--backend', values.backend ?? 'wasm', BACKENDS, usage);
    const variant = parseChoice('--variant', values.variant ?? 'auto', VARIANTS, usage);
    const runs = parseCount('--runs', values.runs, 50, 1, usage);
    const warmup = parseCount('--warmup', values.warmup, 5, 0, usage);
    const profile = values.profile ?? false;
    if (values.top !== undefined && !profile) throw new UsageError('--top needs --profile', usage);
    const top = parseCount('--top', values.top, 15, 1, usage);
    if (values.clock !== undefined && !profile) throw new UsageError('--clock needs --profile', usage);
    const clock = parseChoice('--clock', values.clock ?? 'wall', PROFILE_CLOCKS, usage);
    const cost = values.cost ?? false;
    if (values['instance-type'] !== undefined && !cost)
      throw new UsageError('--instance-type needs --cost', usage);
    const instanceType = values['instance-type'] ?? DEFAULT_INSTANCE_TYPE;
    const warmupMs = parseCount(
      '--warmup-ms',
      values['warmup-ms'],
      profile ? PROFILE_WARMUP_MS : 0,
      0,
      usage,
    );
    // what makes a profile impossible is said before any timing starts
    if (profile && backend === 'webgpu')
      throw new Error(
        '--profile times the kernels of the wasm backend; the webgpu backend has no per-kernel timing (leave out --backend webgpu)',
      );
    const files = profile ? await readBundleDir(dir) : undefined;
    if (files) {
      await verifyBundle(files);
      kernelTableOf(files.manifest);
    }
    if (cost) gpuHourlyPrice(instanceType);

    // Dawn's start-up is not part of loading the model, so the GPU is fetched before the clock starts
    const gpu = backend === 'webgpu' ? await nodeGpu() : undefined;
    const loadStart = performance.now();
    const model = await loadModel(dir, { backend, variant, gpu });
    const loadMs = performance.now() - loadStart;
    const feeds = feedsFromArgs(model, values.input ?? [], usage, 'random');
    const progress = progressLine();
    const {
      firstMs: firstRunMs,
      sorted: times,
      cpuMsPerRun,
    } = await timeRuns(model, feeds, {
      runs,
      warmup,
      warmupMs,
      progress: (text) => progress.update(text),
      cpuClock: cpuClock.ms,
    });
    model.dispose();
    // taken before profiling, which holds binaryen and a second instance
    const peakRss = round(peakRssMb());
    let report: ReturnType<typeof profileReport> | undefined;
    if (files) {
      progress.update('measuring the SIMD128 peak');
      const { measureSimdPeak } = await import('../simd-peak.js'); // binaryen: not in every bench's RSS
      const peak = measureSimdPeak({ timeMs: 300 });
      const kernelTimes = await timeKernels(files, feeds, {
        runs,
        warmupMs,
        clock,
        // the module this bench ran (--variant; auto: relaxed where the engine has it)
        variant: model.variant ?? 'simd128',
        progress: (text) => progress.update(text),
      });
      report = profileReport(kernelTimes, {
        peakGflops: peak.simd128,
        warmupMs,
        countedAtBounds: belowBounds(files.manifest, feeds),
      });
    }
    const costs = cost
      ? await costOf(
          dir,
          {
            backend: model.backend,
            medianMs: quantile(times, 0.5),
            ...(model.backend === 'wasm'
              ? { cpuMs: cpuMsPerInference(cpuMsPerRun!, times), cpuClock: cpuClock.kind }
              : { adapter: await describeAdapter(gpu!) }),
          },
          instanceType,
        )
      : undefined;
    progress.done();

    const result = {
      model: model.name,
      backend: model.backend,
      ...(model.variant && { variant: model.variant }),
      runs,
      load_ms: round(loadMs),
      first_run_ms: round(firstRunMs),
      median_ms: round(quantile(times, 0.5)),
      p90_ms: round(quantile(times, 0.9)),
      min_ms: round(times[0]),
      peak_rss_mb: peakRss,
    };
    if (values.json)
      return printJson({ ...result, ...(report && { profile: report }), ...(costs && { cost: costs }) });
    print(
      `${result.model} (${describeBackend(model)}): load ${result.load_ms} ms, first run ${result.first_run_ms} ms`,
    );
    print(
      `${runs} runs after ${warmupMs > 0 ? `${(warmupMs / 1000).toFixed(1)} s and ` : ''}${warmup} warmup: median ${result.median_ms} ms, p90 ${result.p90_ms} ms, min ${result.min_ms} ms`,
    );
    print(`peak RSS ${result.peak_rss_mb} MB`);
    if (report) {
      print('');
      for (const line of formatProfile(report, { top, bars: process.stdout.isTTY === true })) print(line);
    }
    if (costs) {
      print('');
      for (const line of formatCost(costs)) print(line);
    }
  },
};

/** The bundle as a deploy reads it, priced on every target from this measurement. */
async function costOf(dir: string, measurement: CostMeasurement, instanceType: string) {
  const [bundle] = await readServedBundles([dir]);
  const costs = targetCosts({
    manifest: bundle.manifest,
    footprint: modelFootprint(bundle, relaxedFromEnv(process.env)),
    measurement,
    instanceType,
  });
  return costReport(measurement, costs);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * The bounds of a bundle's run-time dims when `feeds` run it below them (or when sizes come from data),
 * as `seq 1..256 (run at 128)`; undefined when every dim is known at compile time or runs at its bound,
 * so the kernel table's shapes and FLOPs are those of this run.
 */
export function belowBounds(manifest: Manifest, feeds: Record<string, Feed>): string | undefined {
  const symbols = manifest.dims?.symbols ?? [];
  if (symbols.length === 0) return undefined;
  const runAt = new Map<string, number>();
  for (const input of manifest.inputs)
    input.shape.forEach((d, axis) => {
      if (isSymbolic(d)) runAt.set(d.name, feeds[input.name]?.dims[axis] ?? -1);
    });
  // a stepped dim (`--dim height=32..1024:32`) is counted by a symbol of its steps
  const dims = symbols.map((s) => {
    const b = userBounds(manifest.inputs, s);
    return { ...b, at: runAt.get(b.name) };
  });
  const below = dims.filter((d) => d.at !== d.max);
  if (below.length === 0) return undefined;
  return below
    .map((d) => `${d.name} ${d.min}..${d.max}${d.at === undefined ? ' (from data)' : ` (run at ${d.at})`}`)
    .join(', ');
}
