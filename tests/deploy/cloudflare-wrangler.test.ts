/**
 * The root wrangler.toml deploys the sample model: the real `wrangler deploy --dry-run` (its build
 * command compiles the sample and builds the Worker), offline and without credentials, and what it
 * would upload answers an infer request inside workerd exactly as loadModel does on the same bundle.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { loadModel } from '../../src/runtime/index.js';
import { runWorkerDir } from '../serve-workerd/miniflare.js';

const ROOT = resolve(import.meta.dirname, '../..');
const scratch = await mkdtemp(join(tmpdir(), 'kiln-cf-root-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

it('wrangler deploy --dry-run on the root wrangler.toml builds a Worker that serves the sample', async () => {
  const outDir = join(scratch, 'upload');
  const { stdout } = await promisify(execFile)(
    join(ROOT, 'node_modules/.bin/wrangler'),
    ['deploy', '--dry-run', '--outdir', outDir],
    {
      cwd: ROOT,
      // no credentials, no metrics, no update check (the banner's): nothing leaves this machine
      env: {
        PATH: process.env.PATH,
        HOME: scratch,
        WRANGLER_SEND_METRICS: 'false',
        WRANGLER_HIDE_BANNER: 'true',
      },
    },
  );
  expect(stdout).toContain('--dry-run: exiting now.');
  expect((await readdir(outDir)).sort()).toEqual([
    'README.md',
    'hey_mycroft.relaxed.wasm',
    'hey_mycroft.wasm',
    'hey_mycroft.weights.bin',
    'worker.js',
  ]);

  // 16 frames of 96 speech-embedding values, not all zero
  const data = Array.from({ length: 16 * 96 }, (_, i) => Math.cos(i / 7) * 0.8);
  const model = await loadModel(join(ROOT, 'build/cloudflare/sample'));
  const [input] = model.inputs;
  const [output] = model.outputs;
  expect(input).toEqual({ name: input.name, dtype: 'float32', shape: [1, 16, 96] });
  const want = await model.run({
    [input.name]: { dtype: 'float32', dims: [1, 16, 96], data: Float32Array.from(data) },
  });
  model.dispose();

  const worker = await runWorkerDir(outDir);
  try {
    const response = await worker.send('/v2/models/hey_mycroft/infer', {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: input.name, shape: [1, 16, 96], datatype: 'FP32', data }] }),
    });
    expect(response.status).toBe(200);
    expect((await response.json()).outputs).toEqual([
      {
        name: output.name,
        shape: output.shape,
        datatype: 'FP32',
        data: Array.from(want[output.name].data as Float32Array),
      },
    ]);
  } finally {
    await worker.stop();
  }
});
