/**
 * Dims known only at run time on the webgpu backend (#11), on Dawn (lavapipe in CI): one bundle, compiled
 * once with bounds for both targets, runs at several shapes, matching onnxruntime-node; the runtime writes
 * the shape symbols into the dims block before each run and reads outputs back at their real shapes.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { globals } from 'webgpu';
import { compileModel } from '../../src/compiler/compile.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { checkManifestShape } from '../../src/bundle/verify.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { WebGpuInstance } from '../../src/runtime/webgpu-backend.js';
import type { Feed } from '../../src/runtime/types.js';
import { encoderFeeds, encoderModel, mlpModel } from '../helpers/models.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { ortMismatches, runOrt } from '../helpers/ort-oracle.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBundle } from '../../src/bundle/node.js';
import { compareTensors } from '../../scripts/compare.js';
import { startServeProcess } from '../serve/serve-process.js';
import { bertEncoder } from '../../scripts/bench-models.js';
import { nodeGpu } from './fixture.js';

/** Dawn's compute pass class, whose dispatches a test records (`globals` is typed as a plain object). */
const computePass = (
  globals as unknown as {
    GPUComputePassEncoder: { prototype: { dispatchWorkgroups(x: number, y?: number, z?: number): void } };
  }
).GPUComputePassEncoder;

describe('an MLP compiled once with --dim batch=1..40 --targets wasm,webgpu', () => {
  const bytes = mlpModel();
  let files: BundleFiles;
  let model: Model;
  beforeAll(async () => {
    files = await compileModel(bytes, {
      dims: { batch: { min: 1, max: 40 } },
      targets: ['wasm', 'webgpu'],
      relaxed: false,
    });
    model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  });
  afterAll(() => model.dispose());

  test.each([1, 3, 17])('matches onnxruntime at batch %i, with outputs of the real shape', async (b) => {
    const feeds = { x: randomTensor([b, 64], seededRandom(b)) };
    expect(model.backend).toBe('webgpu');
    expect(await ortMismatches(bytes, model, feeds)).toEqual([]);
    expect((await model.run(feeds as Record<string, Feed>)).probs.dims).toEqual([b, 10]);
  });

  test('refuses a batch outside the bounds with the error wasm gives, and stays usable', async () => {
    await expect(model.run({ x: randomTensor([41, 64], seededRandom(1)) as Feed })).rejects.toThrow(
      'model "mlp": input "x" axis 0 is 41, outside the bounds of "batch" (1..40)',
    );
    expect(await ortMismatches(bytes, model, { x: randomTensor([2, 64], seededRandom(2)) })).toEqual([]);
  });

  test('sizes each dispatch whose count depends on batch for the run; the others keep the bounds', async () => {
    const schedule = files.manifest.webgpu!.run;
    // workgroups of 64 at batch 3: the 16-row gemm blocks (the bias Add and Relu fused into them) count
    // at most 3/16 blocks of 64·16 outputs
    const atBatch3: Record<string, number[]> = {
      MatMul_0: [6, 1, 1],
      Gemm_3: [1, 1, 1],
      Softmax_4: [1, 1, 1],
    };
    expect(schedule.filter((d) => d.invocations).map((d) => d.kernel)).toEqual(Object.keys(atBatch3));
    expect(schedule.find((d) => d.kernel === 'MatMul_0')!.workgroups).toEqual([64, 1, 1]);
    const dispatch = vi.spyOn(computePass.prototype, 'dispatchWorkgroups');
    try {
      expect(await ortMismatches(bytes, model, { x: randomTensor([3, 64], seededRandom(3)) })).toEqual([]);
      expect(dispatch.mock.calls).toEqual(schedule.map((d) => atBatch3[d.kernel] ?? d.workgroups));
    } finally {
      dispatch.mockRestore();
    }
  });

  test('the manifest check refuses a dispatch count over symbols the runtime does not write', () => {
    const manifest = structuredClone(files.manifest);
    manifest.webgpu!.run.find((d) => d.invocations)!.invocations!.terms[0].symbols = ['seq'];
    expect(() => checkManifestShape(manifest)).toThrow(
      "invocations must be a polynomial in the dims block's symbols",
    );
    expect(checkManifestShape(structuredClone(files.manifest)).webgpu).toEqual(files.manifest.webgpu);
  });

  test("the instance refuses a run without the symbols' values rather than run with zeros", async () => {
    const instance = await WebGpuInstance.create(files, await nodeGpu());
    try {
      await expect(instance.run([new Uint8Array(64 * 4)])).rejects.toThrow(
        'model "mlp": no value for shape symbol "batch"',
      );
      expect((await instance.run([new Uint8Array(64 * 4)], { batch: 1 })).probs.dims).toEqual([1, 10]);
    } finally {
      instance.dispose();
    }
  });
});

describe('the masked-attention encoder (exporter-style shapes) compiled once with --dim batch=1..4 --dim seq=1..128 --targets wasm,webgpu', () => {
  const bytes = encoderModel({ exporterShapes: true });
  let model: Model;
  beforeAll(async () => {
    const dims = { batch: { min: 1, max: 4 }, seq: { min: 1, max: 128 } };
    const files = await compileModel(bytes, { dims, targets: ['wasm', 'webgpu'], relaxed: false });
    model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  });
  afterAll(() => model.dispose());

  // 21 rows (3·7) run a 16-row block, a 4-row block and a single row
  test.each([
    [1, 7],
    [3, 7],
    [2, 32],
    [4, 128],
  ])('matches onnxruntime at batch %i, seq %i', async (batch, seq) => {
    expect(await ortMismatches(bytes, model, encoderFeeds(batch, seq))).toEqual([]);
  });
});

describe("the benchmarks' exporter-shaped bert-enc (2 layers, hidden 64) with --dim batch=1..4 --dim sequence=1..128 on webgpu", () => {
  // position and token-type ids are sliced from [1, 512] buffers by the sequence length (a shape value)
  const { bytes } = bertEncoder({ layers: 2, hidden: 64, heads: 4, vocab: 50 });
  let model: Model;
  beforeAll(async () => {
    const dims = { batch: { min: 1, max: 4 }, sequence: { min: 1, max: 128 } };
    const files = await compileModel(bytes, { dims, targets: ['wasm', 'webgpu'], relaxed: false });
    model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  });
  afterAll(() => model.dispose());

  test.each([
    [1, 7],
    [4, 128],
  ])('matches onnxruntime at batch %i, sequence %i', async (batch, seq) => {
    expect(await ortMismatches(bytes, model, encoderFeeds(batch, seq))).toEqual([]);
  });
});

describe('kiln serve --backend webgpu with the MLP bounded to batch 1..40', () => {
  const bytes = mlpModel();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-webgpu-dims-'));
    const files = await compileModel(bytes, {
      name: 'mlp',
      dims: { batch: { min: 1, max: 40 } },
      targets: ['wasm', 'webgpu'],
      relaxed: false,
    });
    await writeBundle(join(dir, 'mlp'), files);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('reports the batch as -1 and answers batches of 1 and 3 in one process, as onnxruntime does', async () => {
    const server = await startServeProcess([join(dir, 'mlp'), '--port', '0', '--backend', 'webgpu']);
    try {
      expect(server.stdout()).toMatch(/serving mlp from .* \(webgpu/);
      const metadata = await (await fetch(`${server.url}/v2/models/mlp`)).json();
      expect(metadata.inputs[0].shape).toEqual([-1, 64]);
      for (const batch of [1, 3]) {
        const x = randomTensor([batch, 64], seededRandom(batch));
        const response = await fetch(`${server.url}/v2/models/mlp/infer`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            inputs: [
              { name: 'x', shape: [batch, 64], datatype: 'FP32', data: Array.from(x.data as Float32Array) },
            ],
          }),
        });
        expect(response.status).toBe(200);
        const [probs] = (await response.json()).outputs;
        expect(probs.shape).toEqual([batch, 10]);
        const { probs: want } = await runOrt(bytes, { x });
        const got = { dtype: 'float32' as const, dims: probs.shape, data: Float32Array.from(probs.data) };
        expect(compareTensors(got, want, 1e-3, 1e-5)).toBeUndefined();
      }
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});
