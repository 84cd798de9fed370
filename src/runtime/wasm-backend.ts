/**
 * The wasm backend: one instance of the bundle's module, its linear memory holding weights,
 * init()-computed values, the arena, inputs and outputs at the offsets of the memory plan.
 */
import type { LoadedBundleFiles } from '../bundle/files.js';
import type { DimsBlock, Manifest, TensorSignature } from '../bundle/manifest.js';
import { ELEMENT_ARRAY, elementBytes, elementCount, type NumericDType } from '../bundle/elements.js';
import { computedSymbols, dimsBlockWords, dimValue } from '../bundle/shape-dims.js';
import type { Tensor, WasmVariant } from './types.js';
import { warmUp } from './warmup.js';

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

export class WasmInstance {
  private constructor(
    private readonly manifest: Manifest,
    private readonly memory: WebAssembly.Memory,
    private readonly runEntry: () => void,
  ) {}

  /**
   * Instantiate the variant's module, copy weights.bin into memory and call init() once. 'relaxed' needs
   * `files.relaxedWasm`. Kiln's modules take no imports; `imports` serves an instrumented build (the
   * profiler's), which must find all it imports there.
   */
  static async create(
    files: LoadedBundleFiles,
    variant: WasmVariant = 'simd128',
    imports: WebAssembly.Imports = {},
  ): Promise<WasmInstance> {
    const { manifest } = files;
    const where = `model "${manifest.model.name}"`;
    const [wasm, file] =
      variant === 'relaxed'
        ? [files.relaxedWasm, manifest.wasm.relaxed?.file ?? 'the relaxed module']
        : [files.wasm, manifest.wasm.file];
    if (wasm === undefined) throw new Error(`${where}: ${file} was not passed in`);
    const module =
      wasm instanceof WebAssembly.Module ? wasm : await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
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
    return new WasmInstance(manifest, memory, run as () => void);
  }

  /** One inference: the inputs' bytes in the order of manifest.inputs and the symbols' values, validated. */
  run(inputBytes: Uint8Array[], symbols: Readonly<Record<string, number>> = {}): Record<string, Tensor> {
    const dimsBlock = this.manifest.dims;
    if (dimsBlock) {
      const words = this.dimsWords(dimsBlock);
      words.set(dimsBlockWords(`model "${this.manifest.model.name}"`, dimsBlock, symbols, words));
    }
    this.manifest.inputs.forEach((sig, i) => this.bytesAt(sig).set(inputBytes[i]));
    callEntry(`model "${this.manifest.model.name}"`, this.manifest.wasm.exports.run, this.runEntry);
    // the sizes the kernels computed during the run shape the outputs too
    const sizes = dimsBlock
      ? { ...symbols, ...computedSymbols(dimsBlock, this.dimsWords(dimsBlock)) }
      : symbols;
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

  /**
   * Runs on zero inputs until V8 runs the model's optimized code (see warmup.ts). Best effort: a model
   * that traps on zeros ends its warm-up there, and its real runs report their own errors.
   */
  warmUp(budgetMs: number): void {
    for (const sig of this.manifest.inputs) this.bytesAt(sig).fill(0);
    // the symbols at their upper bounds: every loop of the model runs (a computed size stays as init() left it)
    const dimsBlock = this.manifest.dims;
    if (dimsBlock) {
      const words = this.dimsWords(dimsBlock);
      dimsBlock.symbols.forEach((s, i) => s.computedBy === undefined && (words[i] = s.max));
    }
    try {
      warmUp(this.runEntry, budgetMs);
    } catch (err) {
      if (!(err instanceof WebAssembly.RuntimeError)) throw err;
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
