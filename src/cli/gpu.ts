/**
 * The WebGPU entry point for the CLI in Node: Dawn from the `webgpu` npm package, imported only when
 * a command asks for the webgpu backend, so the package stays optional for everything else.
 */
import { PEER_VERSIONS } from '../deploy/peers.js';
import type { GpuLike } from '../runtime/webgpu-types.js';

/** the `webgpu` version Kiln is tested with: an optional peer dependency, like deploy's tools */
export const WEBGPU_VERSION = PEER_VERSIONS.webgpu;

const NO_ADAPTER =
  'WebGPU found no adapter: Dawn needs a Vulkan driver (on Linux without a GPU, Mesa ≥ 24 lavapipe: ' +
  'on Debian bookworm `apt-get install -t bookworm-backports mesa-vulkan-drivers`)';

let entry: Promise<GpuLike> | undefined;

/** `create([])` of the `webgpu` package, once per process, after checking that it finds an adapter. */
export function nodeGpu(): Promise<GpuLike> {
  entry ??= createNodeGpu();
  return entry;
}

async function createNodeGpu(): Promise<GpuLike> {
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new Error(
      `the webgpu backend needs the 'webgpu' package (Dawn for Node), which is not installed: npm install webgpu@${WEBGPU_VERSION}`,
    );
  }
  // webgpu.globals (GPUBufferUsage, ...) stay uninstalled: the runtime uses the spec's numeric flags and
  // must not depend on them, and the CLI's tests show that it does not
  const gpu = webgpu.create([]);
  if (!(await gpu.requestAdapter())) throw new Error(NO_ADAPTER);
  return gpu;
}

/** Mesa's llvmpipe (lavapipe) and SwiftShader run WebGPU on the CPU. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software/i;

/** The adapter the webgpu backend gets, as it describes itself, and whether it is a CPU emulation. */
export async function describeAdapter(
  gpu: GpuLike,
): Promise<{ description: string; software: boolean } | undefined> {
  const info = (await gpu.requestAdapter({ powerPreference: 'high-performance' }))?.info;
  if (!info) return undefined;
  const description = info.description || [info.vendor, info.device].filter(Boolean).join(' ') || 'unknown';
  return {
    description,
    software: SOFTWARE_ADAPTER.test([info.vendor, info.architecture, info.device, description].join(' ')),
  };
}
