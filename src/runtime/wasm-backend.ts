/**
 * The wasm backend: one instance of the bundle's module, its linear memory holding weights,
 * init()-computed values, the arena, inputs and outputs at the offsets of the memory plan.
 */
import type { LoadedBundleFiles } from '../bundle/files.js';
import type { Manifest, TensorSignature } from '../bundle/manifest.js';
import { ELEMENT_ARRAY, elementCount, type NumericDType } from '../bundle/elements.js';
import type { Tensor, WasmVariant } from './types.js';

const WASM_PAGE = 65536;

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
    try {
      if (missing > 0) memory.grow(Math.ceil(missing / WASM_PAGE));
    } catch (err) {
      throw new Error(
        `${where}: ${file}'s memory (${memory.buffer.byteLength} bytes) cannot grow to the memory plan's ${manifest.memory.totalBytes} bytes: ${(err as Error).message}`,
        { cause: err },
      );
    }
    new Uint8Array(memory.buffer, manifest.memory.weightsOffset, files.weights.byteLength).set(files.weights);
    callEntry(where, names.init, init as () => void);
    return new WasmInstance(manifest, memory, run as () => void);
  }

  /** One inference: `inputBytes` in the order of manifest.inputs, already validated. */
  run(inputBytes: Uint8Array[]): Record<string, Tensor> {
    this.manifest.inputs.forEach((sig, i) => this.bytesAt(sig).set(inputBytes[i]));
    callEntry(`model "${this.manifest.model.name}"`, this.manifest.wasm.exports.run, this.runEntry);
    const outputs: Record<string, Tensor> = {};
    for (const sig of this.manifest.outputs) {
      const dtype = sig.dtype as NumericDType;
      // slice() copies into a fresh, aligned buffer the caller owns; later runs cannot change it
      const bytes = this.bytesAt(sig).slice();
      const data = new ELEMENT_ARRAY[dtype](bytes.buffer, 0, elementCount(sig.shape));
      outputs[sig.name] = { dtype, dims: [...sig.shape], data };
    }
    return outputs;
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
