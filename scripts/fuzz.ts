/**
 * `npm run fuzz`: hostile input against the whole toolkit, counted rather than asserted.
 *
 *   models    seeded mutations of small real models, compiled, loaded and run (scripts/fuzz/models.ts)
 *   requests  hostile HTTP requests against a running `kiln serve` (scripts/fuzz/requests.ts)
 *   bundles   a compiled bundle with every manifest field and every file tampered with (scripts/fuzz/bundles.ts)
 *
 * Each model and bundle case runs in a child process with a deadline, so a hang or a dead process is
 * counted, not fatal. Prints one Markdown table (per campaign: success / clear error / unclear error /
 * wrong output / 5xx / crash / hang) and examples of every bug outcome; exits 1 when there is any.
 * Seeded and reproducible: the same --seed and counts give the same cases.
 *
 *   npm run fuzz -- [--seed 1] [--models 1000] [--requests N] [--bundles N] [--jobs 1]
 *                   [--timeout-ms 30000] [--request-ms 10000] [--slow-ms 65000] [--json FILE]
 * --requests and --bundles default to every case the campaign has (144 and 683 today). --timeout-ms bounds
 * one model or bundle case, --request-ms one request; a slow client the server has not cut off after
 * --slow-ms is a hang (the slow clients wait side by side, while the other requests run).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fuzzBundles } from './fuzz/bundles.js';
import { fuzzModels } from './fuzz/models.js';
import { Tally, type CaseResult } from './fuzz/outcomes.js';
import { JobPool } from './fuzz/pool.js';
import { fuzzRequests } from './fuzz/requests.js';

function count(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name} must be a whole number ≥ ${min}, got "${value}"`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      models: { type: 'string', default: '1000' },
      requests: { type: 'string' },
      bundles: { type: 'string' },
      jobs: { type: 'string', default: '1' },
      'timeout-ms': { type: 'string', default: '30000' },
      'request-ms': { type: 'string', default: '10000' },
      'slow-ms': { type: 'string', default: '65000' },
      json: { type: 'string' },
    },
  });
  const seed = count('seed', values.seed)!;
  const models = count('models', values.models)!;
  const jobs = count('jobs', values.jobs, 1)!;
  const started = performance.now();
  const tally = new Tally();
  let done = 0;
  const record = (campaign: string) => (result: CaseResult) => {
    tally.add(campaign, result);
    if (++done % 50 === 0) process.stderr.write(`fuzz: ${done} cases (${campaign})\n`);
  };
  const work = mkdtempSync(join(tmpdir(), 'kiln-fuzz-'));
  const pool = new JobPool(jobs, count('timeout-ms', values['timeout-ms'], 1)!);
  try {
    await fuzzModels(models, seed, pool, work, record('models'));
    await fuzzRequests(
      {
        count: count('requests', values.requests),
        seed,
        requestMs: count('request-ms', values['request-ms'], 1)!,
        slowMs: count('slow-ms', values['slow-ms'], 1)!,
      },
      record('requests'),
    );
    await fuzzBundles(count('bundles', values.bundles), seed, pool, work, record('bundles'));
  } finally {
    pool.close();
    rmSync(work, { recursive: true, force: true });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  process.stdout.write(`kiln fuzz, seed ${seed}, ${done} cases in ${seconds} s\n\n${tally.report()}\n`);
  if (values.json)
    writeFileSync(
      values.json,
      JSON.stringify({ seed, seconds: Number(seconds), ...tally.toJSON() }, null, 2),
    );
  return tally.bugs > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`fuzz: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
