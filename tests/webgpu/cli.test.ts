/** `kiln compile --targets wasm,webgpu`, then inspect, run, bench and serve on the webgpu backend. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Feed } from '../../src/runtime/index.js';
import { readTensorFile, writeTensorFile } from '../../src/tensor-io/index.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { seededRandom, randomTensor } from '../helpers/onnx-builder.js';
import { startServeProcess } from '../serve/serve-process.js';
import { differences, modelPath, ROOT } from './fixture.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function kiln(...args: string[]): Promise<Result> {
  return new Promise((resolve) =>
    execFile(process.execPath, ['bin/kiln.js', ...args], { cwd: ROOT }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    ),
  );
}

let dir: string;
let bundle: string;
const x = randomTensor([1, 64], seededRandom(5));
/** the wasm backend's output for x, computed in this process */
let expected: HostTensor;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-webgpu-cli-'));
  bundle = join(dir, 'mlp');
  writeTensorFile(join(dir, 'x.npy'), x);
  const compiled = await kiln(
    'compile',
    modelPath('mlp'),
    '-o',
    bundle,
    '--shape',
    'x=1,64',
    '--targets',
    'wasm,webgpu',
  );
  expect(compiled.stderr).toBe('');
  expect(compiled.code).toBe(0);
  expect(compiled.stdout).toMatch(/model\.wasm .*, model\.wgsl \d/);
  const wasm = await loadModel(bundle, { backend: 'wasm' });
  expected = (await wasm.run({ x: x as Feed })).probs as HostTensor;
  wasm.dispose();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('kiln with the webgpu target', () => {
  it('inspect lists the target and its dispatches', async () => {
    const text = await kiln('inspect', bundle);
    expect(text.stdout).toContain('targets:  wasm, webgpu');
    expect(text.stdout).toMatch(
      /webgpu: {3}model\.wgsl .*, \d+ dispatches per run \(\d+ at init\), memory .* in \d+ storage bindings \(\d+ read-only, largest .*\)/,
    );
    const { webgpu } = JSON.parse((await kiln('inspect', bundle, '--json')).stdout);
    expect(webgpu.file).toBe('model.wgsl');
    expect(webgpu.runDispatches).toBeGreaterThan(0);
    expect(webgpu.bindings).toBeGreaterThan(webgpu.readOnlyBindings);
    expect(webgpu.readOnlyBindings).toBeGreaterThan(0);
  });

  it('run --backend webgpu writes the .npy the wasm backend writes', async () => {
    const outputs: Record<string, HostTensor> = {};
    for (const backend of ['wasm', 'webgpu']) {
      const out = join(dir, `out-${backend}`);
      const r = await kiln(
        'run',
        bundle,
        '--input',
        `x=${join(dir, 'x.npy')}`,
        '--output-dir',
        out,
        '--backend',
        backend,
      );
      expect(r.code, r.stderr).toBe(0);
      outputs[backend] = readTensorFile(join(out, 'probs.npy'));
    }
    expect(outputs.wasm).toEqual(expected);
    expect(differences({ probs: outputs.webgpu }, { probs: expected })).toEqual([]);
  });

  it('bench --backend webgpu reports the backend', async () => {
    const r = await kiln('bench', bundle, '--backend', 'webgpu', '--runs', '2', '--warmup', '0', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ model: 'mlp', backend: 'webgpu', runs: 2 });
  });

  it('bench --backend webgpu --cost prices the GPU instance at the measured throughput, naming the adapter', async () => {
    const r = await kiln('bench', bundle, '--backend', 'webgpu', '--runs', '5', '--cost', '--json');
    expect(r.code, r.stderr).toBe(0);
    const { median_ms, cost } = JSON.parse(r.stdout);
    expect(cost.cpu_ms).toBeNull();
    expect(cost.cpu_clock).toBeNull();
    const [workers, arm64, x86, gpu] = cost.targets;
    for (const t of [workers, arm64, x86]) {
      expect(t.usd_per_million).toBeNull();
      expect(t.basis).toBe(
        'not priced: it runs the wasm backend and this measurement is of webgpu (run kiln bench --cost without --backend webgpu)',
      );
    }
    expect(gpu.target).toBe('gpu g5.xlarge');
    // $1.006 an hour at one inference per median_ms (rounded in the JSON to µs)
    expect(gpu.usd_per_million / ((1.006 / 3600) * (median_ms / 1000) * 1e6)).toBeCloseTo(1, 1);
    expect(gpu.requests_usd).toBe(0);
    expect(gpu.basis).toMatch(
      /^\$1\.006 per instance-hour ÷ \([\d.]+ inferences per second × 3,600\): one at a time, .* each, on /,
    );
    // the CPU, then the adapter; on lavapipe the line says that this is not a GPU's speed
    expect(cost.measured_on).toContain(',');
    if (/llvmpipe/.test(cost.measured_on))
      expect(gpu.basis).toContain("a CPU emulation of a GPU: not the instance's speed");
  });

  it.each([
    { how: '--backend webgpu', flags: ['--backend', 'webgpu'] },
    { how: 'the default auto (the bundle has WGSL and there is an adapter)', flags: [] },
  ])('serve with $how answers an infer on webgpu and stops on SIGTERM', async ({ flags }) => {
    const { child, url, stdout, exited } = await startServeProcess([bundle, '--port', '0', ...flags]);
    try {
      expect(stdout()).toContain(`kiln: serving mlp from ${bundle} (webgpu)`);
      const response = await fetch(`${url}/v2/models/mlp/infer`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: Array.from(x.data as Float32Array) }],
        }),
      });
      expect(response.status).toBe(200);
      const [probs] = (await response.json()).outputs;
      const actual: HostTensor = {
        dtype: 'float32',
        dims: probs.shape,
        data: Float32Array.from(probs.data),
      };
      expect(differences({ probs: actual }, { probs: expected })).toEqual([]);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
