/**
 * Transposes against onnxruntime-node, on the SIMD128 module in this process and the relaxed-SIMD one in a
 * child process: NHWC images to channels first (TF exports' first node) with 3 channels (stride-3 vector
 * loads) and 2 (stride 2), odd sizes (the vector loops' scalar tails), and perms whose inner reads stay
 * scalar (4 channels, channels last). Each output goes through x·1.5 + 0.25 (a multiply-add), so a relaxed
 * module is built (its multiply-add fused or not: 1e-6).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { writeBundle } from '../../src/bundle/node.js';
import { loadModel } from '../../src/runtime/index.js';
import type { Feed } from '../../src/runtime/types.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { buildModel, randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { runOrt } from '../helpers/ort-oracle.js';
import { inChild, outputsOf } from '../runtime/child-run.js';

const CASES: { dims: number[]; perm: number[] }[] = [
  { dims: [1, 7, 9, 3], perm: [0, 3, 1, 2] },
  { dims: [2, 24, 37, 3], perm: [0, 3, 1, 2] },
  { dims: [1, 5, 13, 2], perm: [0, 3, 1, 2] },
  { dims: [1, 3, 11, 4], perm: [0, 3, 1, 2] },
  { dims: [1, 3, 7, 9], perm: [0, 2, 3, 1] },
  { dims: [13, 3], perm: [1, 0] },
];

const rand = seededRandom(18);
const model = buildModel({
  opset: 17,
  inputs: CASES.map((c, i) => ({ name: `x${i}`, dtype: 'float32' as const, shape: c.dims })),
  outputs: CASES.map((_, i) => ({ name: `y${i}`, dtype: 'float32' as const })),
  initializers: [
    { name: 'a', tensor: { dtype: 'float32', dims: [], data: Float32Array.of(1.5) } },
    { name: 'b', tensor: { dtype: 'float32', dims: [], data: Float32Array.of(0.25) } },
  ],
  nodes: CASES.flatMap((c, i) => [
    { op: 'Transpose', inputs: [`x${i}`], outputs: [`t${i}`], attrs: { perm: { ints: c.perm } } },
    { op: 'Mul', inputs: [`t${i}`, 'a'], outputs: [`m${i}`] },
    { op: 'Add', inputs: [`m${i}`, 'b'], outputs: [`y${i}`] },
  ]),
});
const feeds: Record<string, HostTensor> = Object.fromEntries(
  CASES.map((c, i) => [`x${i}`, randomTensor(c.dims, rand)]),
);

function expectMatches(ours: Record<string, HostTensor>, theirs: Record<string, HostTensor>): void {
  CASES.forEach((c, i) =>
    expect(
      compareTensors(ours[`y${i}`], theirs[`y${i}`], 1e-6, 1e-6),
      `[${c.dims}] perm [${c.perm}]`,
    ).toBeUndefined(),
  );
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-transpose-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('Transpose vs onnxruntime', () => {
  it('SIMD128', async () => {
    const files = await compileModel(model);
    await writeBundle(dir, files);
    const loaded = await loadModel(files, { backend: 'wasm', variant: 'simd128' });
    try {
      const ours = (await loaded.run(feeds as Record<string, Feed>)) as Record<string, HostTensor>;
      expectMatches(ours, await runOrt(model, feeds));
    } finally {
      loaded.dispose();
    }
  });

  it('relaxed SIMD (child process)', async () => {
    const result = await inChild(dir, 'relaxed', feeds, true);
    expect('variant' in result && result.variant).toBe('relaxed');
    expectMatches(outputsOf(result), await runOrt(model, feeds));
  });
});
