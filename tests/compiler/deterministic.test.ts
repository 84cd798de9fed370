/**
 * Compiling is a pure function of the model and the options: the same model compiled twice gives the same
 * bytes in every file of the bundle (content hashes, caches and A/B comparisons of two builds rely on it),
 * with shapes fixed at compile time and with dims known only at run time, whose kernels are chosen per
 * bound and split into chunks.
 */
import { describe, expect, test } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import type { CompileOptions } from '../../src/compiler/options.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { bertEncoder, dbnetDet } from '../../scripts/bench-models.js';

const digest = (files: BundleFiles) => ({
  manifest: JSON.stringify(files.manifest),
  wasm: Buffer.from(files.wasm).toString('base64'),
  relaxedWasm: files.relaxedWasm && Buffer.from(files.relaxedWasm).toString('base64'),
  weights: Buffer.from(files.weights).toString('base64'),
});

const cases: [string, Uint8Array, CompileOptions][] = [
  [
    'bert-enc (1 layer) with a run-time batch and sequence',
    bertEncoder({ layers: 1, hidden: 64, heads: 4, vocab: 50 }).bytes,
    { dims: { batch: { min: 1, max: 2 }, sequence: { min: 1, max: 96 } } },
  ],
  [
    'dbnet-det (160×160) with fixed shapes',
    dbnetDet({ size: 160, blocksPerStage: 1 }).bytes,
    { shapes: { x: [1, 3, 160, 160] } },
  ],
];

describe('the same model compiled twice gives identical bundles', () => {
  test.each(cases)(
    '%s',
    async (_name, bytes, opts) => {
      const first = digest(await compileModel(bytes, opts));
      const second = digest(await compileModel(bytes, opts));
      expect(first.relaxedWasm).toBeDefined();
      expect(second).toEqual(first);
    },
    120_000,
  );
});
