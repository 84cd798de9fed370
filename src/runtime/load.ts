/** `loadModel` (DESIGN.md §3.2): read the bundle, verify it, pick a backend, instantiate. */
import type { LoadedBundleFiles } from '../bundle/files.js';
import { verifyBundle } from '../bundle/verify.js';
import { LoadedModel } from './model.js';
import { resolveSource } from './source.js';
import { hasRelaxedSimd } from './relaxed-simd.js';
import type { Backend, BundleSource, LoadOptions, Model, WasmVariant } from './types.js';
import { WasmInstance, type WasmLoadOptions } from './wasm-backend.js';
import type { GpuLike } from './webgpu-types.js';

const BACKENDS: readonly Backend[] = ['auto', 'wasm', 'webgpu'];
/** Warm-up budget for `warmup: true` */
const DEFAULT_WARMUP_MS = 100;
const VARIANTS: readonly NonNullable<LoadOptions['variant']>[] = ['auto', 'simd128', 'relaxed'];

export async function loadModel(source: BundleSource, options: LoadOptions = {}): Promise<Model> {
  const backend = options.backend ?? 'auto';
  if (!BACKENDS.includes(backend))
    throw new Error(`loadModel: unknown backend "${String(backend)}" (expected ${BACKENDS.join(', ')})`);
  const variant = options.variant ?? 'auto';
  if (!VARIANTS.includes(variant))
    throw new Error(`loadModel: unknown variant "${String(variant)}" (expected ${VARIANTS.join(', ')})`);
  const warmup = options.warmup;
  if (warmup !== undefined && typeof warmup !== 'boolean' && !(typeof warmup === 'number' && warmup >= 0))
    throw new Error(`loadModel: warmup must be a boolean or a number of ms ≥ 0, not ${String(warmup)}`);
  if (backend === 'webgpu') checkGpu(options.gpu);
  // model.relaxed.wasm is fetched only when it may run
  const relaxed = backend !== 'webgpu' && (variant === 'relaxed' || (variant === 'auto' && hasRelaxedSimd()));
  const files = await resolveSource(source, { relaxed });
  await verifyBundle(files);
  const { manifest } = files;
  // 'auto' takes the GPU only when the caller handed one over and the bundle has WGSL for it
  const chosen =
    backend === 'auto' ? (options.gpu && manifest.targets.includes('webgpu') ? 'webgpu' : 'wasm') : backend;
  requireTarget(files, chosen);
  if (chosen === 'wasm') {
    const { instance, running } = await wasmInstance(files, variant, options);
    if (warmup) instance.warmUp(warmup === true ? DEFAULT_WARMUP_MS : warmup);
    const model = new LoadedModel(manifest, 'wasm', instance, running, files.tokenizer);
    // after a warm-up too: it runs the instance, not LoadedModel.run
    await instance.primeRequestPath(model);
    return model;
  }
  checkGpu(options.gpu);
  // loaded only here: wasm-only hosts (Workers, Lambda) never evaluate the WebGPU backend
  const { WebGpuInstance } = await import('./webgpu-backend.js');
  return new LoadedModel(
    manifest,
    'webgpu',
    await WebGpuInstance.create(files, options.gpu),
    undefined,
    files.tokenizer,
  );
}

/**
 * The relaxed module where it may run, else the plain one. Under 'auto' a relaxed module that the
 * engine lacks the feature for, or that fails to compile or load, falls back to model.wasm: relaxed
 * SIMD is a speed-up, never a reason for a failed load. Forced 'relaxed' fails instead, saying why.
 */
async function wasmInstance(
  files: LoadedBundleFiles,
  variant: WasmVariant | 'auto',
  options: WasmLoadOptions,
): Promise<{ instance: WasmInstance; running: WasmVariant }> {
  const plain = async () => ({
    instance: await WasmInstance.create(files, 'simd128', options),
    running: 'simd128' as const,
  });
  if (variant === 'simd128') return plain();
  const { manifest, relaxedWasm } = files;
  // an imported module (a Worker's) already compiled: that proves the engine has relaxed SIMD
  const runnable = relaxedWasm instanceof WebAssembly.Module || hasRelaxedSimd();
  if (variant === 'auto') {
    if (relaxedWasm === undefined || !runnable) return plain();
    try {
      return { instance: await WasmInstance.create(files, 'relaxed', options), running: 'relaxed' };
    } catch {
      return plain();
    }
  }
  const where = `model "${manifest.model.name}"`;
  if (!manifest.wasm.relaxed)
    throw new Error(
      `${where}: the bundle has no relaxed-SIMD module (compiled with --no-relaxed, by an older Kiln, or with nothing relaxed SIMD speeds up); load it with variant 'auto' or 'simd128'`,
    );
  if (relaxedWasm === undefined)
    throw new Error(
      `${where}: the manifest lists ${manifest.wasm.relaxed.file} but it was not passed in (relaxedWasm)`,
    );
  if (!runnable)
    throw new Error(
      `${where}: variant 'relaxed' needs relaxed SIMD, which this WebAssembly engine lacks (Node 20: run with --experimental-wasm-relaxed-simd; Node 22, Chrome 114 and Firefox 145 have it)`,
    );
  try {
    return { instance: await WasmInstance.create(files, 'relaxed', options), running: 'relaxed' };
  } catch (err) {
    throw new Error(`${where}: ${manifest.wasm.relaxed.file} failed to load: ${(err as Error).message}`, {
      cause: err,
    });
  }
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
