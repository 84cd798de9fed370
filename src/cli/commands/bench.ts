/** `kiln bench DIR`: load time, first run, and the distribution of steady-state run times. */
import { performance } from 'node:perf_hooks';
import { loadModel } from '../../runtime/index.js';
import { quantile, timeRuns } from '../../runtime/timing.js';
import { onePositional, parseChoice, parseCommandArgs, parseCount } from '../args.js';
import { print, printJson, type Command } from '../command.js';
import { feedsFromArgs } from '../feeds.js';
import { nodeGpu } from '../gpu.js';
import { progressLine } from '../progress.js';
import { BACKENDS } from './run.js';
import { describeBackend, VARIANTS } from '../variant.js';

const usage =
  'kiln bench DIR [--backend wasm|webgpu] [--variant auto|simd128|relaxed] [--runs N] [--warmup N] [--input NAME=FILE]... [--json]';

export const benchCommand: Command = {
  name: 'bench',
  usage,
  summary: 'time a bundle: load, first run, median/p90/min of repeated runs',
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        backend: { type: 'string' },
        variant: { type: 'string' },
        runs: { type: 'string' },
        warmup: { type: 'string' },
        input: { type: 'string', multiple: true },
        json: { type: 'boolean' },
      },
      usage,
    );
    const dir = onePositional(positionals, 'bundle DIR', usage);
    const backend = parseChoice('--backend', values.backend ?? 'wasm', BACKENDS, usage);
    const variant = parseChoice('--variant', values.variant ?? 'auto', VARIANTS, usage);
    const runs = parseCount('--runs', values.runs, 50, 1, usage);
    const warmup = parseCount('--warmup', values.warmup, 5, 0, usage);

    // Dawn's start-up is not part of loading the model, so the GPU is fetched before the clock starts
    const gpu = backend === 'webgpu' ? await nodeGpu() : undefined;
    const loadStart = performance.now();
    const model = await loadModel(dir, { backend, variant, gpu });
    const loadMs = performance.now() - loadStart;
    const feeds = feedsFromArgs(model, values.input ?? [], usage, 'random');
    const progress = progressLine();
    const { firstMs: firstRunMs, sorted: times } = await timeRuns(model, feeds, {
      runs,
      warmup,
      progress: (text) => progress.update(text),
    });
    progress.done();
    model.dispose();

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
      // maxRSS is in kilobytes
      peak_rss_mb: round(process.resourceUsage().maxRSS / 1024),
    };
    if (values.json) return printJson(result);
    print(
      `${result.model} (${describeBackend(model)}): load ${result.load_ms} ms, first run ${result.first_run_ms} ms`,
    );
    print(
      `${runs} runs after ${warmup} warmup: median ${result.median_ms} ms, p90 ${result.p90_ms} ms, min ${result.min_ms} ms`,
    );
    print(`peak RSS ${result.peak_rss_mb} MB`);
  },
};

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
