/**
 * model.wasm (SIMD128) against model.relaxed.wasm (relaxed SIMD) on the same bundles, in one process:
 * both variants loaded side by side, each warmed by time (≥ 2 s, so V8 has tiered every kernel up to
 * TurboFan), then timed in interleaved blocks; prints medians and the ratio simd128 ÷ relaxed (above 1:
 * relaxed is faster) and the largest difference between their outputs. Node 20 compiles relaxed SIMD
 * only with --experimental-wasm-relaxed-simd: without it the script runs itself again with the flag.
 *
 *   npx tsx scripts/bench-relaxed.ts DIR... [--warm-ms 2000] [--blocks 10] [--block-ms 300] [--json FILE]
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ELEMENT_ARRAY, elementCount } from '../src/bundle/elements.js';
import { loadModel, type Feed, type Model, type WasmVariant } from '../src/runtime/index.js';
import { hasRelaxedSimd } from '../src/runtime/relaxed-simd.js';

const FLAG = '--experimental-wasm-relaxed-simd';
if (!hasRelaxedSimd()) {
  if (process.execArgv.includes(FLAG)) throw new Error(`this Node has no relaxed SIMD even with ${FLAG}`);
  const child = spawnSync(
    process.execPath,
    [FLAG, '--import', 'tsx', import.meta.filename, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(child.status ?? 1);
}

const { values: args, positionals: dirs } = parseArgs({
  allowPositionals: true,
  options: {
    'warm-ms': { type: 'string', default: '2000' },
    blocks: { type: 'string', default: '10' },
    'block-ms': { type: 'string', default: '300' },
    json: { type: 'string' },
  },
});
const warmMs = Number(args['warm-ms']);
const blocks = Number(args.blocks);
const blockMs = Number(args['block-ms']);
if (dirs.length === 0) throw new Error('usage: scripts/bench-relaxed.ts DIR... (bundle directories)');

const VARIANTS: WasmVariant[] = ['simd128', 'relaxed'];

/** float inputs pseudo-random in [-1, 1), others zero: the same feeds for both variants */
function feedsFor(model: Model): Record<string, Feed> {
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Object.fromEntries(
    model.inputs.map(({ name, dtype, shape }) => {
      const data = new ELEMENT_ARRAY[dtype](elementCount(shape));
      if (data instanceof Float32Array || data instanceof Float64Array)
        for (let i = 0; i < data.length; i++) data[i] = rand();
      return [name, { dtype, dims: shape, data }];
    }),
  );
}

async function runFor(model: Model, feeds: Record<string, Feed>, ms: number, times: number[]): Promise<void> {
  const end = performance.now() + ms;
  do {
    const start = performance.now();
    await model.run(feeds);
    times.push(performance.now() - start);
  } while (performance.now() < end);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const rows = [];
for (const dir of dirs) {
  const models = await Promise.all(VARIANTS.map((variant) => loadModel(dir, { variant })));
  const feeds = feedsFor(models[0]);
  const firstMs: number[] = [];
  const outputs = [];
  for (const model of models) {
    const start = performance.now();
    outputs.push(await model.run(feeds));
    firstMs.push(performance.now() - start);
  }
  let maxDiff = 0;
  for (const [name, t] of Object.entries(outputs[0])) {
    const a = t.data as Float32Array;
    const b = outputs[1][name].data as Float32Array;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(Number(a[i]) - Number(b[i])));
  }
  for (const model of models) await runFor(model, feeds, warmMs, []);
  const times: number[][] = models.map(() => []);
  for (let b = 0; b < blocks; b++) {
    // alternate which variant goes first, so neither always follows the other's cache state
    const order = b % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) await runFor(models[i], feeds, blockMs, times[i]);
  }
  const [plain, relaxed] = times.map(median);
  const row = {
    model: models[0].name,
    simd128_ms: round(plain),
    relaxed_ms: round(relaxed),
    ratio: round(plain / relaxed),
    runs: times.map((t) => t.length),
    first_run_ms: firstMs.map(round),
    max_abs_diff: maxDiff,
  };
  rows.push(row);
  console.log(
    `${row.model}: simd128 ${row.simd128_ms} ms, relaxed ${row.relaxed_ms} ms (medians of ${row.runs.join(' / ')} runs), ` +
      `simd128 ÷ relaxed = ${row.ratio}; first run ${row.first_run_ms.join(' / ')} ms; outputs differ by ≤ ${maxDiff.toExponential(2)}`,
  );
  models.forEach((m) => m.dispose());
}
if (args.json) writeFileSync(args.json, JSON.stringify({ node: process.version, rows }, null, 2) + '\n');

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
