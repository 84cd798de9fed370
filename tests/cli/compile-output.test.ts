/**
 * `kiln compile -o DIR`: the bundle replaces what was there whole (no stale file of an earlier build),
 * a directory that is not a bundle is refused unless --force, and an output path that cannot be made
 * fails with one line naming the path and the cause — never a hang.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mlpModel } from '../helpers/models.js';
import { runKiln } from '../helpers/cli-main.js';

let dir: string;
let model: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-compile-out-'));
  model = join(dir, 'mlp.onnx');
  await writeFile(model, mlpModel());
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const compile = (out: string, ...flags: string[]) =>
  runKiln(['compile', model, '-o', out, '--shape', 'x=1,64', '--no-relaxed', ...flags]);

describe('kiln compile -o', () => {
  it('over an earlier bundle leaves only the new bundle: no stale model.wgsl', async () => {
    const out = join(dir, 'rebuilt');
    expect((await compile(out, '--targets', 'wasm,webgpu')).code).toBe(0);
    expect(await readdir(out)).toContain('model.wgsl');
    const again = await compile(out);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect((await readdir(out)).sort()).toEqual(['manifest.json', ...Object.keys(manifest.files)].sort());
    expect(await readdir(out)).not.toContain('model.wgsl');
    // no temporary directory is left beside it
    expect((await readdir(dir)).filter((f) => f.includes('.kiln-'))).toEqual([]);
  });

  it('refuses a non-empty directory that is not a bundle, and replaces it with --force', async () => {
    const out = join(dir, 'photos');
    await mkdir(out);
    await writeFile(join(out, 'holiday.jpg'), 'precious');
    const refused = await compile(out);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `kiln: ${out} is not empty and is not a Kiln bundle; refusing to replace it without --force\n`,
    );
    expect(await readdir(out)).toEqual(['holiday.jpg']);
    expect((await compile(out, '--force')).code).toBe(0);
    expect(await readdir(out)).toContain('manifest.json');
    expect(await readdir(out)).not.toContain('holiday.jpg');
  });

  it('an empty directory is written into', async () => {
    const out = join(dir, 'empty');
    await mkdir(out);
    expect((await compile(out)).code).toBe(0);
    expect(await readdir(out)).toContain('model.wasm');
  });

  it('a file or a path through a file is one line naming the path and the cause', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const onFile = await compile(file);
    expect(onFile.code).toBe(1);
    expect(onFile.stderr).toBe(`kiln: cannot write to ${file}: it is a file\n`);
    const through = await compile(join(file, 'sub'));
    expect(through.stderr).toBe(`kiln: cannot write to ${join(file, 'sub')}: not a directory (ENOTDIR)\n`);
  });

  it('a model path that is a directory names the path (was a bare EISDIR)', async () => {
    const r = await runKiln(['compile', dir, '-o', join(dir, 'never')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`kiln: cannot read model ${dir}: illegal operation on a directory (EISDIR)\n`);
  });

  it('--name must be a safe model name, by the rule deploy applies', async () => {
    for (const name of ['../../evil', '..', 'a/b', 'with space']) {
      const r = await compile(join(dir, 'named'), '--name', name);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(
        `kiln: --name ${JSON.stringify(name)} is not a safe model name (letters, digits, '_', '.' and '-', not only dots): it names the model in URLs and deployed files`,
      );
    }
    expect((await compile(join(dir, 'named'), '--name', 'mlp-v2.1_final')).code).toBe(0);
  });

  it('a model name taken from an unsafe file name is compiled with a warning', async () => {
    const spaced = join(dir, 'my model.onnx');
    await writeFile(spaced, mlpModel());
    const r = await runKiln([
      'compile',
      spaced,
      '-o',
      join(dir, 'spaced'),
      '--shape',
      'x=1,64',
      '--no-relaxed',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `kiln: warning: the model name "my model" (from the file name) is not a safe model name (letters, digits, '_', '.' and '-', not only dots): kiln deploy will refuse it; pass --name\n`,
    );
  });

  it.runIf(process.platform === 'linux')(
    'under /proc fails with a clear error instead of spinning (Node 20 recursive mkdir never returns there)',
    async () => {
      const r = await new Promise<{ code: number | null; signal: string | null; stderr: string }>((done) =>
        execFile(
          'node',
          ['bin/kiln.js', 'compile', model, '-o', '/proc/kiln-test/bundle', '--shape', 'x=1,64'],
          { timeout: 90_000, killSignal: 'SIGKILL' },
          (err, _stdout, stderr) =>
            done({ code: err ? (err.code as number | null) : 0, signal: err?.signal ?? null, stderr }),
        ),
      );
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'kiln: cannot create directory /proc/kiln-test: no such file or directory (ENOENT)\n',
      );
    },
    120_000,
  );
});
