/**
 * A bundle built for both targets lowers the graph once per target family: its model.wasm is the one
 * `--targets wasm` builds (with the wasm-only kernels: window runs, nearest Resize blocks, ConvTranspose
 * gemms, staged attention gemms), its WGSL the GPU's own, and both run as onnxruntime-node does (webgpu
 * on Dawn). One difference is by design: constant gemm weights, which the webgpu target shares and reads
 * row-major, are not packed into the wasm microkernel's panels in such a bundle (tests/compiler/packed-weights.test.ts),
 * so the encoder's model.wasm and arena differ from the wasm-only ones there and its weights, I/O and kernel table
 * are compared.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import type { CompileOptions } from '../../src/compiler/options.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { MANIFEST_DIGEST_SECTION } from '../../src/bundle/manifest-digest.js';
import { withCustomSection } from '../../src/bundle/wasm-sections.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { ortMismatches } from '../helpers/ort-oracle.js';
import { encoderFeeds } from '../helpers/models.js';
import { bertEncoder, dbnetDet } from '../../scripts/bench-models.js';
import { nodeGpu } from './fixture.js';

/** model.wasm without the manifest digest each bundle seals into it (the manifests differ by the webgpu schedule) */
const unsealed = (files: BundleFiles) =>
  withCustomSection(files.wasm, MANIFEST_DIGEST_SECTION, new Uint8Array());

describe.each([
  [
    "the bench's DBNet-style detector with a run-time height and width (32..128:32)",
    dbnetDet({ blocksPerStage: 1 }).bytes,
    { shapes: { x: [1, 3, { min: 32, max: 128, step: 32 }, { min: 32, max: 128, step: 32 }] } },
    [
      [32, 32],
      [64, 96],
    ].map(([h, w]) => ({ x: randomTensor([1, 3, h, w], seededRandom(h + w)) })),
    false,
  ],
  [
    "the bench's exporter-shaped bert-enc (2 layers, hidden 64) with a run-time sequence (1..128)",
    bertEncoder({ layers: 2, hidden: 64, heads: 4, vocab: 50 }).bytes,
    { dims: { batch: { min: 1, max: 2 }, sequence: { min: 1, max: 128 } } },
    [encoderFeeds(1, 7), encoderFeeds(2, 33)],
    true,
  ],
] as [string, Uint8Array, CompileOptions, Record<string, HostTensor>[], boolean][])(
  '%s, compiled with --targets wasm,webgpu',
  (_, bytes, options, feeds, packsWeights) => {
    let wasmOnly: BundleFiles;
    let both: BundleFiles;
    const models: Model[] = [];
    beforeAll(async () => {
      wasmOnly = await compileModel(bytes, { ...options, relaxed: false });
      both = await compileModel(bytes, { ...options, targets: ['wasm', 'webgpu'], relaxed: false });
    }, 300_000);
    afterAll(() => models.forEach((m) => m.dispose()));

    test('carries the model.wasm and memory plan that --targets wasm builds', () => {
      expect(both.manifest.targets).toEqual(['wasm', 'webgpu']);
      expect(Buffer.from(unsealed(both)).equals(unsealed(wasmOnly))).toBe(!packsWeights);
      expect(both.weights.length).toBe(wasmOnly.weights.length);
      // unpacked weights need the per-run packing scratch in the arena: compare all but the arena then
      const { weightsBytes, ioOffset, ioBytes } = wasmOnly.manifest.memory;
      if (packsWeights) expect(both.manifest.memory).toMatchObject({ weightsBytes, ioOffset, ioBytes });
      else expect(both.manifest.memory).toEqual(wasmOnly.manifest.memory);
      expect(both.manifest.kernels).toEqual(wasmOnly.manifest.kernels);
    });

    test.each(['wasm', 'webgpu'] as const)(
      'matches onnxruntime on the %s backend',
      async (backend) => {
        const model = await loadModel(both, { backend, gpu: await nodeGpu() });
        models.push(model);
        expect(model.backend).toBe(backend);
        for (const feed of feeds) expect(await ortMismatches(bytes, model, feed)).toEqual([]);
      },
      120_000,
    );
  },
);
