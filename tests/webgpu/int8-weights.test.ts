/**
 * `--weights int8 --targets wasm,webgpu`: the WGSL generator has no int8 gemm, so the bundle restores its
 * int8 weights to float32 at load (src/compiler/compile.ts) and the webgpu backend computes what the wasm
 * backend does.
 */
import { expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { buildModel, randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { asFeeds, differences, nodeGpu, randomFeeds } from './fixture.js';

const rand = seededRandom(5);

// Conv W 32·16·3·3 and Gemm W 10·1152 floats: both over the 16 KiB that --weights compresses
const bytes = buildModel({
  name: 'int8_cnn',
  opset: 17,
  inputs: [{ name: 'x', dtype: 'float32', shape: [1, 16, 6, 6] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [1, 10] }],
  initializers: [
    { name: 'w', tensor: randomTensor([32, 16, 3, 3], rand, 0.1) },
    { name: 'fc', tensor: randomTensor([10, 1152], rand, 0.05) },
  ],
  nodes: [
    { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
    { op: 'Relu', inputs: ['c'], outputs: ['r'] },
    { op: 'Flatten', inputs: ['r'], outputs: ['f'] },
    { op: 'Gemm', inputs: ['f', 'fc'], outputs: ['y'], attrs: { transB: { i: 1 } } },
  ],
});

it(
  'int8 weights with the webgpu target: restored at load, webgpu gives the wasm backend output',
  { timeout: 300_000 },
  async () => {
    const files = await compileModel(bytes, { weights: 'int8', targets: ['wasm', 'webgpu'] });
    expect(files.manifest.weights.filter((w) => w.quant?.dtype === 'int8').map((w) => w.name)).toEqual([
      'w',
      'fc/packed_kn',
    ]);
    expect((files.manifest.kernels ?? []).map((k) => k.op)).toEqual(['Conv+Relu', 'Gemm']);
    const [wasm, webgpu] = await Promise.all([
      loadModel(files, { backend: 'wasm' }),
      loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() }),
    ]);
    try {
      const feeds = asFeeds(randomFeeds(files, 3));
      expect(differences(await webgpu.run(feeds), await wasm.run(feeds))).toEqual([]);
    } finally {
      wasm.dispose();
      webgpu.dispose();
    }
  },
);
