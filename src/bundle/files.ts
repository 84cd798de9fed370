/** The files of a bundle held in memory, and their names inside a bundle directory (DESIGN.md §3.1). */
import type { Manifest } from './manifest.js';

export const MANIFEST_FILE = 'manifest.json';
export const WEIGHTS_FILE = 'weights.bin';
export const WGSL_FILE = 'model.wgsl';
/** default name of the wasm module; the manifest's `wasm.file` is authoritative */
export const WASM_FILE = 'model.wasm';
/** default name of the relaxed-SIMD variant of the wasm module; `wasm.relaxed.file` is authoritative */
export const RELAXED_WASM_FILE = 'model.relaxed.wasm';

/** the Hugging Face tokenizer of a text model; the manifest's `tokenizer.file` names it */
export const TOKENIZER_FILE = 'tokenizer.json';

/** Byte alignment of every weight inside weights.bin (enough for any SIMD load). */
export const WEIGHT_ALIGNMENT = 64;

export interface BundleFiles {
  manifest: Manifest;
  wasm: Uint8Array;
  /** the same program using relaxed SIMD (FMA), when the manifest lists `wasm.relaxed` */
  relaxedWasm?: Uint8Array;
  weights: Uint8Array;
  wgsl?: string;
  /** tokenizer.json's text, when the manifest lists `tokenizer` */
  tokenizer?: string;
}

/**
 * A bundle as a runtime receives it. In a Worker the wasm arrives already compiled (a
 * `WebAssembly.Module`), because Workers cannot compile wasm from bytes.
 */
export interface LoadedBundleFiles {
  manifest: Manifest;
  wasm: Uint8Array | WebAssembly.Module;
  /** absent when the bundle has no relaxed module, or when the reader chose not to fetch it */
  relaxedWasm?: Uint8Array | WebAssembly.Module;
  weights: Uint8Array;
  wgsl?: string;
  /** tokenizer.json's text, when the manifest lists `tokenizer` */
  tokenizer?: string;
}
