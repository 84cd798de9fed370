/** The Kiln runtime: loads a bundle and runs it. Node-free and compiler-free; it ships inside Workers. */
export { loadModel } from './load.js';
export type {
  Backend,
  BundleSource,
  ElementArray,
  Feed,
  InMemoryBundle,
  LoadOptions,
  Model,
  NumericDType,
  Tensor,
  TensorInfo,
  WasmVariant,
} from './types.js';
export type { Manifest } from '../bundle/manifest.js';
export type { GpuLike } from './webgpu-types.js';
