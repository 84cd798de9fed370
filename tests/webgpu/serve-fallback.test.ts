/**
 * `kiln serve` with a bundle whose WGSL the GPU refuses: --backend auto serves it on wasm and says why
 * (a GPU instance with a broken driver still serves), --backend webgpu refuses to start.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundle } from '../../src/bundle/node.js';
import { sealBundle } from '../../src/bundle/seal.js';
import { loadModel } from '../../src/runtime/index.js';
import { startServeProcess } from '../serve/serve-process.js';
import { compileBoth, ROOT } from './fixture.js';

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-webgpu-fallback-'));
  bundle = join(dir, 'mlp');
  const files = await compileBoth('mlp');
  // sealed again, so the bundle verifies: only the GPU's shader compiler can find the fault
  await writeBundle(bundle, await sealBundle({ ...files, wgsl: `${files.wgsl}\nfn broken( {\n` }));
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('kiln serve when the model fails to load on the GPU', () => {
  it('--backend auto serves it on wasm, with a warning that says why', async () => {
    const server = await startServeProcess([bundle, '--port', '0']);
    let stderr = '';
    server.child.stderr!.on('data', (d) => (stderr += d));
    try {
      expect(server.stdout()).toMatch(/serving mlp from .* \(wasm\)/);
      const x = Array.from({ length: 64 }, (_, i) => Math.sin(i));
      const response = await fetch(`${server.url}/v2/models/mlp/infer`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: x }] }),
      });
      expect(response.status).toBe(200);
      const direct = await loadModel(bundle, { backend: 'wasm' });
      const { probs } = await direct.run({
        x: { dtype: 'float32', dims: [1, 64], data: Float32Array.from(x) },
      });
      expect((await response.json()).outputs[0].data).toEqual(Array.from(probs.data as Float32Array));
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    expect(stderr).toMatch(/kiln: warning: serving .*mlp on wasm: .*model\.wgsl/);
  });

  it('--backend webgpu refuses to start, naming the shader error', async () => {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ['bin/kiln.js', 'serve', bundle, '--port', '0', '--backend', 'webgpu'],
        { cwd: ROOT },
        (err, _stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }),
      ),
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/kiln: .*model\.wgsl/);
  });
});
