/** `kiln inspect` and `kiln run` on a bundle whose output sizes are values (#11 item 2): real sizes, exit 1 beyond a bound. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readTensorFile, writeTensorFile } from '../../src/tensor-io/index.js';
import { tensorFromNumbers } from '../../src/ir/tensor.js';
import { embeddingModel, topKNonZeroModel } from '../helpers/data-shape-models.js';
import { runKiln } from '../helpers/cli-main.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-data-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it('compiles TopK (K fed) → NonZero, inspects the bounds, runs at K = 3 and refuses K = 9 with exit 1', async () => {
  const model = join(dir, 'topk.onnx');
  await writeFile(model, topKNonZeroModel());
  const out = join(dir, 'bundle');
  const compiled = await runKiln(['compile', model, '-o', out, '--no-relaxed']);
  expect(compiled.code, compiled.stderr).toBe(0);
  const inspected = await runKiln(['inspect', out]);
  expect(inspected.stdout).toContain('  values: float32[1,k(0..6)]');
  expect(inspected.stdout).toContain('  nonzero: int64[2,NonZero_nonzero(0..6)]');

  const x = join(dir, 'x.npy');
  writeTensorFile(x, tensorFromNumbers('float32', [1, 6], [0, 3, 0, 5, 1, 0]));
  const k = (n: number) => {
    const file = join(dir, `k${n}.npy`);
    writeTensorFile(file, tensorFromNumbers('int64', [1], [n]));
    return file;
  };
  const results = join(dir, 'out');
  const ran = await runKiln([
    'run',
    out,
    '--input',
    `x=${x}`,
    '--input',
    `k=${k(3)}`,
    '--output-dir',
    results,
  ]);
  expect(ran.code, ran.stderr).toBe(0);
  expect(readTensorFile(join(results, 'values.npy')).dims).toEqual([1, 3]);
  expect(readTensorFile(join(results, 'nonzero.npy')).dims).toEqual([2, 3]);

  const refused = await runKiln(['run', out, '--input', `x=${x}`, '--input', `k=${k(9)}`]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('input "k" element 0 is 9, outside the bounds of "k" (0..6)');
});

it('refuses token ids beyond the embedding table with exit 1, naming input, bounds and node', async () => {
  const model = join(dir, 'embed.onnx');
  await writeFile(model, embeddingModel());
  const out = join(dir, 'embed-bundle');
  const compiled = await runKiln(['compile', model, '-o', out, '--no-relaxed']);
  expect(compiled.code, compiled.stderr).toBe(0);
  const ids = join(dir, 'ids.npy');
  writeTensorFile(ids, tensorFromNumbers('int64', [3], [0, -6, 2]));
  const refused = await runKiln(['run', out, '--input', `ids=${ids}`]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(
    'input "ids" element 1 is -6, outside -5..4: Gather node "embed" reads it as an index into axis 0 (size 5)',
  );
});

it('benches a model whose fed ids index a table of 2 rows, its random ids within the table', async () => {
  const model = join(dir, 'token-types.onnx');
  await writeFile(model, embeddingModel(2));
  const out = join(dir, 'token-types-bundle');
  const compiled = await runKiln(['compile', model, '-o', out, '--no-relaxed']);
  expect(compiled.code, compiled.stderr).toBe(0);
  const bench = await runKiln(['bench', out, '--runs', '2', '--warmup', '0', '--json']);
  expect(bench.code, bench.stderr).toBe(0);
  expect(JSON.parse(bench.stdout).runs).toBe(2);
});
