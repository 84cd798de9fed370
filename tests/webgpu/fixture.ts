/**
 * For the end-to-end WebGPU tests: the repo's models compiled for both targets, the Node GPU entry
 * point the CLI uses (Dawn; without an adapter it fails, naming the Mesa drivers to install), and
 * seeded inputs.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { compileModel } from '../../src/compiler/compile.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import type { Feed, Tensor } from '../../src/runtime/index.js';
import { compareTensors } from '../../scripts/compare.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { upperBounds } from '../../src/bundle/shape-dims.js';

export { nodeGpu } from '../../src/cli/gpu.js';

export const ROOT = resolve(import.meta.dirname, '../..');

export const modelPath = (name: string) => join(ROOT, 'models', `${name}.onnx`);

export async function modelBytes(name: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(modelPath(name)));
}

/** models/NAME.onnx compiled with the wasm and webgpu targets (symbolic dimensions default to 1). */
export async function compileBoth(name: string): Promise<BundleFiles> {
  return compileModel(await modelBytes(name), { name, targets: ['wasm', 'webgpu'], onWarning: () => {} });
}

/** One seeded random float32 tensor per input of the bundle. */
export function randomFeeds(files: BundleFiles, seed: number): Record<string, HostTensor> {
  const rand = seededRandom(seed);
  return Object.fromEntries(
    files.manifest.inputs.map((s) => [s.name, randomTensor(upperBounds(s.shape), rand)]),
  );
}

export const asFeeds = (feeds: Record<string, HostTensor>) => feeds as Record<string, Feed>;

/** The webgpu and wasm backends agree to 1e-4 relative (atol 1e-6 for values near zero). */
export function differences(
  actual: Record<string, Tensor | HostTensor>,
  expected: Record<string, Tensor | HostTensor>,
): string[] {
  return Object.keys(expected).flatMap((name) => {
    const problem = actual[name]
      ? compareTensors(actual[name] as HostTensor, expected[name] as HostTensor, 1e-4, 1e-6)
      : 'missing';
    return problem ? [`${name}: ${problem}`] : [];
  });
}
