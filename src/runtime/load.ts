/** `loadModel` (DESIGN.md §3.2): read the bundle, verify it, pick a backend, instantiate. */
import type { LoadedBundleFiles } from '../bundle/files.js';
import { verifyBundle } from '../bundle/verify.js';
import { LoadedModel } from './model.js';
import { resolveSource } from './source.js';
import type { Backend, BundleSource, LoadOptions, Model } from './types.js';
import { WasmInstance } from './wasm-backend.js';
import type { GpuLike } from './webgpu-types.js';

const BACKENDS: readonly Backend[] = ['auto', 'wasm', 'webgpu'];

export async function loadModel(source: BundleSource, options: LoadOptions = {}): Promise<Model> {
  const backend = options.backend ?? 'auto';
  if (!BACKENDS.includes(backend))
    throw new Error(`loadModel: unknown backend "${String(backend)}" (expected ${BACKENDS.join(', ')})`);
  if (backend === 'webgpu') checkGpu(options.gpu);
  const files = await resolveSource(source);
  await verifyBundle(files);
  const { manifest } = files;
  // 'auto' takes the GPU only when the caller handed one over and the bundle has WGSL for it
  const chosen =
    backend === 'auto' ? (options.gpu && manifest.targets.includes('webgpu') ? 'webgpu' : 'wasm') : backend;
  requireTarget(files, chosen);
  if (chosen === 'wasm')
    return new LoadedModel(manifest, 'wasm', await WasmInstance.create(files, options.imports));
  checkGpu(options.gpu);
  // loaded only here: wasm-only hosts (Workers, Lambda) never evaluate the WebGPU backend
  const { WebGpuInstance } = await import('./webgpu-backend.js');
  return new LoadedModel(manifest, 'webgpu', await WebGpuInstance.create(files, options.gpu));
}

function checkGpu(gpu: GpuLike | undefined): asserts gpu is GpuLike {
  if (typeof gpu?.requestAdapter !== 'function')
    throw new Error(
      'loadModel: the webgpu backend needs options.gpu, the WebGPU entry point: navigator.gpu in a browser, ' +
        "or create([]) from the 'webgpu' npm package in Node",
    );
}

function requireTarget({ manifest, wgsl }: LoadedBundleFiles, target: 'wasm' | 'webgpu'): void {
  const where = `model "${manifest.model.name}"`;
  if (!manifest.targets.includes(target))
    throw new Error(
      `${where}: the bundle was built without the ${target} target (targets: ${manifest.targets.join(', ')})` +
        (target === 'webgpu' ? '; compile it with --targets wasm,webgpu' : ''),
    );
  if (target === 'webgpu' && (manifest.webgpu === undefined || wgsl === undefined))
    throw new Error(
      `${where}: the bundle lists the webgpu target but ${manifest.webgpu === undefined ? 'its manifest has no webgpu schedule' : 'no WGSL was passed in (wgsl: the model.wgsl text)'}`,
    );
}
