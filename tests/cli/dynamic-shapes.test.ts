/** `kiln compile --dim` / `--shape MIN..MAX`, `kiln inspect` and `kiln run` on a bundle with a dim known only at run time (#11). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTensorFile, writeTensorFile } from '../../src/tensor-io/index.js';
import { tensorFromNumbers } from '../../src/ir/tensor.js';
import { runKiln } from '../helpers/cli-main.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-dyn-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('kiln compile --dim batch=1..8 models/mlp.onnx', () => {
  it('compiles, inspects with the bounds and memory at the bounds, and runs at two batch sizes', async () => {
    const out = join(dir, 'mlp');
    const compiled = await runKiln([
      'compile',
      'models/mlp.onnx',
      '-o',
      out,
      '--dim',
      'batch=1..8',
      '--no-relaxed',
    ]);
    expect(compiled.stderr).toBe('');
    expect(compiled.code).toBe(0);
    const inspected = await runKiln(['inspect', out]);
    expect(inspected.stdout).toContain('  x: float32[batch(1..8),64]');
    expect(inspected.stdout).toContain('  probs: float32[batch(1..8),10]');
    expect(inspected.stdout).toMatch(/memory: +\S+ \S+ in all, at the upper bounds of batch 1\.\.8\n/);
    for (const batch of [2, 5]) {
      const x = join(dir, `x${batch}.npy`);
      writeTensorFile(
        x,
        tensorFromNumbers(
          'float32',
          [batch, 64],
          Array.from({ length: batch * 64 }, (_, i) => i / 64),
        ),
      );
      const results = join(dir, `out${batch}`);
      const ran = await runKiln(['run', out, '--input', `x=${x}`, '--output-dir', results]);
      expect(ran.code, ran.stderr).toBe(0);
      expect(readTensorFile(join(results, 'probs.npy')).dims).toEqual([batch, 10]);
    }
  });

  it('inspect names a stepped dim as it was given (batch 2..8:2), not by the symbol counting its steps', async () => {
    const out = join(dir, 'mlp-step');
    const compiled = await runKiln([
      'compile',
      'models/mlp.onnx',
      '-o',
      out,
      '--dim',
      'batch=2..8:2',
      '--no-relaxed',
    ]);
    expect(compiled.code, compiled.stderr).toBe(0);
    const { stdout } = await runKiln(['inspect', out]);
    expect(stdout).toContain('  x: float32[batch(2..8:2),64]');
    expect(stdout).toMatch(/memory: +\S+ \S+ in all, at the upper bounds of batch 2\.\.8:2\n/);
  });

  it('--shape bounds a dim by position; malformed bounds are a usage error', async () => {
    const out = join(dir, 'mlp-shape');
    const ok = await runKiln([
      'compile',
      'models/mlp.onnx',
      '-o',
      out,
      '--shape',
      'x=1..4,64',
      '--no-relaxed',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await runKiln(['inspect', out])).stdout).toContain('  x: float32[batch(1..4),64]');
    const bad = await runKiln(['compile', 'models/mlp.onnx', '-o', join(dir, 'bad'), '--dim', 'batch=8..1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(
      '--dim "batch=8..1": "8..1" is not MIN..MAX or MIN..MAX:STEP (whole numbers, MIN ≤ MAX)',
    );
    const off = await runKiln([
      'compile',
      'models/mlp.onnx',
      '-o',
      join(dir, 'bad'),
      '--dim',
      'batch=2..8:3',
    ]);
    expect(off.code).not.toBe(0);
    expect(off.stderr).toContain('--dim "batch=2..8:3": STEP 3 must be ≥ 1 and divide MIN and MAX');
  });
});
