/**
 * Large-K gemms in K blocks (src/codegen/wasm/gemm-k-blocks.ts; a constant B packed block by block,
 * src/compiler/packed-weights.ts) against onnxruntime-node, on the SIMD128 module and the relaxed one (in
 * a child process): MatMul over a packed B with bias + GELU (M > N) and with bias + Relu (M ≤ N), BERT's
 * output projection adding its residual, a 3×3 Conv (im2col, B packed at run time) + BatchNorm + the skip
 * Add + Relu, K = 777 … 4608 split into equal blocks or with a shorter rest, a 1×1 Conv reading X in place
 * over 1025 channels, and run-time rows; weights.bin holds each block's panels on their own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import type { CompileOptions } from '../../src/compiler/options.js';
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
  options?: CompileOptions;
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
  'BERT FFN output 23×50×1536, packed B, bias + residual, 3 equal blocks of 512 (one gemm)': {
    bytes: bertResidualModel(23, 1536, 50, 15),
    inputs: { x: [1, 23, 1536], s: [1, 23, 50] },
  },
  'MatMul 17×40×4608, packed B, bias + Relu, 9 equal blocks of 512': {
    bytes: matMulModel([{ op: 'Relu', inputs: ['c'], outputs: ['y'] }], 16, [17, 4608, 40]),
    inputs: { x: [1, 17, 4608] },
  },
  'MatMul 21×33×2305, packed B, bias + GELU, blocks 4 × 464, 449': {
    bytes: matMulModel(gelu('c'), 17, [21, 2305, 33]),
    inputs: { x: [1, 21, 2305] },
  },
  'Conv 1×1 over 1025 channels to 24 on 5×7 (B = X in place, unpacked), BatchNorm, skip Add, Relu, 344, 344, 337':
    {
      bytes: convResidualModel(1025, 24, 1, 18, { spatial: [5, 7] }),
      inputs: { x: [1, 1025, 5, 7], s: [1, 24, 5, 7] },
    },
  'BERT output projection 70×40×1536, run-time rows (1..80: row blocks of 64, 4, 1, which disagree on K blocks: whole), packed B, residual':
    {
      bytes: bertResidualModel('seq', 1536, 40, 19),
      inputs: { x: [1, 70, 1536], s: [1, 70, 40] },
      options: { dims: { seq: { min: 1, max: 80 } } },
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
      const got = (await runKiln(c.bytes, feeds, { ...c.options, relaxed: false })).y;
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
      await writeBundle(bundle, await compileModel(c.bytes, c.options));
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
