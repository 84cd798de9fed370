/** Custom ops: models with com.example nodes compile with kernels written in TypeScript and run on wasm; bad input is one clear error and nothing written. */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileModel } from '../../src/compiler/compile.js';
import { float, kernel } from '../../src/kernel-lang/index.js';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { loadModel, type Feed } from '../../src/runtime/index.js';
import { compareTensors } from '../../scripts/compare.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { runKiln } from '../helpers/cli-main.js';
import { rmsNormCase, swishCase, SWISH_FILE, type CustomOpCase } from './fixture.js';
import { rmsNormModel, swishModel } from '../../examples/custom-op/models.js';
import { encodeModel } from '../helpers/onnx-builder.js';
import { onnx } from '../../src/frontend/onnx/proto.js';

const LANGUAGE = resolve(import.meta.dirname, '../../src/kernel-lang/index.js');

async function runWasm(c: CustomOpCase, files = compileModel(c.model, { kernels: c.kernels })) {
  const model = await loadModel(await files, { backend: 'wasm' });
  const out = await model.run(c.feeds as Record<string, Feed>);
  model.dispose();
  return out;
}

function expectMatches(out: Record<string, unknown>, c: CustomOpCase) {
  for (const [name, want] of Object.entries(c.expected))
    expect(compareTensors(out[name] as HostTensor, want, 1e-5, 1e-6), `${c.name}: ${name}`).toBeUndefined();
}

async function tempDir() {
  return mkdtemp(join(tmpdir(), 'kiln-custom-op-'));
}

describe('custom ops on wasm', () => {
  it('Swish with beta from the node and with its default matches the JavaScript reference', async () => {
    for (const c of [await swishCase(1.5), await swishCase()]) expectMatches(await runWasm(c), c);
  });

  it('the fused RMSNorm + scale kernel (a reduction into local accumulators) after a MatMul', async () => {
    const c = await rmsNormCase();
    expectMatches(await runWasm(c), c);
  });

  it('a model whose rows are known only at run time compiles once and runs at 1, 5 and 16 rows', async () => {
    const model = rmsNormModel('rows');
    const c16 = await rmsNormCase(16, model);
    const files = compileModel(model, { kernels: c16.kernels, dims: { rows: { min: 1, max: 16 } } });
    for (const c of [await rmsNormCase(1, model), await rmsNormCase(5, model), c16])
      expectMatches(await runWasm(c, files), c);
  });

  it('two compiles at once with different kernels for one op each run their own', async () => {
    const c = await swishCase(1.5);
    const Double = kernel({
      domain: 'com.example',
      op: 'Swish',
      inputs: { x: 'f32' },
      outputs: { y: 'f32' },
      attrs: { beta: float(1) },
      shape: ({ x }) => ({ y: x.shape }),
      body: ({ x, y }, k) => k.forEach(y, (i) => y.set(i, x.at(i).mul(2))),
    });
    const [swish, double] = await Promise.all([
      compileModel(c.model, { kernels: c.kernels }),
      compileModel(c.model, { kernels: [Double] }),
    ]);
    expectMatches(await runWasm(c, Promise.resolve(swish)), c);
    const bias = parseOnnxModel(c.model).initializers.get('bias')!.data as Float32Array;
    const y = (await runWasm(c, Promise.resolve(double))).y as HostTensor;
    const want = (c.feeds.x.data as Float32Array).map((v, i) => Math.fround(2 * v) + bias[i % 32]);
    expect(compareTensors(y, { dtype: 'float32', dims: [4, 32], data: want }, 1e-5, 1e-6)).toBeUndefined();
  });

  it('an elementwise() op bound with --kernels fuses with its neighbours and matches the reference', async () => {
    const dir = await tempDir();
    const file = join(dir, 'swish-elementwise.ts');
    await writeFile(
      file,
      [
        `import { elementwise, float, sigmoid } from ${JSON.stringify(LANGUAGE)};`,
        `export const Swish = elementwise({`,
        `  domain: 'com.example', op: 'Swish', inputs: ['x'], attrs: { beta: float(1) },`,
        `  fn: ({ x, beta }) => x.mul(sigmoid(x.mul(beta))),`,
        `});`,
      ].join('\n'),
    );
    const c = await swishCase(1.5);
    await writeFile(join(dir, 'swish.onnx'), c.model);
    const out = join(dir, 'out');
    const r = await runKiln(['compile', join(dir, 'swish.onnx'), '--kernels', file, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    // Swish and the bias Add are one fused kernel
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.kernels.map((k: { op: string }) => k.op)).toEqual(['Swish+Add']);
    const model = await loadModel(out, { backend: 'wasm' });
    expectMatches(await model.run(c.feeds as Record<string, Feed>), c);
    model.dispose();
  });

  it('kiln compile --kernels FILE.ts builds a bundle that runs', async () => {
    const dir = await tempDir();
    const c = await swishCase(1.5);
    await writeFile(join(dir, 'swish.onnx'), c.model);
    const r = await runKiln([
      'compile',
      join(dir, 'swish.onnx'),
      '--kernels',
      SWISH_FILE,
      '-o',
      join(dir, 'out'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const model = await loadModel(join(dir, 'out'), { backend: 'wasm' });
    expectMatches(await model.run(c.feeds as Record<string, Feed>), c);
    model.dispose();
  });
});

describe('bad input: one clear error naming the node or the kernel file and line, nothing in -o', () => {
  async function compileFails(model: Uint8Array, kernelFiles: string[], ...args: string[]) {
    const dir = await tempDir();
    await writeFile(join(dir, 'm.onnx'), model);
    const out = join(dir, 'out');
    const r = await runKiln([
      'compile',
      join(dir, 'm.onnx'),
      ...kernelFiles.flatMap((f) => ['--kernels', f]),
      ...args,
      '-o',
      out,
    ]);
    expect(r.code).not.toBe(0);
    expect(existsSync(out)).toBe(false);
    return r.stderr;
  }

  it('two kernels for one op are refused', async () => {
    const c = await swishCase();
    await expect(compileModel(c.model, { kernels: [...c.kernels, ...c.kernels] })).rejects.toThrow(
      `two kernels implement com.example:Swish (${SWISH_FILE}:`,
    );
  });

  it('a custom-domain node with no kernel names the node and the domain', async () => {
    expect(await compileFails(swishModel(1.5), [])).toContain(
      'Swish node "swish" (opset 1): unsupported op Swish (domain com.example, opset 1); no kernel was given for it: pass one with --kernels FILE.ts',
    );
  });

  it('an attribute of the wrong type names the node', async () => {
    const proto = onnx.ModelProto.decode(swishModel(1.5));
    proto.graph!.node![0].attribute = [
      { name: 'beta', type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode('big') },
    ];
    expect(await compileFails(encodeModel(proto), [SWISH_FILE])).toContain(
      `Swish node "swish": attribute 'beta' must be a float, got a string`,
    );
  });

  it('a kernel that does not trace names its file and line (through the bundled file)', async () => {
    const dir = await tempDir();
    const file = join(dir, 'bad-swish.ts');
    await writeFile(
      file,
      [
        `import { kernel, sigmoid } from ${JSON.stringify(LANGUAGE)};`,
        `export const Swish = kernel({`,
        `  domain: 'com.example', op: 'Swish', inputs: { x: 'f32' }, outputs: { y: 'f32' },`,
        `  shape: ({ x }) => ({ y: x.shape }),`,
        `  body: ({ x, y }, k) =>`,
        `    k.forEach(y, (i) => y.set(i, sigmoid(x.at(i.add(1))))),`,
        `});`,
      ].join('\n'),
    );
    const stderr = await compileFails(swishModel(), [file]);
    expect(stderr).toContain(`Swish node "swish" (opset 1): kernel Swish (${file}:6:`);
    expect(stderr).toContain('x.at(): index 0 can take 1..128, which leaves x (128 elements): 0..127');
  });

  /** A kernel file for com.example:RmsNormScale with `body` (lines 5 on) as its body. */
  async function rmsNormFile(...body: string[]) {
    const file = join(await tempDir(), 'rms-norm.ts');
    await writeFile(
      file,
      [
        `import { kernel, rsqrt } from ${JSON.stringify(LANGUAGE)};`,
        `export const RmsNormScale = kernel({`,
        `  domain: 'com.example', op: 'RmsNormScale', inputs: { x: 'f32', scale: 'f32' }, outputs: { y: 'f32' },`,
        `  shape: ({ x }) => ({ y: x.shape }),`,
        `  body: ({ x, scale, y }, k) => {`,
        ...body,
        `  },`,
        `});`,
      ].join('\n'),
    );
    return file;
  }
  const RUN_TIME_ROWS = ['--dim', 'rows=1..16'];

  it('a kernel that computes with a dim known only at run time in JavaScript names its file and line', async () => {
    const file = await rmsNormFile(
      `    const cols = x.shape[1] as number;`,
      `    const rows = (x.size as number) / cols;`,
      `    k.parallel(rows, (r) => k.loop(cols, (c) => y.set(r, c, x.at(r, c).mul(scale.at(c)))));`,
    );
    const stderr = await compileFails(rmsNormModel('rows'), [file], ...RUN_TIME_ROWS);
    expect(stderr).toContain(`RmsNormScale node "norm" (opset 1): kernel RmsNormScale (${file}:7:`);
    expect(stderr).toContain(
      'x.size is known only at run time (rows*48: 48..768) but was used as a JavaScript number or boolean',
    );
    expect(stderr).toContain('fix it with --shape');
  });

  it('an index that can leave a dim known only at run time is refused', async () => {
    const file = await rmsNormFile(
      `    k.parallel(x.shape[0], (r) => k.loop(48, (c) => y.set(r.add(1), c, x.at(r, c))));`,
    );
    const stderr = await compileFails(rmsNormModel('rows'), [file], ...RUN_TIME_ROWS);
    expect(stderr).toContain(`kernel RmsNormScale (${file}:6:`);
    expect(stderr).toContain(
      'y.set(): index 0 can take 1..rows, which leaves dimension 0 of y (size rows): 0..rows - 1',
    );
  });

  it('a kernel file that does not compile names the file and line', async () => {
    const dir = await tempDir();
    const file = join(dir, 'broken.ts');
    await writeFile(file, 'export const Swish = kernel({\n  op: "Swish",\n');
    expect(await compileFails(swishModel(), [file])).toContain(
      `cannot load kernels from ${file}: ${file}:3:`,
    );
  });
});
