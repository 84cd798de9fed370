/**
 * The performance survey (issue #18): Kiln against onnxruntime-web on exporter-shaped models the bench
 * does not tune on (./survey-models.ts). Per variant: the Kiln bundle compiled with bin/kiln.js in a child
 * process; Kiln (model.wasm and model.relaxed.wasm) and ORT-web (wasm, 1 thread, SIMD) loaded in this
 * process, outputs checked against onnxruntime-node (rtol 1e-3, atol 1e-4), each engine warmed by time,
 * then timed in alternating blocks (the order rotates each block); medians. Prints Kiln ÷ ORT-web per
 * variant, then `kiln bench --profile`'s top kernels (relaxed module) for the worst variants.
 *
 *   npx tsx scripts/perf/survey.ts [--filter REGEX] [--warm-ms 2000] [--blocks 4] [--block-ms 800]
 *                                  [--profile-worst 2] [--top 8] [--work DIR] [--json FILE]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeSurveyModels, SURVEY_MODELS } from './survey-models.js';
import { benchFeeds, type BenchInput } from '../bench/feeds.js';
import { differsFrom, openEngine, runFor, type EngineId, type OpenedEngine } from '../bench/engines.js';
import { RELAXED_FLAG, rerunWithRelaxedSimd } from '../bench/relaxed-flag.js';
import { hasRelaxedSimd } from '../../src/runtime/relaxed-simd.js';
import { quantile } from '../../src/runtime/timing.js';

rerunWithRelaxedSimd(import.meta.filename);

const { values: args } = parseArgs({
  options: {
    filter: { type: 'string' },
    'warm-ms': { type: 'string', default: '2000' },
    blocks: { type: 'string', default: '4' },
    'block-ms': { type: 'string', default: '800' },
    'profile-worst': { type: 'string', default: '2' },
    top: { type: 'string', default: '8' },
    work: { type: 'string' },
    json: { type: 'string' },
  },
});
const root = resolve(import.meta.dirname, '../..');
const work = resolve(args.work ?? join(root, '.kiln/survey'));
const warmMs = Number(args['warm-ms']);
const blocks = Number(args.blocks);
const blockMs = Number(args['block-ms']);
const log = (line: string) => process.stderr.write(`${line}\n`);

/** the engines timed; ORT-node is the output oracle only */
const TIMED: EngineId[] = hasRelaxedSimd() ? ['kiln', 'kiln-relaxed', 'ort-web'] : ['kiln', 'ort-web'];

function compile(onnx: string, inputs: BenchInput[], bundle: string): void {
  execFileSync(
    process.execPath,
    [
      join(root, 'bin/kiln.js'),
      'compile',
      onnx,
      '-o',
      bundle,
      ...inputs.flatMap((i) => ['--shape', `${i.name}=${i.dims.join(',')}`]),
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

interface VariantResult {
  variant: string;
  bundle: string;
  agrees: Record<string, string>;
  median_ms: Partial<Record<EngineId, number>>;
  /** the faster Kiln module's median ÷ ORT-web's */
  kiln_over_ort_web: number;
}

async function survey(name: string, onnx: string, inputs: BenchInput[]): Promise<VariantResult> {
  const bundle = join(work, 'bundles', name);
  log(`[${name}] compiling (child process)`);
  compile(onnx, inputs, bundle);
  const feeds = benchFeeds(inputs);
  const oracle = await openEngine('ort-node', { onnx, bundle }, feeds);
  const opened = {} as Record<EngineId, OpenedEngine>;
  const agrees: Record<string, string> = {};
  for (const engine of TIMED) {
    opened[engine] = await openEngine(engine, { onnx, bundle }, feeds);
    if (engine !== 'ort-web') agrees[engine] = (await differsFrom(oracle, opened[engine])) ?? 'yes';
  }
  await oracle.dispose();
  log(`[${name}] outputs vs onnxruntime-node: ${JSON.stringify(agrees)}`);
  for (const engine of TIMED) {
    log(`[${name}] ${engine}: warming ≥ ${warmMs} ms`);
    await runFor(opened[engine], warmMs, 3);
  }
  const samples = Object.fromEntries(TIMED.map((e) => [e, [] as number[]])) as Record<EngineId, number[]>;
  for (let b = 0; b < blocks; b++)
    for (let k = 0; k < TIMED.length; k++) {
      const engine = TIMED[(b + k) % TIMED.length];
      samples[engine].push(...(await runFor(opened[engine], blockMs, 2)));
    }
  for (const engine of TIMED) await opened[engine].dispose();
  const median_ms: VariantResult['median_ms'] = {};
  for (const engine of TIMED)
    median_ms[engine] = quantile(
      [...samples[engine]].sort((a, b) => a - b),
      0.5,
    );
  const kiln = Math.min(median_ms.kiln!, median_ms['kiln-relaxed'] ?? Infinity);
  const ratio = kiln / median_ms['ort-web']!;
  log(`[${name}] medians ${JSON.stringify(median_ms)}: Kiln ÷ ORT-web ${ratio.toFixed(2)}`);
  return { variant: name, bundle, agrees, median_ms, kiln_over_ort_web: ratio };
}

const names = Object.keys(SURVEY_MODELS).filter((n) => !args.filter || new RegExp(args.filter).test(n));
log(`writing ${names.length} variants to ${join(work, 'models')}`);
const models = writeSurveyModels(join(work, 'models'), names);
const results: VariantResult[] = [];
for (const name of names) results.push(await survey(name, models[name].path, models[name].inputs));

const fmt = (ms: number | undefined) => (ms === undefined ? '—' : ms.toFixed(2));
console.log(`\nKiln ÷ ORT-web (medians, ms; one process, alternating blocks; node ${process.version})`);
console.log('| variant | Kiln | Kiln relaxed | ORT-web | Kiln ÷ ORT-web | matches ORT-node |');
console.log('|---|---|---|---|---|---|');
for (const r of results)
  console.log(
    `| ${r.variant} | ${fmt(r.median_ms.kiln)} | ${fmt(r.median_ms['kiln-relaxed'])} | ${fmt(r.median_ms['ort-web'])} | ${r.kiln_over_ort_web.toFixed(2)} | ${Object.values(r.agrees).every((a) => a === 'yes') ? 'yes' : JSON.stringify(r.agrees)} |`,
  );
const geomean = Math.exp(results.reduce((s, r) => s + Math.log(r.kiln_over_ort_web), 0) / results.length);
console.log(`geomean Kiln ÷ ORT-web: ${geomean.toFixed(2)}`);

const worst = [...results]
  .sort((a, b) => b.kiln_over_ort_web - a.kiln_over_ort_web)
  .slice(0, Number(args['profile-worst']));
for (const r of worst) {
  console.log(`\n${r.variant}: Kiln's top kernels (kiln bench --profile)`);
  const variant = hasRelaxedSimd() ? 'relaxed' : 'simd128';
  const flags = process.execArgv.filter((a) => a === RELAXED_FLAG);
  console.log(
    execFileSync(
      process.execPath,
      [
        ...flags,
        join(root, 'bin/kiln.js'),
        'bench',
        r.bundle,
        '--profile',
        '--top',
        args.top!,
        '--variant',
        variant,
      ],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    ),
  );
}
if (args.json) writeFileSync(args.json, JSON.stringify({ node: process.version, results }, null, 2));
