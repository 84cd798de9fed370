/** The WGSL gemm takes the bias (and Relu) that passes/fuse-bias.ts fuses into a MatMul. */
import { expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { linearModel } from '../helpers/linear-model.js';
import { runOrt } from '../helpers/ort-oracle.js';
import { asFeeds, differences, nodeGpu, randomFeeds } from './fixture.js';

it(
  'a fused MatMul + bias Add + Relu on webgpu computes what onnxruntime does',
  { timeout: 300_000 },
  async () => {
    const bytes = linearModel({ x: [2, 24, 32], N: 40, bias: [1, 1, 40], biasFirst: true, relu: true });
    const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'], relaxed: false });
    expect((files.manifest.kernels ?? []).map((k) => k.op)).toEqual(['MatMul+Add+Relu']);
    const webgpu = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
    try {
      const feeds = randomFeeds(files, 3);
      expect(differences(await webgpu.run(asFeeds(feeds)), await runOrt(bytes, feeds))).toEqual([]);
    } finally {
      webgpu.dispose();
    }
  },
);
