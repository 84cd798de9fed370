/**
 * The wasm backend: one instance of the bundle's module, its linear memory holding weights,
 * init()-computed values, the arena, inputs and outputs at the offsets of the memory plan.
 */
import type { LoadedBundleFiles } from '../bundle/files.js';
import type { DimsBlock, Manifest, TensorSignature } from '../bundle/manifest.js';
import { ELEMENT_ARRAY, elementBytes, elementCount, type NumericDType } from '../bundle/elements.js';
import { computedSymbols, dimsBlockWords, dimValue, upperBounds } from '../bundle/shape-dims.js';
import type { Feed, LoadOptions, Model, Tensor, WasmVariant } from './types.js';
import { feedBytes, type CheckedFeeds } from './feeds.js';
import { estimatedRunMs, warmUp } from './warmup.js';

/** What of LoadOptions the wasm backend takes when it compiles and instantiates a module. */
export type WasmLoadOptions = Pick<LoadOptions, 'imports' | 'compileWasm'>;

const WASM_PAGE = 65536;

/** Grow `memory` to `totalBytes`; the engine's bare refusal becomes one message naming model, module and sizes. */
function growMemory(where: string, file: string, memory: WebAssembly.Memory, totalBytes: number): void {
  const have = memory.buffer.byteLength;
  try {
    memory.grow(Math.ceil((totalBytes - have) / WASM_PAGE));
  } catch (err) {
    throw new Error(
      `${where}: cannot grow the memory of ${file} from ${have} to ${totalBytes} bytes (the manifest's memory.totalBytes): ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** The page size of the OS's virtual memory on the hosts Kiln runs on (x86-64, arm64 Linux). */
const OS_PAGE = 4096;

/**
 * Write each page of `bytes` once (the byte already there), so that the OS maps the pages now, at load,
 * and not in the first run: a fresh wasm memory is reserved but not backed, and its first write to
 * each page faults (the arena of a 640² detector: ~7,700 faults, tens of ms, in what would be the
 * first request).
 */
function touchPages(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += OS_PAGE) bytes[i] = bytes[i];
}

export class WasmInstance {
  private constructor(
    private readonly manifest: Manifest,
    private readonly memory: WebAssembly.Memory,
    private runEntry: () => void,
  ) {}

  /**
   * Instantiate the variant's module, copy weights.bin into memory and call init() once. 'relaxed' needs
   * `files.relaxedWasm`. Kiln's modules take no imports; `imports` serves an instrumented build (the
   * profiler's), which must find all it imports there. `compileWasm`: see LoadOptions.
   */
  static async create(
    files: LoadedBundleFiles,
    variant: WasmVariant = 'simd128',
    { imports = {}, compileWasm = WebAssembly.compile }: WasmLoadOptions = {},
  ): Promise<WasmInstance> {
    const { manifest } = files;
    const where = `model "${manifest.model.name}"`;
    const [wasm, file] =
      variant === 'relaxed'
        ? [files.relaxedWasm, manifest.wasm.relaxed?.file ?? 'the relaxed module']
        : [files.wasm, manifest.wasm.file];
    if (wasm === undefined) throw new Error(`${where}: ${file} was not passed in`);
    const module =
      wasm instanceof WebAssembly.Module ? wasm : await compileWasm(wasm as Uint8Array<ArrayBuffer>);
    const unmet = WebAssembly.Module.imports(module).filter((i) => imports[i.module]?.[i.name] === undefined);
    if (unmet.length > 0)
      throw new Error(
        `${where}: ${file} imports ${unmet.map((i) => `${i.module}.${i.name}`).join(', ')}, but Kiln modules take no imports`,
      );
    const { exports } = await WebAssembly.instantiate(module, imports);
    const names = manifest.wasm.exports;
    const memory = exports[names.memory];
    const init = exports[names.init];
    const run = exports[names.run];
    if (!(memory instanceof WebAssembly.Memory) || typeof init !== 'function' || typeof run !== 'function')
      throw new Error(
        `${where}: ${file} must export a memory "${names.memory}" and functions "${names.init}" and "${names.run}"`,
      );
    const missing = manifest.memory.totalBytes - memory.buffer.byteLength;
    if (missing > 0) growMemory(where, file, memory, manifest.memory.totalBytes);
    new Uint8Array(memory.buffer, manifest.memory.weightsOffset, files.weights.byteLength).set(files.weights);
    callEntry(where, names.init, init as () => void);
    touchPages(new Uint8Array(memory.buffer, 0, manifest.memory.totalBytes));
    return new WasmInstance(manifest, memory, run as () => void);
  }

  /** One inference: the inputs' bytes in the order of manifest.inputs and the symbols' values, validated. */
  run(inputBytes: Uint8Array[], symbols: Readonly<Record<string, number>> = {}): Record<string, Tensor> {
    const dimsBlock = this.manifest.dims;
    if (dimsBlock) {
      const words = this.dimsWords(dimsBlock);
      words.set(dimsBlockWords(`model "${this.manifest.model.name}"`, dimsBlock, symbols, words));
    }
    this.writeInputs(inputBytes);
    callEntry(`model "${this.manifest.model.name}"`, this.manifest.wasm.exports.run, this.runEntry);
    // the sizes the kernels computed during the run shape the outputs too
    const sizes = dimsBlock
      ? { ...symbols, ...computedSymbols(dimsBlock, this.dimsWords(dimsBlock)) }
      : symbols;
    return this.readOutputs(sizes);
  }

  /**
   * One request through `model.run` (this instance's model) on zero feeds, with the model's own code
   * skipped: its JavaScript runs (LoadedModel.run, the feeds checked and copied in, WasmInstance.run,
   * the outputs copied out), the kernels do not. V8 compiles a JavaScript function at its first call, so
   * without this the first run() compiles its own path: with only the feed checks and the output copies
   * run at load, a fresh process's first request spent 0.19–0.27 ms CPU in JavaScript (0.015 ms steady;
   * a 48×192 classifier's whole run is 0.9 ms), with the whole path run here 0.08–0.19 ms. Best effort:
   * zero feeds that the model refuses (a Range stepping by a fed 0) prime nothing.
   */
  async primeRequestPath(model: Pick<Model, 'run'>): Promise<void> {
    const entry = this.runEntry;
    this.runEntry = () => {};
    try {
      await model.run(this.zeroFeeds());
    } catch {
      // the first real request compiles what this did not reach, and reports its own errors
    } finally {
      this.runEntry = entry;
    }
  }

  private writeInputs(inputBytes: Uint8Array[]): void {
    this.manifest.inputs.forEach((sig, i) => this.bytesAt(sig).set(inputBytes[i]));
  }

  private readOutputs(sizes: Readonly<Record<string, number>>): Record<string, Tensor> {
    const outputs: Record<string, Tensor> = {};
    for (const sig of this.manifest.outputs) {
      const dtype = sig.dtype as NumericDType;
      const dims = sig.shape.map((d) => dimValue(d, sizes));
      const count = elementCount(dims);
      // slice() copies into a fresh, aligned buffer the caller owns; later runs cannot change it
      const bytes = this.bytesAt(sig).slice(0, count * elementBytes(dtype));
      outputs[sig.name] = { dtype, dims, data: new ELEMENT_ARRAY[dtype](bytes.buffer, 0, count) };
    }
    return outputs;
  }

  /** An input of zeros for each of the model's inputs, at the upper bounds of run-time dims. */
  private zeroFeeds(): Record<string, Feed> {
    return Object.fromEntries(
      this.manifest.inputs.map((sig) => {
        const dims = upperBounds(sig.shape);
        const data = new ELEMENT_ARRAY[sig.dtype as NumericDType](elementCount(dims));
        return [sig.name, { dtype: sig.dtype as NumericDType, dims, data }];
      }),
    );
  }

  /**
   * Runs zero inputs through the same path as a request (feeds checked and copied in, once; the run,
   * outputs copied out, so V8 has compiled that JavaScript too), for `budgetMs` (see warmup.ts). Best effort: a
   * model that traps on zeros ends its warm-up there, and its real runs report their own errors; one
   * whose sizes zeros cannot give (a fed Reshape target or Split sizes: DimsBlock `fed`) skips the
   * runs (loadModel still primes the request path).
   */
  warmUp(budgetMs: number): void {
    const { name } = this.manifest.model;
    const { inputs, dims, indexChecks } = this.manifest;
    // at the upper bounds of run-time dims: every loop of the model runs
    let zeros: CheckedFeeds;
    try {
      zeros = feedBytes(name, inputs, this.zeroFeeds(), dims, indexChecks);
    } catch {
      return; // loadModel primes the request path after this
    }
    // the same copies every run: fresh ones would leave the first request's copy to land in unmapped pages
    const request = () => void this.run(zeros.bytes, zeros.symbols);
    try {
      warmUp(request, budgetMs, { estimatedRunMs: estimatedRunMs(this.manifest.kernels) });
    } catch (err) {
      if (!(err instanceof Error && err.cause instanceof WebAssembly.RuntimeError)) throw err;
    }
  }

  private dimsWords(block: DimsBlock): Int32Array {
    return new Int32Array(this.memory.buffer, block.offset, block.symbols.length);
  }

  private bytesAt(sig: TensorSignature): Uint8Array {
    // memory.buffer is fetched each time: growing memory detaches the old buffer
    return new Uint8Array(this.memory.buffer, sig.offset, sig.byteLength);
  }
}

function callEntry(where: string, name: string, entry: () => void): void {
  try {
    entry();
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError)
      throw new Error(`${where}: ${name}() trapped: ${err.message}`, { cause: err });
    throw err;
  }
}
