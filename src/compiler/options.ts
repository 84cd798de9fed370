import type { HostTensor } from '../ir/tensor.js';
import type { ElementwiseDef } from '../kernel-lang/elementwise.js';
import type { KernelDef } from '../kernel-lang/kernel.js';
import type { TextTaskOptions } from '../passes/text-task.js';

/**
 * Bounds of a dim known only at run time, both inclusive; with `step` the dim takes only multiples of it
 * (`--dim height=32..1024:32`), which lets dims that halve and double back (a detector's FPN) be shown equal.
 */
export interface DimBounds {
  min: number;
  max: number;
  step?: number;
}

/** One dim of `--shape`: a fixed size or bounds. */
export type ShapeArg = number | DimBounds;

export interface CompileOptions {
  /** model name for the manifest (default: file name without extension) */
  name?: string;
  /**
   * sizes for an input's dims by position: input name → dims, each a fixed size or bounds
   * `{ min, max }` (the dim is then known only at run time)
   */
  shapes?: Record<string, ShapeArg[]>;
  /** bounds of named symbolic dims (ONNX dim_param) wherever they appear: symbol → { min, max } */
  dims?: Record<string, DimBounds>;
  /** inputs fixed at compile time: they become constants and leave the signature */
  consts?: Record<string, HostTensor>;
  targets?: ('wasm' | 'webgpu')[];
  /**
   * kernels written in TypeScript that implement the model's custom-domain nodes (`--kernels`): kernel()
   * definitions, and elementwise() ops (fused into elementwise chains like the built-ins)
   */
  kernels?: readonly (KernelDef | ElementwiseDef)[];
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
  /** non-fatal notes, e.g. a symbolic dimension with no bounds fixed to 1 */
  onWarning?: (message: string) => void;
  /** progress callback for long compiles */
  onProgress?: (stage: string, done: number, total: number) => void;
}
