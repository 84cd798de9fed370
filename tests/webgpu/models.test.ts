/**
 * Real models on Dawn (lavapipe in CI) agree with the wasm backend and with onnxruntime, or with the
 * reference output ONNX ships for them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { readTensorProto } from '../../src/tensor-io/tensorproto.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { runOrt } from '../helpers/ort-oracle.js';
import { benchFeed, bertEncoder, crnnRec, dbnetDet } from '../../scripts/bench-models.js';
import { ROOT, asFeeds, differences, modelBytes, nodeGpu, randomFeeds } from './fixture.js';
import { upperBounds } from '../../src/bundle/shape-dims.js';

/** The model built for both targets and loaded on both backends. */
async function onBothBackends(bytes: Uint8Array) {
  const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'], onWarning: () => {} });
  expect(files.manifest.targets).toEqual(['wasm', 'webgpu']);
  const [wasm, webgpu] = await Promise.all([
    loadModel(files, { backend: 'wasm' }),
    loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() }),
  ]);
  expect(webgpu.backend).toBe('webgpu');
  return { files, wasm, webgpu };
}

// cnn: Conv, MaxPool, BatchNormalization, Relu, GlobalAveragePool, Gemm, Softmax; attention: MatMul,
// Transpose, Softmax, LayerNormalization. Their statistics accumulate in f32 here, BatchNormalization's
// in f64 on wasm.
describe.each(['mlp', 'cnn', 'attention'])('models/%s.onnx on the webgpu backend', (name) => {
  it('gives the outputs of the wasm backend and onnxruntime, run after run', async () => {
    const bytes = await modelBytes(name);
    const { files, wasm, webgpu } = await onBothBackends(bytes);
    try {
      // two different inputs: the second run must not see anything left over from the first
      for (const seed of [1, 2]) {
        const feeds = randomFeeds(files, seed);
        const actual = await webgpu.run(asFeeds(feeds));
        expect(differences(actual, await wasm.run(asFeeds(feeds)))).toEqual([]);
        expect(differences(actual, await runOrt(bytes, feeds))).toEqual([]);
      }
    } finally {
      wasm.dispose();
      webgpu.dispose();
    }
  });
});

describe('SqueezeNet (onnx-light) on the webgpu backend', () => {
  const dir = join(ROOT, '../shared/data/onnx-light');

  it('gives the wasm backend output, and the ONNX reference output within its tolerance', async () => {
    const bytes = new Uint8Array(await readFile(join(dir, 'light_squeezenet.onnx')));
    const expected = readTensorProto(await readFile(join(dir, 'light_squeezenet_output_0.pb'))) as HostTensor;
    const { files, wasm, webgpu } = await onBothBackends(bytes);
    try {
      // the input INPUTS.md defines: arange(n) / n
      const [input] = files.manifest.inputs;
      const dims = upperBounds(input.shape);
      const n = dims.reduce((p, d) => p * d, 1);
      const data = Float32Array.from({ length: n }, (_, i) => i / n);
      const feeds = { [input.name]: { dtype: 'float32' as const, dims, data } };
      const actual = await webgpu.run(feeds);
      expect(differences(actual, await wasm.run(feeds))).toEqual([]);
      // ONNX's own tolerance for these outputs (INPUTS.md): rtol 1e-3, atol 1e-7
      const output = actual[files.manifest.outputs[0].name] as HostTensor;
      expect(compareTensors(output, expected, 1e-3, 1e-7)).toBeUndefined();
    } finally {
      wasm.dispose();
      webgpu.dispose();
    }
  });
});

// The exporter-shaped bench models, built small (tests/bench-models.test.ts checks all of them on wasm):
// the detector's BatchNormalization folded into convs, nearest Resize, ConvTranspose upsampling; the
// recognizer's and the encoder's int64 Shape → Gather → Concat chains and int64-indexed Gathers (token
// ids, position ids sliced by the sequence length), all as WGSL.
describe.each([
  ['dbnet-det (1 block per stage, 64×64)', () => dbnetDet({ size: 64, blocksPerStage: 1 })],
  ['crnn-rec (1 transformer block, width 64)', () => crnnRec({ width: 64, blocks: 1 })],
  [
    'bert-enc (2 layers, hidden 48, sequence 16)',
    () => bertEncoder({ sequence: 16, layers: 2, hidden: 48, heads: 4, vocab: 500 }),
  ],
] as const)('%s on the webgpu backend', (_, build) => {
  it('gives the outputs of onnxruntime', { timeout: 300_000 }, async () => {
    const m = build();
    const feeds = Object.fromEntries(m.inputs.map((i) => [i.name, benchFeed(i)]));
    const files = await compileModel(m.bytes, {
      targets: ['wasm', 'webgpu'],
      shapes: Object.fromEntries(m.inputs.map((i) => [i.name, i.dims])),
      onWarning: () => {},
    });
    const webgpu = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
    try {
      const ours = await webgpu.run(asFeeds(feeds));
      for (const [out, expected] of Object.entries(await runOrt(m.bytes, feeds)))
        expect(compareTensors(ours[out] as HostTensor, expected, 1e-3, 1e-4), out).toBeUndefined();
    } finally {
      webgpu.dispose();
    }
  });
});
