/**
 * Whole runs of bundles of one model (say, compiled before and after a change) in this one process:
 * each loaded on the wasm backend, warmed by time, then timed in alternating blocks (DESIGN.md §5);
 * medians of the per-run times. Float inputs get seeded random values, integer ones token ids (and a
 * mask of ones for an input named *mask*), both bundles the same feeds.
 *
 * With `--clock cpu`, times are the calling thread's CPU time per run (ab.ts `clockMs`), for a loaded machine.
 *
 *   npx tsx scripts/perf/ab-bundles.ts DIR_A DIR_B [DIR_C..] [--variant simd128|relaxed] [--warm-s 2] [--blocks 10]
 *     [--clock wall|cpu] [--shape NAME=D0,D1,..]
 *
 * Inputs are fed at the first bundle's upper bounds, or at `--shape`'s dims (a bundle with dims known at
 * run time beside one compiled for that shape).
 */
import { parseArgs } from 'node:util';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { benchFeeds, clockMs, shapeFlags } from './ab.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    variant: { type: 'string', default: 'simd128' },
    'warm-s': { type: 'string', default: '2' },
    blocks: { type: 'string', default: '10' },
    clock: { type: 'string', default: 'wall' },
    shape: { type: 'string', multiple: true, default: [] },
  },
});
if (positionals.length < 2)
  throw new Error('usage: ab-bundles.ts DIR_A DIR_B [DIR_C..] [--variant] [--warm-s] [--blocks] [--clock]');
const BLOCK_RUNS = 3;
const fedDims = shapeFlags(values.shape);
const variant = values.variant as 'simd128' | 'relaxed';

const models: Model[] = await Promise.all(
  positionals.map((dir) => loadModel(dir, { backend: 'wasm', variant })),
);

const feeds = benchFeeds(models[0].inputs, fedDims, models[0].manifest.indexChecks);
const clock = values.clock as 'wall' | 'cpu';
const timeRun = async (model: Model) => {
  const start = clockMs(clock);
  await model.run(feeds);
  return clockMs(clock) - start;
};
for (const model of models) {
  const until = performance.now() + Number(values['warm-s']) * 1000;
  while (performance.now() < until) await model.run(feeds);
}
const times: number[][] = models.map(() => []);
for (let block = 0; block < Number(values.blocks); block++)
  for (const [i, model] of models.entries())
    for (let r = 0; r < BLOCK_RUNS; r++) times[i].push(await timeRun(model));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const first = median(times[0]);
for (const [i, dir] of positionals.entries())
  console.log(
    `${dir} (${models[i].variant}): median ${median(times[i]).toFixed(3)} ms/run over ${times[i].length} runs` +
      (i > 0 ? `, ${(median(times[i]) / first).toFixed(3)}× the first` : ''),
  );
models.forEach((m) => m.dispose());
