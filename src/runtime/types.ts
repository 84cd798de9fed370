/** The runtime API's types (DESIGN.md §3.2). */
import type { ShapeDim } from '../bundle/manifest.js';
import type { LoadedBundleFiles } from '../bundle/files.js';
import type { Manifest } from '../bundle/manifest.js';
import type { ElementArray, NumericDType } from '../bundle/elements.js';
import type { GpuLike } from './webgpu-types.js';

export type { ElementArray, NumericDType };

/**
 * A tensor passed to or returned by `run`. float16 data is the raw bits (Uint16Array), bool one
 * byte per element (Uint8Array), int64/uint64 BigInt64Array/BigUint64Array.
 */
export interface Tensor {
  dtype: NumericDType;
  dims: number[];
  data: ElementArray;
}

/**
 * A tensor as a caller may feed it. The data may also be a plain array, checked element by element as
 * the server checks JSON data: numbers (or "NaN", "Infinity", "-Infinity") for float types, integers in
 * range for integer types (int64/uint64 also bigints), booleans for bool; float16 takes only its bits.
 * `run` copies the data when it is called: the caller may reuse its buffers as soon as `run` returns.
 */
export interface Feed {
  dtype: NumericDType;
  dims: readonly number[];
  data: ElementArray | readonly number[] | readonly bigint[] | readonly boolean[];
}

export interface TensorInfo {
  name: string;
  dtype: NumericDType;
  /** numbers, and `{ name, min, max }` for a dim known only at run time (bounded at compile time) */
  shape: ShapeDim[];
}

export type Backend = 'auto' | 'wasm' | 'webgpu';

/** Which wasm module runs: the SIMD128 one every engine has, or the relaxed-SIMD one (FMA). */
export type WasmVariant = 'simd128' | 'relaxed';

export interface LoadOptions {
  /** default 'auto': webgpu when `gpu` is given and the bundle has the webgpu target, else wasm */
  backend?: Backend;
  /**
   * The WebGPU entry point for the webgpu backend: `navigator.gpu` in a browser, `create([])` from the
   * `webgpu` npm package in Node. The runtime never imports a WebGPU implementation itself.
   */
  gpu?: GpuLike;
  /**
   * The wasm module to run (wasm backend). 'auto' (default): model.relaxed.wasm when the bundle has it
   * and the engine compiles relaxed SIMD, else model.wasm — never a failed load. 'simd128' always runs
   * model.wasm; 'relaxed' runs model.relaxed.wasm or fails saying why.
   */
  variant?: WasmVariant | 'auto';
  /**
   * Host functions for a wasm module that imports some (the instrumented build `kiln bench --profile`
   * passes in memory); the modules Kiln compiles import nothing.
   */
  imports?: WebAssembly.Imports;
  /**
   * wasm backend: compiles a module's bytes (after their hash is checked); default `WebAssembly.compile`,
   * with which V8 starts every function in its baseline tier. Node hosts pass `compileOptimized`
   * (src/runtime-node/v8-tiers.ts: all of the module by TurboFan at load), as `kiln serve` and the Lambda handler
   * do. Not called for a module passed in already compiled.
   */
  compileWasm?: (bytes: Uint8Array<ArrayBuffer>) => WebAssembly.Module | Promise<WebAssembly.Module>;
  /**
   * wasm backend: before resolving, run the model on zero inputs, as a request runs, for this many ms
   * (true: 100; at least one run, at most 32), so the first real run does not pay the one-off costs
   * (V8's baseline tier: a small model's first run can take 5–20× its steady time). Skipped for a model
   * whose one run is estimated from its flops to take longer than that (its first run tiers itself up:
   * src/runtime/warmup.ts). `kiln serve` does it (true). Off by default, except in `kiln/runtime` on Node,
   * whose `loadModel` defaults it to 30 ms (src/runtime-node/index.ts: `LIBRARY_WARMUP_MS`).
   */
  warmup?: boolean | number;
}

/**
 * Bundle files already in memory; `weights` may be an ArrayBuffer, `manifest` parsed or JSON text.
 * A Worker passes `wasm` (and `relaxedWasm`, the optional model.relaxed.wasm) as the
 * `WebAssembly.Module`s it imported: their bytes cannot be hashed then, so only the other files are
 * checked against the manifest.
 */
export interface InMemoryBundle extends Omit<LoadedBundleFiles, 'manifest' | 'weights'> {
  manifest: Manifest | string;
  weights: ArrayBuffer | Uint8Array;
}

/** A bundle directory path (Node, Deno, Bun), a URL to a bundle directory, or the files in memory. */
export type BundleSource = string | URL | InMemoryBundle;

export interface Model {
  readonly name: string;
  readonly backend: 'wasm' | 'webgpu';
  /** the wasm module running ('relaxed': model.relaxed.wasm); undefined on the webgpu backend */
  readonly variant: WasmVariant | undefined;
  readonly manifest: Manifest;
  /** the bundle's tokenizer.json text, verified, when the manifest lists a tokenizer (text models) */
  readonly tokenizer: string | undefined;
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  /** runs one inference; calls on the same model run one after another (they share memory) */
  run(feeds: Record<string, Feed>): Promise<Record<string, Tensor>>;
  /** frees the instance; later `run` calls fail */
  dispose(): void;
}
