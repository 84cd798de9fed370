/**
 * The root wrangler.toml's build command: compiles the sample model — openWakeWord's "hey Mycroft",
 * as `npm start` does (scripts/sample-models.ts) — into build/cloudflare/sample, and builds its
 * Worker into build/cloudflare/worker (both git-ignored), which wrangler then uploads as is.
 */
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readServedBundles } from '../src/deploy/bundles.js';
import { buildWorker } from '../src/deploy/worker-build.js';
import { wakeWord } from './sample-models.js';

const root = resolve(import.meta.dirname, '..');
const bundleDir = resolve(root, 'build/cloudflare/sample');
const workerDir = resolve(root, 'build/cloudflare/worker');

const sample = wakeWord();
execFileSync(
  process.execPath,
  [
    resolve(root, 'bin/kiln.js'),
    'compile',
    sample.file,
    '-o',
    bundleDir,
    '--name',
    sample.name,
    ...sample.compileFlags,
  ],
  { stdio: 'inherit', cwd: root },
);
// a clean folder: wrangler uploads every file in it that matches a module rule
await rm(workerDir, { recursive: true, force: true });
const { modules } = await buildWorker(workerDir, await readServedBundles([bundleDir]));
console.log(
  `built the Worker in build/cloudflare/worker: ${modules.map((m) => `${m.path} (${m.type})`).join(', ')}`,
);
