/** The WebGPU entry point for tests in Node: Dawn (npm `webgpu`), once per process, checked to find an adapter. */
import { create, globals } from 'webgpu';
import type { GpuLike } from '../../src/runtime/webgpu-types.js';

const NO_ADAPTER =
  'WebGPU found no adapter. Dawn needs a Vulkan driver; without a GPU that is Mesa ≥ 24 lavapipe ' +
  '(Debian bookworm: apt-get install -t bookworm-backports mesa-vulkan-drivers; CI installs it)';

let gpu: Promise<GpuLike> | undefined;

export function testGpu(): Promise<GpuLike> {
  gpu ??= (async () => {
    // Dawn's objects expect the WebGPU globals (GPUBufferUsage, ...) to exist
    Object.assign(globalThis, globals);
    const entry = create([]);
    if (!(await entry.requestAdapter())) throw new Error(NO_ADAPTER);
    return entry;
  })();
  return gpu;
}
