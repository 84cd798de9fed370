/**
 * Memory over several storage bindings, end to end: a model's weights are bound read-only apart from
 * its activations and I/O; a model whose weights pass WebGPU's 128 MiB per storage binding, one weight
 * tensor alone among them (4608×8192 float32, 151 MB), is split over several bindings and the webgpu
 * backend gives onnxruntime's output.
 */
import { expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { buildModel, randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { runOrt } from '../helpers/ort-oracle.js';
import { asFeeds, compileBoth, differences, nodeGpu, randomFeeds } from './fixture.js';

const BINDING_LIMIT = 134217728;
const [K, N] = [4608, 8192];

it('the weights get read-only bindings of their own, and the model still gives the wasm output', async () => {
  const files = await compileBoth('mlp');
  const { segments } = files.manifest.webgpu!;
  const { weightsOffset, weightsBytes } = files.manifest.memory;
  const accessOf = (offset: number) => segments.find((s) => s.offset === offset)?.access;
  expect([accessOf(weightsOffset), accessOf(weightsOffset + weightsBytes)]).toEqual(['read', 'read_write']);
  const [gpu, wasm] = await Promise.all([
    loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() }),
    loadModel(files, { backend: 'wasm' }),
  ]);
  try {
    const feeds = asFeeds(randomFeeds(files, 4));
    expect(differences(await gpu.run(feeds), await wasm.run(feeds))).toEqual([]);
  } finally {
    gpu.dispose();
    wasm.dispose();
  }
});

it(
  'weights over 128 MiB, one tensor over it alone: split across bindings, onnxruntime output',
  { timeout: 600_000 },
  async () => {
    const rand = seededRandom(11);
    const bytes = buildModel({
      name: 'wide_mlp',
      opset: 17,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, K] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 16] }],
      initializers: [
        { name: 'w1', tensor: randomTensor([K, N], rand, 0.02) },
        { name: 'b1', tensor: randomTensor([N], rand, 0.1) },
        { name: 'w2', tensor: randomTensor([N, 16], rand, 0.02) },
      ],
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w1', 'b1'], outputs: ['h'] },
        { op: 'Relu', inputs: ['h'], outputs: ['r'] },
        { op: 'MatMul', inputs: ['r', 'w2'], outputs: ['y'] },
      ],
    });
    const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'], onWarning: () => {} });
    const { segments } = files.manifest.webgpu!;
    expect(files.manifest.memory.weightsBytes).toBeGreaterThan(BINDING_LIMIT);
    expect(segments.length).toBeGreaterThan(2);
    expect(segments.every((s) => s.bytes <= BINDING_LIMIT)).toBe(true);
    // the weights lie in bindings nothing writes
    const { weightsOffset, weightsBytes } = files.manifest.memory;
    const inWeights = segments.filter(
      (s) => s.offset >= weightsOffset && s.offset + s.bytes <= weightsOffset + weightsBytes,
    );
    expect(inWeights.length).toBeGreaterThan(0);
    expect(inWeights.every((s) => s.access === 'read')).toBe(true);

    const model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
    try {
      const feeds = randomFeeds(files, 3);
      expect(differences(await model.run(asFeeds(feeds)), await runOrt(bytes, feeds))).toEqual([]);
    } finally {
      model.dispose();
    }
  },
);
