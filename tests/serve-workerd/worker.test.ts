/**
 * The serving contract inside workerd (the Workers runtime, through miniflare), on the Worker that
 * src/deploy/worker-build.ts builds: the bundled entry, the model as a CompiledWasm module, the
 * weights as a Data module.
 */
import type { Readable } from 'node:stream';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { expect, it } from 'vitest';
import { buildWorker } from '../../src/deploy/worker-build.js';
import { CONTRACT_ENV, describeContract } from '../serve/contract.js';
import { compileMlp } from '../serve/fixture.js';

/** Serves the built Worker in workerd; its request logs are swallowed (the runtime's stdio). */
async function startWorker(bundleDir: string, bindings: Record<string, string>) {
  const outDir = await mkdtemp(join(tmpdir(), 'kiln-worker-'));
  const modules = await buildWorker(outDir, [bundleDir]);
  const mf = new Miniflare({
    modules: await Promise.all(
      modules.map(async ({ path, type }) => ({
        type,
        path: join(outDir, path),
        contents: await readFile(join(outDir, path)),
      })),
    ),
    modulesRoot: outDir,
    compatibilityDate: '2026-04-01',
    bindings,
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
      stdout.resume();
      stderr.resume();
    },
  });
  return {
    modules,
    send: async (path: string, init?: RequestInit) =>
      (await mf.dispatchFetch(`http://localhost${path}`, init as never)) as unknown as Response,
    stop: async () => {
      await mf.dispose();
      await rm(outDir, { recursive: true, force: true });
    },
  };
}

describeContract('workerd', async (mlp) => {
  const worker = await startWorker(mlp.dir, CONTRACT_ENV);
  expect(worker.modules).toEqual([
    { path: 'worker.js', type: 'ESModule' },
    { path: 'mlp.wasm', type: 'CompiledWasm' },
    { path: 'mlp.weights.bin', type: 'Data' },
  ]);
  return worker;
});

it('a Worker that cannot start answers every request 500 with the reason', async () => {
  const mlp = await compileMlp();
  const worker = await startWorker(mlp.dir, { KILN_MAX_BODY_MB: 'lots' });
  try {
    for (let i = 0; i < 2; i++) {
      const response = await worker.send('/v2/health/live');
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({
        error:
          'the Worker could not start: KILN_MAX_BODY_MB must be a whole number of MiB, at least 1, got "lots"',
      });
    }
  } finally {
    await worker.stop();
    await mlp.cleanup();
  }
});
