/**
 * One fresh process's start-up: load the engine, run once, print one JSON line
 * `{"load_ms","first_run_ms","peak_rss_mb"}` on stdout and exit. `npm run bench` bundles this file with
 * esbuild (the peers left as packages) and runs it with plain `node`, so Kiln's cold start holds no
 * TypeScript transpiling; the parent times spawn → this line as the cold start.
 *
 *   node cold-start.mjs ENGINE MODEL.onnx BUNDLE_DIR INPUTS_JSON [warmup]
 *
 * `warmup` (Kiln engines): load as `kiln serve` and the Lambda handler do: optimized code compiled up
 * front, warm-up at load (src/runtime-node/v8-tiers.ts, src/runtime/warmup.ts).
 */
import { benchFeeds, type BenchInput } from './feeds.js';
import { importEngine, openEngine, type EngineId } from './engines.js';
import { peakRssMb } from '../../src/cli/peak-rss.js';

const [engine, onnx, bundle, inputsJson, mode] = process.argv.slice(2);
const feeds = benchFeeds(JSON.parse(inputsJson) as BenchInput[]);
await importEngine(engine as EngineId);
const t0 = performance.now();
const opened = await openEngine(engine as EngineId, { onnx, bundle }, feeds, { warmup: mode === 'warmup' });
const t1 = performance.now();
await opened.run();
const t2 = performance.now();
process.stdout.write(
  `${JSON.stringify({ load_ms: t1 - t0, first_run_ms: t2 - t1, peak_rss_mb: peakRssMb() })}\n`,
);
await opened.dispose();
