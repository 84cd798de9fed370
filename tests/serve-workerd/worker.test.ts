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
import { buildWorker, type WorkerBuildOptions } from '../../src/deploy/worker-build.js';
import { CONTRACT_ENV, describeContract } from '../serve/contract.js';
import { describeEmbeddingsContract } from '../serve/embeddings-contract.js';
import { compileMlp, compileMlpBatches } from '../serve/fixture.js';

import { expectWorkerBatches } from './batching-check.js';
import { runWorkerDir } from './miniflare.js';

async function startWorker(
  bundleDir: string,
  bindings: Record<string, string>,
  options: WorkerBuildOptions = {},
) {
  const outDir = await mkdtemp(join(tmpdir(), 'kiln-worker-'));
  const build = await buildWorker(outDir, await readServedBundles([bundleDir]), options);
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
  // the contract holds answers to exactly what the runtime computes in this process, which runs
  // model.wasm (Node 20, no relaxed SIMD): so this Worker carries model.wasm alone; the last test
  // below serves model.relaxed.wasm
  const worker = await startWorker(mlp.dir, CONTRACT_ENV, { relaxed: false });
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

// the text model's tokenizer.json travels in the script; @huggingface/tokenizers runs inside workerd
describeEmbeddingsContract('workerd', (text) => startWorker(text.dir, CONTRACT_ENV, { relaxed: false }));

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
    await expectWorkerBatches(worker, mlp4.model);
  } finally {
    await worker.stop();
    await mlp4.cleanup();
  }
});

it('serves a model compiled with --dim batch=1..8 inside workerd at two batch sizes, -1 in its metadata', async () => {
  const mlp = await compileMlpBatches(1, 8);
  const worker = await startWorker(mlp.dir, {}, { relaxed: false });
  try {
    const metadata = await (await worker.send('/v2/models/mlp')).json();
    expect(metadata.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 64] }]);
    for (const rows of [1, 3]) {
      const data = Array.from({ length: rows * 64 }, (_, i) => Math.cos(i * 0.21));
      const response = await worker.send('/v2/models/mlp/infer', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'x', shape: [rows, 64], datatype: 'FP32', data }] }),
      });
      expect(response.status).toBe(200);
      const [output] = (await response.json()).outputs;
      const local = await mlp.model.run({
        x: { dtype: 'float32', dims: [rows, 64], data: Float32Array.from(data) },
      });
      expect(output.shape).toEqual([rows, 10]);
      expect(output.data).toEqual(Array.from(local.probs.data as Float32Array));
    }
    const outside = await worker.send('/v2/models/mlp/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'x', shape: [9, 64], datatype: 'FP32', data: new Array(9 * 64).fill(0) }],
      }),
    });
    expect(outside.status).toBe(400);
    expect((await outside.json()).error).toContain('outside the bounds of "batch" (1..8)');
  } finally {
    await worker.stop();
    await mlp.cleanup();
  }
});

it('workerd compiles model.relaxed.wasm at startup and the runtime runs it; without it, model.wasm', async () => {
  const mlp = await compileMlp();
  const info = (variant: string) =>
    `kiln_model_info{model="mlp",version="",backend="wasm",variant="${variant}"} 1`;
  try {
    for (const [relaxed, variant] of [
      [true, 'relaxed'],
      [false, 'simd128'],
    ] as const) {
      const worker = await startWorker(mlp.dir, {}, { relaxed });
      try {
        expect(worker.build.modules.some((m) => m.path === 'mlp.relaxed.wasm')).toBe(relaxed);
        const metrics = await (await worker.send('/metrics')).text();
        expect(metrics).toContain(info(variant));
        const x = Array.from({ length: 64 }, (_, i) => Math.sin(i));
        const infer = await worker.send('/v2/models/mlp/infer', {
          method: 'POST',
          body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: x }] }),
        });
        expect(infer.status).toBe(200);
        const [probs] = ((await infer.json()) as { outputs: { data: number[] }[] }).outputs;
        const expected = await mlp.model.run({ x: { dtype: 'float32', dims: [1, 64], data: x } });
        probs.data.forEach((p, i) => expect(p).toBeCloseTo((expected.probs.data as Float32Array)[i], 5));
      } finally {
        await worker.stop();
      }
    }
  } finally {
    await mlp.cleanup();
  }
});
