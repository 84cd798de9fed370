/** `loadModel` (DESIGN.md §3.2): read the bundle, verify it, pick a backend, instantiate. */
import { verifyBundle } from '../bundle/verify.js';
import { WasmModel } from './model.js';
import { resolveSource } from './source.js';
import type { Backend, BundleSource, LoadOptions, Model } from './types.js';
import { WasmInstance } from './wasm-backend.js';

const BACKENDS: readonly Backend[] = ['auto', 'wasm', 'webgpu'];

export async function loadModel(source: BundleSource, options: LoadOptions = {}): Promise<Model> {
  const backend = options.backend ?? 'auto';
  if (!BACKENDS.includes(backend))
    throw new Error(`loadModel: unknown backend "${String(backend)}" (expected ${BACKENDS.join(', ')})`);
  if (backend === 'webgpu') throw new Error('the webgpu backend is not built yet');
  const files = await resolveSource(source);
  await verifyBundle(files);
  const { manifest } = files;
  if (!manifest.targets.includes('wasm'))
    throw new Error(
      `model "${manifest.model.name}": the bundle was built without the wasm target (targets: ${manifest.targets.join(', ')})`,
    );
  return new WasmModel(manifest, await WasmInstance.create(files));
}
