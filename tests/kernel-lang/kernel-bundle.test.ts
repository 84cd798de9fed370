/**
 * Kernels as deployables: `kiln compile swish.ts --kernel Swish` builds a bundle whose inputs and outputs
 * are the kernel's parameters; `kiln serve` (its own process) answers its OIP infer with the kernel's
 * JavaScript reference, and `kiln deploy --dry-run` builds it for cloudflare, lambda and gpu.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runKiln } from '../helpers/cli-main.js';
import { startServeProcess } from '../serve/serve-process.js';
import { runReference } from '../../src/kernel-lang/index.js';
import { loadModel } from '../../src/runtime/index.js';
import { loadKernelFile } from '../../src/kernel-lang/load.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { RMS_NORM_FILE, SWISH_FILE } from './fixture.js';

let work: string;
let bundle: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kiln-kernel-bundle-'));
  bundle = join(work, 'swish');
  const r = await runKiln([
    'compile',
    SWISH_FILE,
    '--kernel',
    'Swish',
    '--shape',
    'x=2,64',
    '--targets',
    'wasm,webgpu',
    '-o',
    bundle,
  ]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => work && rm(work, { recursive: true, force: true }));

describe('kiln compile KERNELS.ts --kernel NAME', () => {
  it("builds a bundle whose inputs and outputs are the kernel's parameters", async () => {
    const manifest = JSON.parse(await readFile(join(bundle, 'manifest.json'), 'utf8'));
    expect(manifest.model.name).toBe('swish');
    expect(manifest.inputs).toMatchObject([{ name: 'x', dtype: 'float32', shape: [2, 64] }]);
    expect(manifest.outputs).toMatchObject([{ name: 'y', dtype: 'float32', shape: [2, 64] }]);
    expect(manifest.targets).toEqual(['wasm', 'webgpu']);
    expect(manifest.kernels.map((k: { op: string }) => k.op)).toEqual(['Swish']);
  });

  it('kiln serve answers /v2/models/swish/infer with what the JavaScript reference computes', async () => {
    const served = await startServeProcess([bundle, '--port', '0']);
    try {
      const x = randomTensor([2, 64], seededRandom(9), 4) as { dims: number[]; data: Float32Array };
      const res = await fetch(`${served.url}/v2/models/swish/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: [{ name: 'x', shape: [2, 64], datatype: 'FP32', data: [...x.data] }],
        }),
      });
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.outputs[0]).toMatchObject({ name: 'y', shape: [2, 64], datatype: 'FP32' });
      const [{ def }] = await loadKernelFile(SWISH_FILE);
      const want = runReference(def, { x }).y.data;
      (body.outputs[0].data as number[]).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    } finally {
      served.child.kill();
      await served.exited;
    }
  });

  it.each(['cloudflare', 'lambda', 'gpu'])('kiln deploy --target %s --dry-run builds it', async (target) => {
    const out = join(work, `deploy-${target}`);
    const region = target === 'cloudflare' ? [] : ['--region', 'eu-west-1'];
    const r = await runKiln(['deploy', bundle, '--target', target, '--dry-run', '--out', out, ...region]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });
});

describe('kiln compile KERNELS.ts --kernel NAME --attr NAME=VALUE', () => {
  it('sets the attribute: the bundle computes the reference at that value', async () => {
    const out = join(work, 'swish-beta');
    const r = await runKiln([
      'compile',
      SWISH_FILE,
      '--kernel',
      'Swish',
      '--shape',
      'x=2,64',
      '--attr',
      'beta=2.5',
      '-o',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const x = randomTensor([2, 64], seededRandom(5), 4) as { dims: number[]; data: Float32Array };
    const model = await loadModel(out, { backend: 'wasm' });
    const y = (await model.run({ x: { dtype: 'float32', dims: x.dims, data: x.data } })).y
      .data as Float32Array;
    model.dispose();
    const [{ def }] = await loadKernelFile(SWISH_FILE);
    const want = runReference(def, { x }, { beta: 2.5 }).y.data;
    const atDefault = runReference(def, { x }).y.data;
    y.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    expect(y.some((v, i) => Math.abs(v - atDefault[i]) > 1e-3)).toBe(true);
  });
});

describe('kiln compile KERNELS.ts --kernel NAME --attr LIST=1,2,3', () => {
  it('sets a list attribute: the bundle computes with it; an index it moves out of x names the kernel line', async () => {
    const file = join(work, 'gather-sum.ts');
    await writeFile(
      file,
      [
        `import { ints, kernel } from ${JSON.stringify(resolve(import.meta.dirname, '../../src/kernel-lang/index.js'))};`,
        `export const PickSum = kernel({`,
        `  op: 'PickSum', inputs: { x: 'f32' }, outputs: { y: 'f32' }, attrs: { picks: ints([0]) },`,
        `  shape: () => ({ y: [1] }),`,
        `  body: ({ x, y, picks }, k) =>`,
        `    k.parallel(1, () => y.set(0, picks.map((p) => x.at(p)).reduce((a, b) => a.add(b)))),`,
        `});`,
      ].join('\n'),
    );
    const out = join(work, 'pick-sum');
    const compile = (picks: string) =>
      runKiln([
        'compile',
        file,
        '--kernel',
        'PickSum',
        '--shape',
        'x=8',
        '--attr',
        `picks=${picks}`,
        '-o',
        out,
      ]);
    const r = await compile('1,3,3,7');
    expect(r.code, r.stderr).toBe(0);
    const model = await loadModel(out, { backend: 'wasm' });
    const x = Float32Array.from([1, 2, 4, 8, 16, 32, 64, 128]);
    const y = (await model.run({ x: { dtype: 'float32', dims: [8], data: x } })).y.data as Float32Array;
    model.dispose();
    expect([...y]).toEqual([2 + 8 + 8 + 128]);
    const refused = await compile('1,9');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`kernel PickSum (${file}:6:`);
    expect(refused.stderr).toContain(
      'x.at(): index 0 can take 9..9, which leaves dimension 0 of x (size 8): 0..7',
    );
  });
});

describe('kiln compile KERNELS.ts --kernel NAME --shape x=MIN..MAX,...', () => {
  it('builds a bundle with a dim known only at run time that runs at several sizes', async () => {
    const out = join(work, 'rms-norm-rows');
    const r = await runKiln([
      'compile',
      RMS_NORM_FILE,
      '--kernel',
      'RmsNormScale',
      '--shape',
      'x=1..64,256',
      '--shape',
      'scale=256',
      '-o',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const rows = { name: 'x_0', min: 1, max: 64 };
    expect(manifest.inputs).toMatchObject([
      { name: 'x', shape: [rows, 256] },
      { name: 'scale', shape: [256] },
    ]);
    expect(manifest.outputs).toMatchObject([{ name: 'y', shape: [rows, 256] }]);
    const [{ def }] = await loadKernelFile(RMS_NORM_FILE);
    const model = await loadModel(out, { backend: 'wasm' });
    type F32 = { dtype: 'float32'; dims: number[]; data: Float32Array };
    const scale = randomTensor([256], seededRandom(7)) as F32;
    for (const n of [1, 3, 64]) {
      const x = randomTensor([n, 256], seededRandom(n), 2) as F32;
      const y = (await model.run({ x, scale })).y;
      expect(y.dims).toEqual([n, 256]);
      const want = runReference(def, { x, scale }).y.data;
      (y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    }
    model.dispose();
  });
});

describe('bad input: a usage error, nothing written', () => {
  const compile = async (...args: string[]) => {
    const out = join(work, 'refused');
    const r = await runKiln(['compile', ...args, '-o', out]);
    expect(existsSync(out)).toBe(false);
    return r;
  };

  it('a missing input shape, an unknown kernel, a kernel file without --kernel', async () => {
    const missing = await compile(RMS_NORM_FILE, '--kernel', 'RmsNormScale', '--shape', 'x=4,8');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      'kernel RmsNormScale needs the shape of every input: pass --shape scale=D0,D1,..',
    );
    const unknown = await compile(SWISH_FILE, '--kernel', 'Mish', '--shape', 'x=4');
    expect(unknown.stderr).toContain(
      `--kernel Mish: ${SWISH_FILE} exports no such kernel (it exports Swish)`,
    );
    const noKernel = await compile(SWISH_FILE);
    expect(noKernel.stderr).toContain('is a kernel file: pass --kernel NAME');
    const unknownAttr = await compile(SWISH_FILE, '--kernel', 'Swish', '--shape', 'x=4', '--attr', 'gamma=1');
    expect(unknownAttr.code).toBe(1);
    expect(unknownAttr.stderr).toContain("unknown attribute 'gamma' (declared: beta)");
    const notNumber = await compile(SWISH_FILE, '--kernel', 'Swish', '--shape', 'x=4', '--attr', 'beta=big');
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toContain('--attr "beta=big": "big" is not a number');
    const onModel = await compile(join(work, 'model.onnx'), '--attr', 'beta=1');
    expect(onModel.stderr).toContain("--attr sets a kernel bundle's attributes (with --kernel)");
  });

  it("a shape the kernel's shape function refuses names the kernel file", async () => {
    const r = await compile(
      RMS_NORM_FILE,
      '--kernel',
      'RmsNormScale',
      '--shape',
      'x=4,8',
      '--shape',
      'scale=7',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`kernel RmsNormScale (${RMS_NORM_FILE}:`);
    expect(r.stderr).toContain('shape function: scale has shape [7], expected [8] (the last axis of x)');
  });
});
