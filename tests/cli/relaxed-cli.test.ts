/** The CLI and relaxed SIMD: compile builds model.relaxed.wasm (or not, --no-relaxed), inspect shows both, run/bench say which runs. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kiln ...args`; `relaxed` starts node with --experimental-wasm-relaxed-simd (Node 20 lacks relaxed SIMD without it) */
function kiln(relaxed: boolean, ...args: string[]): Promise<Result> {
  const node = [...(relaxed ? ['--experimental-wasm-relaxed-simd'] : []), 'bin/kiln.js', ...args];
  return new Promise((resolve) => {
    execFile('node', node, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-relaxed-cli-'));
  const [withRelaxed, without] = await Promise.all([
    kiln(false, 'compile', 'models/mlp.onnx', '-o', join(dir, 'mlp'), '--shape', 'x=1,64'),
    kiln(false, 'compile', 'models/mlp.onnx', '-o', join(dir, 'plain'), '--shape', 'x=1,64', '--no-relaxed'),
  ]);
  expect(withRelaxed.stdout).toMatch(/model\.wasm [\d.]+ KiB, model\.relaxed\.wasm [\d.]+ KiB, weights\.bin/);
  expect(without.stdout).not.toContain('model.relaxed.wasm');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it('compile --no-relaxed leaves model.relaxed.wasm out; inspect shows both files or says there is none', async () => {
  expect(existsSync(join(dir, 'mlp', 'model.relaxed.wasm'))).toBe(true);
  expect(existsSync(join(dir, 'plain', 'model.relaxed.wasm'))).toBe(false);
  const [text, json, plain] = await Promise.all([
    kiln(false, 'inspect', join(dir, 'mlp')),
    kiln(false, 'inspect', join(dir, 'mlp'), '--json'),
    kiln(false, 'inspect', join(dir, 'plain')),
  ]);
  expect(text.stdout).toMatch(
    /wasm: +model\.wasm [\d.]+ KiB \(SIMD128\)\n +model\.relaxed\.wasm [\d.]+ KiB \(relaxed SIMD/,
  );
  const info = JSON.parse(json.stdout);
  expect(info.relaxedWasm).toEqual({ file: 'model.relaxed.wasm', bytes: expect.any(Number) });
  expect(info.relaxedWasm.bytes).toBeGreaterThan(8);
  expect(plain.stdout).toContain('no relaxed-SIMD module');
});

it('bench and run say which module runs: relaxed where the engine has it, simd128 otherwise or when asked', async () => {
  const bench = async (relaxed: boolean, ...args: string[]) => {
    const r = await kiln(
      relaxed,
      'bench',
      join(dir, 'mlp'),
      '--runs',
      '3',
      '--warmup',
      '0',
      '--json',
      ...args,
    );
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout).variant;
  };
  expect(await bench(true)).toBe('relaxed');
  expect(await bench(true, '--variant', 'simd128')).toBe('simd128');
  expect(await bench(false)).toBe('simd128');
  const text = await kiln(true, 'bench', join(dir, 'mlp'), '--runs', '3', '--warmup', '0');
  expect(text.stdout).toMatch(/^mlp \(wasm \(relaxed SIMD\)\): load /);
  const forced = await kiln(false, 'bench', join(dir, 'mlp'), '--variant', 'relaxed');
  expect(forced.code).toBe(1);
  expect(forced.stderr).toMatch(
    /^kiln: model "mlp": variant 'relaxed' needs relaxed SIMD, which this WebAssembly engine lacks/,
  );
  const noModule = await kiln(true, 'bench', join(dir, 'plain'), '--variant', 'relaxed');
  expect(noModule.stderr).toMatch(/^kiln: model "mlp": the bundle has no relaxed-SIMD module/);
  const bad = await kiln(false, 'run', join(dir, 'mlp'), '--variant', 'fma');
  expect(bad.code).toBe(2);
  expect(bad.stderr.split('\n')[0]).toBe('kiln: --variant must be one of auto, simd128, relaxed, got "fma"');
});

it('bench --profile times the module the bench ran: model.relaxed.wasm under relaxed SIMD, model.wasm when asked', async () => {
  const profiled = async (...args: string[]) => {
    const r = await kiln(
      true,
      'bench',
      join(dir, 'mlp'),
      '--profile',
      '--runs',
      '2',
      '--warmup',
      '0',
      '--warmup-ms',
      '0',
      ...args,
    );
    expect(r.stderr).toBe('');
    return r.stdout;
  };
  expect(JSON.parse(await profiled('--json')).profile.variant).toBe('relaxed');
  expect(JSON.parse(await profiled('--json', '--variant', 'simd128')).profile.variant).toBe('simd128');
  expect(await profiled()).toMatch(/profiled runs of model\.relaxed\.wasm, optimized up front/);
});
