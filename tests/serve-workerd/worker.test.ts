/**
 * The serving contract inside workerd (the Workers runtime, through miniflare), on the Worker that
 * src/deploy/worker-build.ts builds: the bundled entry, the model as a CompiledWasm module, the
 * weights as a Data module.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readServedBundles } from '../../src/deploy/bundles.js';
import { buildWorker } from '../../src/deploy/worker-build.js';
import { CONTRACT_ENV, describeContract } from '../serve/contract.js';
import { compileMlp } from '../serve/fixture.js';
import { runWorkerDir } from './miniflare.js';

async function startWorker(bundleDir: string, bindings: Record<string, string>) {
  const outDir = await mkdtemp(join(tmpdir(), 'kiln-worker-'));
  const build = await buildWorker(outDir, await readServedBundles([bundleDir]));
  const worker = await runWorkerDir(outDir, { bindings });
  return {
    build,
    send: worker.send,
    stop: async () => {
      await worker.stop();
      await rm(outDir, { recursive: true, force: true });
    },
  };
}

describeContract('workerd', async (mlp) => {
  const worker = await startWorker(mlp.dir, CONTRACT_ENV);
  expect(worker.build).toEqual({
    modules: [
      { path: 'worker.js', type: 'ESModule' },
      { path: 'mlp.wasm', type: 'CompiledWasm' },
      { path: 'mlp.weights.bin', type: 'Data' },
    ],
    r2Objects: [],
  });
  return worker;
});

it('a Worker that cannot start is live, not ready, and answers everything else 500 with the reason', async () => {
  const mlp = await compileMlp();
  const worker = await startWorker(mlp.dir, { KILN_MAX_BODY_MB: 'lots' });
  const reason =
    'the Worker could not start: KILN_MAX_BODY_MB must be a whole number of MiB, at least 1, got "lots"';
  try {
    // twice: a failed start is tried again on the next request, and fails the same way
    for (let i = 0; i < 2; i++) {
      const live = await worker.send('/v2/health/live');
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ live: true });
      const ready = await worker.send('/v2/health/ready');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ error: `not ready: ${reason}` });
      const metadata = await worker.send('/v2/models/mlp');
      expect(metadata.status).toBe(500);
      expect(await metadata.json()).toEqual({ error: reason });
    }
  } finally {
    await worker.stop();
    await mlp.cleanup();
  }
});

it('batches concurrent requests inside workerd with KILN_MAX_BATCH, each request getting its own rows', async () => {
  const mlp4 = await compileMlp(4);
  const worker = await startWorker(mlp4.dir, { KILN_MAX_BATCH: '4', KILN_BATCH_DELAY_MS: '50' });
  try {
    const metadata = await worker.send('/v2/models/mlp');
    expect((await metadata.json()).inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 64] }]);
    // three requests of 1, 2 and 1 rows: together they fill the batch of 4
    const rows = [[0.5], [-1, 2], [3]].map((scales) =>
      scales.map((k) => Array.from({ length: 64 }, (_, i) => k * Math.sin(i * 0.37))),
    );
    const answers = await Promise.all(
      rows.map(async (data) => {
        const response = await worker.send('/v2/models/mlp/infer', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            inputs: [{ name: 'x', shape: [data.length, 64], datatype: 'FP32', data: data.flat() }],
          }),
        });
        const text = await response.text();
        expect(response.status, text).toBe(200);
        return JSON.parse(text).outputs[0];
      }),
    );
    // the same rows run directly on the bundle, zero-padded to the compiled batch
    const padded = new Float32Array(4 * 64);
    padded.set(rows.flat(2));
    const direct = (await mlp4.model.run({ x: { dtype: 'float32', dims: [4, 64], data: padded } })).probs;
    const directRows = Array.from(direct.data as Float32Array);
    let row = 0;
    for (const [k, answer] of answers.entries()) {
      expect(answer.shape).toEqual([rows[k].length, 10]);
      expect(answer.data).toEqual(directRows.slice(row * 10, (row + rows[k].length) * 10));
      row += rows[k].length;
    }
    const metrics = await (await worker.send('/metrics')).text();
    expect(metrics).toMatch(/kiln_model_runs_total\{model="mlp",version=""\} 1\n/);
  } finally {
    await worker.stop();
    await mlp4.cleanup();
  }
});
