/**
 * The WGSL gemm and conv shaders apply the elementwise epilogues passes/fuse-epilogue.ts fuses; the
 * residual Adds that passes/fuse-residual.ts fuses for the wasm kernels stay apart on webgpu.
 */
import { expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { runOrt } from '../helpers/ort-oracle.js';
import { expectedKernels, EPILOGUE_CASES } from '../helpers/epilogue-models.js';
import { RESIDUAL_CASES } from '../helpers/residual-models.js';
import { asFeeds, differences, nodeGpu } from './fixture.js';

for (const c of EPILOGUE_CASES)
  it(`${c.name} on webgpu computes what onnxruntime does`, { timeout: 300_000 }, async () => {
    const files = await compileModel(c.bytes, { targets: ['wasm', 'webgpu'], relaxed: false });
    expect((files.manifest.kernels ?? []).map((k) => k.op)).toEqual(expectedKernels(c));
    const webgpu = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
    try {
      const feeds = { x: randomTensor(c.x, seededRandom(7), 3) };
      expect(differences(await webgpu.run(asFeeds(feeds)), await runOrt(c.bytes, feeds))).toEqual([]);
    } finally {
      webgpu.dispose();
    }
  });

for (const c of RESIDUAL_CASES)
  it(`${c.name} on webgpu computes what onnxruntime does`, { timeout: 300_000 }, async () => {
    const files = await compileModel(c.bytes, { targets: ['wasm', 'webgpu'], relaxed: false });
    expect((files.manifest.kernels ?? []).map((k) => k.op)).toEqual(c.ops);
    const webgpu = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
    try {
      // unscaled: the 3×3 convs' K = 144 sums cancel to values near 0, past the oracle's tolerance at scale 3
      const feeds = { x: randomTensor(c.x, seededRandom(7)), s: randomTensor(c.s, seededRandom(8)) };
      expect(differences(await webgpu.run(asFeeds(feeds)), await runOrt(c.bytes, feeds))).toEqual([]);
    } finally {
      webgpu.dispose();
    }
  });
