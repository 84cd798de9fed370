/**
 * Large-K gemms in K blocks (src/codegen/wasm/gemm-k-blocks.ts; a constant B packed block by block,
 * src/compiler/packed-weights.ts) against onnxruntime-node, on the SIMD128 module and the relaxed one (in
 * a child process): MatMul over a packed B with bias + GELU (M > N) and with bias + Relu (M ≤ N), BERT's
 * output projection adding its residual, a 3×3 Conv (im2col, B packed at run time) + BatchNorm + the skip
 * Add + Relu, every K not a multiple of the block; weights.bin holds each block's panels on their own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { writeBundle } from '../../src/bundle/node.js';
import { packBPanelBlocks, packBPanels } from '../../src/kernels/b-panels.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { gelu, matMulModel } from '../helpers/epilogue-models.js';
import { bertResidualModel, convResidualModel } from '../helpers/residual-models.js';
import { runKiln, runOrt } from '../helpers/ort-oracle.js';
import { inChild, outputsOf } from '../runtime/child-run.js';

interface Case {
  bytes: Uint8Array;
  /** input name → shape */
  inputs: Record<string, number[]>;
}

const CASES: Record<string, Case> = {
  'MatMul 61×45×2100, packed B, bias + GELU (M > N: all panels per row block), blocks 4 × 424 (3 in a loop), 404':
    {
      bytes: matMulModel(gelu('c'), 11, [61, 2100, 45]),
      inputs: { x: [1, 61, 2100] },
    },
  'MatMul 37×53×777, packed B, bias + Relu (M ≤ N: one panel at a time), blocks 392, 385': {
    bytes: matMulModel([{ op: 'Relu', inputs: ['c'], outputs: ['y'] }], 12, [37, 777, 53]),
    inputs: { x: [1, 37, 777] },
  },
  'BERT output projection 19×43×1037, packed B, bias + residual, blocks 352, 352, 333': {
    bytes: bertResidualModel(19, 1037, 43, 13),
    inputs: { x: [1, 19, 1037], s: [1, 19, 43] },
  },
  'Conv 3×3 over 97 channels to 29 on 11×13 (im2col, K = 873), BatchNorm, skip Add, Relu, blocks 440, 433': {
    bytes: convResidualModel(97, 29, 3, 14, { spatial: [11, 13] }),
    inputs: { x: [1, 97, 11, 13], s: [1, 29, 11, 13] },
  },
};

const feedsOf = (c: Case, seed: number): Record<string, HostTensor> =>
  Object.fromEntries(
    Object.entries(c.inputs).map(([name, dims], i) => [name, randomTensor(dims, seededRandom(seed + i))]),
  );

describe('gemms in K blocks match onnxruntime-node, SIMD128 module', () => {
  Object.entries(CASES).forEach(([name, c], i) =>
    it(name, async () => {
      const feeds = feedsOf(c, i);
      const got = (await runKiln(c.bytes, feeds, { relaxed: false })).y;
      expect(compareTensors(got, (await runOrt(c.bytes, feeds)).y, 1e-4, 1e-4)).toBeUndefined();
    }),
  );
});

describe('gemms in K blocks match onnxruntime-node, relaxed SIMD module', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-k-blocks-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  Object.entries(CASES).forEach(([name, c], i) =>
    it(name, async () => {
      const feeds = feedsOf(c, i);
      const bundle = join(dir, `case${i}`);
      await writeBundle(bundle, await compileModel(c.bytes));
      const result = await inChild(bundle, 'relaxed', feeds, true);
      expect('variant' in result && result.variant).toBe('relaxed');
      const { y } = outputsOf(result);
      expect(compareTensors(y, (await runOrt(c.bytes, feeds)).y, 1e-4, 1e-4)).toBeUndefined();
    }),
  );
});

it('weights.bin holds a K-blocked MatMul weight block by block, each in its own panels', async () => {
  const files = await compileModel(CASES[Object.keys(CASES)[1]].bytes, { relaxed: false });
  const entry = files.manifest.weights.find((w) => w.name === 'w')!;
  const stored = new Float32Array(files.weights.slice(entry.offset, entry.offset + entry.byteLength).buffer);
  // the weight as matMulModel draws it: the first tensor of its seeded generator
  const w = randomTensor([777, 53], seededRandom(12)).data as Float32Array;
  expect(stored).toEqual(packBPanelBlocks(w, 53, [0, 392, 777]));
  expect(stored).not.toEqual(packBPanels(w, 777, 53));
  // block 2's first row, columns 4..7 of its second panel: at 392·53 + 385·4 + 4·0
  expect(Array.from(stored.subarray(392 * 53 + 385 * 4, 392 * 53 + 385 * 4 + 4))).toEqual(
    Array.from(w.subarray(392 * 53 + 4, 392 * 53 + 8)),
  );
});
