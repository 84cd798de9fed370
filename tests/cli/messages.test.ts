/**
 * Messages a user can act on: a file system failure names the path and the cause (not a bare EISDIR),
 * an engine's refusal to grow memory names the model and the sizes, and a model newer than Kiln knows
 * compiles with a warning.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundle } from '../../src/bundle/node.js';
import { sealBundle } from '../../src/bundle/seal.js';
import { compileModel } from '../../src/compiler/compile.js';
import { tensorFromNumbers } from '../../src/ir/tensor.js';
import { loadModel } from '../../src/runtime/index.js';
import { writeTensorFile } from '../../src/tensor-io/index.js';
import { buildFixtureBundle } from '../runtime/fixture.js';
import { encodeModel, reluModel } from '../helpers/onnx-builder.js';
import { runKiln } from '../helpers/cli-main.js';

let dir: string;
let bundle: string;
let inputs: string[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-messages-'));
  bundle = join(dir, 'bundle');
  await writeBundle(bundle, await buildFixtureBundle());
  writeTensorFile(join(dir, 'x.npy'), tensorFromNumbers('float32', [2, 3], [1, 2, 3, 4, 5, 6]));
  writeTensorFile(join(dir, 'i.npy'), tensorFromNumbers('int32', [1], [0]));
  inputs = ['--input', `x=${join(dir, 'x.npy')}`, '--input', `i=${join(dir, 'i.npy')}`];
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('file system failures name the path and the cause', () => {
  it('run --input naming a directory', async () => {
    const npyDir = join(dir, 'dir.npy');
    await mkdir(npyDir);
    const r = await runKiln(['run', bundle, '--input', `x=${npyDir}`, '--input', `i=${join(dir, 'i.npy')}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `kiln: cannot read tensor file ${npyDir}: illegal operation on a directory (EISDIR)\n`,
    );
  });

  it('run --output-dir naming a file', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const r = await runKiln(['run', bundle, ...inputs, '--output-dir', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`kiln: cannot create directory ${file}: ${file} exists and is not a directory\n`);
  });

  it('run --output-dir where an output file would overwrite a directory', async () => {
    const out = join(dir, 'out');
    await mkdir(join(out, 'picked.npy'), { recursive: true });
    const r = await runKiln(['run', bundle, ...inputs, '--output-dir', out, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `kiln: cannot write tensor file ${join(out, 'picked.npy')}: illegal operation on a directory (EISDIR)\n`,
    );
  });
});

it('a memory plan larger than the module can grow to names the module and both sizes', async () => {
  const files = await buildFixtureBundle();
  const totalBytes = 2 ** 32 + 65536;
  const manifest = { ...files.manifest, memory: { ...files.manifest.memory, totalBytes } };
  await expect(loadModel(await sealBundle({ ...files, manifest }), { backend: 'wasm' })).rejects.toThrow(
    `bundle memory plan: totalBytes ${totalBytes} is more than the 65536 bytes model.wasm's memory can grow to`,
  );
});

describe('a model newer than Kiln knows', () => {
  const compileWarnings = async (model: Parameters<typeof reluModel>[1]) => {
    const warnings: string[] = [];
    await compileModel(encodeModel(reluModel({}, model)), {
      relaxed: false,
      onWarning: (m) => warnings.push(m),
    });
    return warnings;
  };

  it('opset and ir_version 999 compile with a warning each', async () => {
    expect(await compileWarnings({ irVersion: 999, opsetImport: [{ domain: '', version: 999 }] })).toEqual([
      'the model imports opset 999 of the default ONNX domain, newer than Kiln knows (21): each op is compiled as its newest version Kiln knows, which may differ',
      'the model has ir_version 999, newer than Kiln knows (10): anything that version added is ignored',
    ]);
  });

  it('known versions compile without one', async () => {
    expect(await compileWarnings({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }] })).toEqual([]);
  });
});

describe('a reader that closes the pipe early', () => {
  it('ends kiln quietly (exit 0), not with an unhandled EPIPE stack', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['bin/kiln.js', 'inspect', bundle], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // closed before kiln writes a byte, as `kiln inspect DIR | head -0` would
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
