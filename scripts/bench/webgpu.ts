/**
 * The GPU engines of `npm run bench -- --backend webgpu`: Kiln's webgpu bundle and onnxruntime-web's
 * WebGPU execution provider, both on Dawn (the `webgpu` package, as `kiln bench --backend webgpu` gets
 * it: src/cli/gpu.ts), ORT-web through `globalThis.navigator.gpu`. On lavapipe, llvmpipe or SwiftShader
 * the adapter is a CPU emulation and its timings are not GPU performance: the label says so.
 */
import { readFileSync } from 'node:fs';
import { loadModel } from '../../src/runtime/index.js';
import { describeAdapter, nodeGpu } from '../../src/cli/gpu.js';
import type { Feed } from '../../src/runtime/types.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { ortEngine, type EngineSource, type OpenedEngine } from './engines.js';

export const GPU_ENGINE_IDS = ['kiln-webgpu', 'ort-web-webgpu'] as const;
export type GpuEngineId = (typeof GPU_ENGINE_IDS)[number];

export const GPU_ENGINE_LABELS: Record<GpuEngineId, string> = {
  'kiln-webgpu': 'Kiln webgpu',
  'ort-web-webgpu': 'ORT-web WebGPU',
};

/** The adapter's name, with "(CPU emulation — not performance)" where it is one. */
export async function adapterLabel(): Promise<string> {
  const adapter = await describeAdapter(await nodeGpu());
  if (!adapter) return 'no adapter';
  return adapter.software ? `${adapter.description} (CPU emulation — not performance)` : adapter.description;
}

let ortWebGpu: Promise<typeof import('onnxruntime-web')> | undefined;

/**
 * onnxruntime-web's WebGPU build with Dawn as `navigator.gpu`. Its wasm memory is a SharedArrayBuffer
 * (the threaded build) and it uploads with `queue.writeBuffer(buffer, offset, view-of-that-memory)`,
 * which Dawn for Node refuses ("Invalid argument"), where browsers accept it; so each such upload is
 * copied into a plain ArrayBuffer first (the feeds' upload, once per run).
 */
async function importOrtWebGpu(): Promise<typeof import('onnxruntime-web')> {
  const gpu = await nodeGpu();
  const { globals } = await import('webgpu');
  const queue = (globals as { GPUQueue: { prototype: { writeBuffer(...a: unknown[]): void } } }).GPUQueue
    .prototype;
  const writeBuffer = queue.writeBuffer;
  queue.writeBuffer = function (this: unknown, buffer: unknown, offset: unknown, data: unknown, ...rest) {
    const view = data as ArrayBufferView;
    const plain =
      view.buffer instanceof SharedArrayBuffer
        ? new Uint8Array(new Uint8Array(view.buffer, view.byteOffset, view.byteLength))
        : data;
    return writeBuffer.call(this, buffer, offset, plain, ...rest);
  };
  const host = globalThis as { navigator?: object };
  host.navigator ??= {};
  Object.defineProperty(host.navigator, 'gpu', { value: gpu, configurable: true });
  const ort = (await import('onnxruntime-web/webgpu')) as typeof import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  return ort;
}

/** Load `engine` on the model; resolves once it can run. */
export async function openGpuEngine(
  engine: GpuEngineId,
  source: EngineSource,
  feeds: Record<string, HostTensor>,
): Promise<OpenedEngine> {
  if (engine === 'kiln-webgpu') {
    const model = await loadModel(source.bundle, { backend: 'webgpu', gpu: await nodeGpu() });
    const feed = feeds as Record<string, Feed>;
    return {
      run: () => model.run(feed),
      outputs: async () => (await model.run(feed)) as Record<string, HostTensor>,
      dispose: async () => model.dispose(),
    };
  }
  const ort = await (ortWebGpu ??= importOrtWebGpu());
  const session = await ort.InferenceSession.create(readFileSync(source.onnx), {
    executionProviders: ['webgpu'],
    graphOptimizationLevel: 'all',
  });
  return ortEngine(
    session,
    (t) => new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims),
    feeds,
  );
}
