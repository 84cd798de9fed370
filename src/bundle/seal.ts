/** Packing weights.bin and recording file hashes: the writer's side of the bundle format, used by the compiler. */
import type { HostTensor } from '../ir/tensor.js';
import { tensorBytes } from '../ir/tensor.js';
import { TOKENIZER_FILE, WEIGHTS_FILE, WEIGHT_ALIGNMENT, WGSL_FILE, type BundleFiles } from './files.js';
import { sha256Hex } from './hash.js';
import type { WeightEntry } from './manifest.js';
import { MANIFEST_DIGEST_SECTION, manifestDigest } from './manifest-digest.js';
import { withCustomSection } from './wasm-sections.js';

/**
 * Lay tensors out in one weights.bin, each starting on a 64-byte boundary. Offsets are relative to
 * the file; the runtime copies the file to `memory.weightsOffset`.
 */
export function packWeights(tensors: { name: string; tensor: HostTensor }[]): {
  bytes: Uint8Array;
  table: WeightEntry[];
} {
  const table: WeightEntry[] = [];
  let size = 0;
  for (const { name, tensor } of tensors) {
    const offset = alignUp(size, WEIGHT_ALIGNMENT);
    const byteLength = tensorBytes(tensor).byteLength;
    table.push({ name, dtype: tensor.dtype, dims: [...tensor.dims], offset, byteLength });
    size = offset + byteLength;
  }
  const bytes = new Uint8Array(alignUp(size, WEIGHT_ALIGNMENT));
  tensors.forEach(({ tensor }, i) => bytes.set(tensorBytes(tensor), table[i].offset));
  return { bytes, table };
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/**
 * Seal a bundle: write the manifest's digest into each wasm module (replacing an earlier one), then fill
 * `manifest.files` with the sha256 of each file. Returns new BundleFiles.
 */
export async function sealBundle(files: BundleFiles): Promise<BundleFiles> {
  const digest = new TextEncoder().encode(await manifestDigest(files.manifest));
  const bind = (wasm: Uint8Array) => withCustomSection(wasm, MANIFEST_DIGEST_SECTION, digest);
  const wasm = bind(files.wasm);
  const relaxed = files.manifest.wasm.relaxed;
  const relaxedWasm = relaxed && files.relaxedWasm ? bind(files.relaxedWasm) : undefined;
  const hashes: Record<string, string> = {
    [files.manifest.wasm.file]: await sha256Hex(wasm),
    [WEIGHTS_FILE]: await sha256Hex(files.weights),
  };
  if (relaxed && relaxedWasm) hashes[relaxed.file] = await sha256Hex(relaxedWasm);
  if (files.wgsl !== undefined) hashes[WGSL_FILE] = await sha256Hex(files.wgsl);
  if (files.tokenizer !== undefined) hashes[TOKENIZER_FILE] = await sha256Hex(files.tokenizer);
  return {
    ...files,
    wasm,
    ...(relaxedWasm && { relaxedWasm }),
    manifest: { ...files.manifest, files: hashes },
  };
}
