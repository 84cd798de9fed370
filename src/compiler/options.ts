import type { HostTensor } from '../ir/tensor.js';
import type { KernelDef } from '../kernel-lang/kernel.js';
import type { TextTaskOptions } from '../passes/text-task.js';

export interface CompileOptions {
  /** model name for the manifest (default: file name without extension) */
  name?: string;
  /** fixed sizes for symbolic or free input dimensions: input name → dims */
  shapes?: Record<string, number[]>;
  /** inputs fixed at compile time: they become constants and leave the signature */
  consts?: Record<string, HostTensor>;
  targets?: ('wasm' | 'webgpu')[];
  /** kernels written in TypeScript that implement the model's custom-domain nodes (`--kernels`) */
  kernels?: readonly KernelDef[];
  weights?: 'fp32' | 'fp16' | 'int8';
  /**
   * also build model.relaxed.wasm, the relaxed-SIMD variant runtimes pick where the engine has it
   * (default true; false halves the wasm codegen time)
   */
  relaxed?: boolean;
  /** tokenizer.json's text: stored in the bundle for a text model (checked against the model's vocabulary) */
  tokenizer?: string;
  /** a text pipeline added to the graph; text-classification's labels name the classes (default LABEL_0, ...) */
  task?: TextTaskOptions & { labels?: string[] };
  /** directory of the model file, for external tensor data */
  baseDir?: string;
  /** non-fatal notes, e.g. a symbolic dimension defaulted to 1 */
  onWarning?: (message: string) => void;
  /** progress callback for long compiles */
  onProgress?: (stage: string, done: number, total: number) => void;
}
