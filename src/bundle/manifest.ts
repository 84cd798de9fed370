/** Bundle format v1 (DESIGN.md §3.1). Shared by the compiler (writer) and the runtime (reader). */
import type { DType } from '../ir/dtype.js';
import type { Polynomial } from '../ir/symbolic.js';
import type { FedElement } from '../ir/graph.js';

export const FORMAT_VERSION = 1;

/**
 * A dim known only at run time, with its bounds (inclusive). An input's is a shape symbol, whose value
 * the runtime reads from the feeds; an output's may be a polynomial in the symbols (`batch*seq`), `value`.
 */
export interface SymbolicDim {
  name: string;
  min: number;
  max: number;
  /** present when the dim is not the symbol `name` itself: c + Σ coef·Π symbols */
  value?: Polynomial;
  /**
   * an input dim bounded with a step (`--dim height=32..1024:32`): its size must be a multiple of `step`;
   * `value` is then step·s, s the dims block's symbol that counts the steps (size / step)
   */
  step?: number;
  /**
   * floor divisions `value` (or a later quotient) reads as symbols of these names, computed in order
   * first: a Conv's output width floor((width + 1) / 2)
   */
  quotients?: Quotient[];
}

/** `name` = floor(of / by), `by` a positive integer. */
export interface Quotient {
  name: string;
  of: Polynomial;
  by: number;
}

export type ShapeDim = number | SymbolicDim;

/** `shape[axis]`, which must be fixed; `what` names the tensor in the error when it is known only at run time. */
export function fixedDim(shape: ShapeDim[], axis: number, what: string): number {
  const d = shape[axis];
  if (typeof d === 'number') return d;
  throw new Error(`${what} has dim ${axis} "${d.name}" known only at run time, where it must be fixed`);
}

export interface TensorSignature {
  name: string;
  dtype: DType;
  /** numbers, and for dims known only at run time their bounds */
  shape: ShapeDim[];
  /** byte offset of the tensor in the wasm module's linear memory */
  offset: number;
  /** at the upper bounds of its dims */
  byteLength: number;
}

/**
 * Where the shape symbols' values go: symbol i is the int32 at byte `offset + 4·i` of linear memory,
 * written by the runtime before each run — from the inputs' dims, or for `fed` from an input's value —
 * except a `computedBy` symbol's, which that node's kernel writes during the run (a data-dependent size,
 * such as NonZero's count) and the runtime reads back after it to shape the outputs.
 */
export interface DimsBlock {
  offset: number;
  symbols: {
    name: string;
    min: number;
    max: number;
    computedBy?: string;
    /**
     * element `index` of input `input`; with `reshape`, of that input resolved as a Reshape target for
     * dims `from` (0 copies a dim unless `allowzero`, one -1 takes the rest, the product must match); with
     * `sum`, of sizes that must sum to it (Split's split); with `axes`, of the dims of `from` with those
     * axes inserted (Unsqueeze), removed (Squeeze) or reduced (Reduce*: made 1 with `keepdims`, else removed)
     */
    fed?: FedElement;
  }[];
}

/**
 * A model input whose values a node reads as indices (Gather's, GatherND's, ScatterElements', ReverseSequence's
 * lengths...): element p must lie in `bounds[p % bounds.length]` (one entry per element of an index tuple).
 * The kernels clamp an index out of range to stay inside their buffers, which would be a wrong answer
 * where onnxruntime errors; the runtime refuses such a feed first.
 */
export interface IndexCheck {
  input: string;
  /** the node and its op, for the error */
  node: string;
  op: string;
  bounds: IndexBound[];
}

/** Inclusive bounds, and what a value within them is (`an index into axis 0 (size 5)`), for the error. */
export interface IndexBound {
  min: number;
  max: number;
  what: string;
}

export interface WeightEntry {
  name: string;
  dtype: DType;
  dims: number[];
  /** byte offset within weights.bin (64-byte aligned) */
  offset: number;
  byteLength: number;
  /** quantization parameters when the weight is stored quantized */
  quant?: WeightQuant;
}

/**
 * `--weights fp16|int8` stores float32 weights of this many bytes or more compressed; smaller tensors
 * (biases, norms, shape constants) are not worth a restore node.
 */
export const MIN_COMPRESSED_BYTES = 16 * 1024;

/**
 * A float weight stored as integers: value = (q − zeroPoint) · scale, with `dtype` the stored integer type.
 * Per axis (`axis` set), slice i along `axis` uses scale i of `scalesAt` and `scale` is the largest of them.
 * Informational, the runtime never reads these: init() restores the floats where a kernel needs them,
 * and int8 gemms read the int8 values with their scales (src/passes/int8-kernels.ts).
 */
export interface WeightQuant {
  scale: number;
  zeroPoint: number;
  dtype: DType;
  axis?: number;
  /**
   * per axis: where the scales lie in weights.bin, `length` float32s (one per slice, `dims[axis]` of
   * them) from byte `offset` — the constant the restore or the int8 kernels read, so they are stored once
   * (format 1 bundles before this listed them here as a `scales` number array; readers ignore both)
   */
  scalesAt?: { offset: number; length: number };
}

export interface MemoryPlan {
  /** linear memory size in bytes (a multiple of 64 KiB) */
  totalBytes: number;
  /** where weights.bin is copied before init() */
  weightsOffset: number;
  weightsBytes: number;
  /** region holding values computed once by init() (e.g. broadcast constants) */
  persistentOffset: number;
  persistentBytes: number;
  /** inputs then outputs, each at its own offset */
  ioOffset: number;
  ioBytes: number;
  /** liveness-planned region for intermediate values */
  arenaOffset: number;
  arenaBytes: number;
  /** sum of all intermediate value sizes without reuse, for comparison */
  arenaUnplannedBytes: number;
}

export interface Manifest {
  format: number;
  compiler: string;
  model: { name: string; sha256: string };
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  targets: ('wasm' | 'webgpu')[];
  weights: WeightEntry[];
  memory: MemoryPlan;
  /** present when some dim is known only at run time */
  dims?: DimsBlock;
  /** the indices read from a model input's values, which the runtime checks before each run */
  indexChecks?: IndexCheck[];
  /**
   * the wasm module exports `memory`, `init()` and `run()` (these names: the verifier refuses others); each
   * module carries this manifest's digest in a custom section (manifest-digest.ts)
   */
  wasm: WasmTarget;
  /** dispatch schedule, present when the webgpu target is built */
  webgpu?: WebGpuSchedule;
  /** the run schedule's kernels in order, for `kiln bench --profile`; absent in older bundles */
  kernels?: KernelInfo[];
  /** the text tokenizer bundled with a text model (`kiln compile --tokenizer`) */
  tokenizer?: TokenizerInfo;
  /** the pipeline compiled into the graph (`kiln compile --task`) */
  task?: TextTask;
  /** sha256 (hex) of every other file in the bundle */
  files: Record<string, string>;
}

/**
 * The wasm target: `file` uses SIMD128 only and runs on every engine. `relaxed`, when present, names
 * the same program compiled with relaxed SIMD (f32x4.relaxed_madd, relaxed min/max): same exports,
 * same memory plan, results within float tolerance of `file`'s. A runtime uses it only where the
 * engine compiles it; bundles without it (older ones, `kiln compile --no-relaxed`) stay valid.
 */
export interface WasmTarget {
  file: string;
  exports: { memory: string; init: string; run: string };
  simd: boolean;
  relaxed?: { file: string };
}

/** One compute dispatch: an entry point of the WGSL module and its workgroup counts. */
export interface WgslDispatch {
  /** the entry point's name in the module */
  entry: string;
  /** the Kernel IR kernel it runs (usually the node name), for errors and profiles */
  kernel: string;
  /** at the upper bounds of the shape symbols */
  workgroups: [number, number, number];
  /**
   * present when the count of invocations (64 to a workgroup) depends on shape symbols: an upper bound of
   * it (coefficients may be fractions: floor(rows/16) counts as rows/16), from which the runtime sizes
   * the dispatch per run, never past `workgroups` (the shader's guards make any such size correct)
   */
  invocations?: Polynomial;
  /** the storage bindings (indices into WebGpuSchedule.segments) the entry point declares, ascending */
  bindings: number[];
  /** the same kernel computing in f16, which the runtime uses where the adapter has shader-f16 */
  f16Entry?: string;
}

/**
 * One storage binding of the webgpu target: `@group(0) @binding(i) var<storage, access> mem<i>:
 * array<u32>` holds bytes [offset, offset + bytes) of linear memory.
 */
export interface WgslSegment {
  /** byte offset in linear memory (a multiple of 16) */
  offset: number;
  /** a multiple of 4, at most 128 MiB (WebGPU's default maxStorageBufferBindingSize) unless asked */
  bytes: number;
  /** 'read' (a read-only-storage binding) when no entry point writes it, else 'read_write' */
  access: 'read' | 'read_write';
}

/**
 * The webgpu target: one WGSL module whose storage bindings (`segments`) together mirror the wasm
 * module's linear memory (the same memory plan: weights at memory.weightsOffset, persistent values,
 * inputs and outputs at their signatures' offsets, the dims block; the arena holds the intermediates of
 * the GPU's own kernels, lowered apart from the wasm ones, and memoryBytes is at least the plan's), each
 * binding a contiguous range of it, cut between buffers
 * where it can so that a binding stays within 128 MiB; a buffer larger than that spans several. Each
 * entry point binds only the segments it touches (its `bindings`, in one bind group 0). `init` runs once
 * after the weights are written, `run` per inference, each dispatch after the previous one has finished.
 */
export interface WebGpuSchedule {
  /** the WGSL file in the bundle, e.g. model.wgsl */
  file: string;
  /**
   * where the entry points computing in f16 (the dispatches' f16Entry) begin in the file, in UTF-16 code
   * units: the runtime compiles the part before without shader-f16, the whole with `enable f16;` before it
   */
  halfFrom?: number;
  /** linear memory's size in bytes (a multiple of 4, ≥ memory.totalBytes' used part): the segments' total */
  memoryBytes: number;
  /** binding i holds segments[i]; they follow each other from offset 0 to memoryBytes */
  segments: WgslSegment[];
  init: WgslDispatch[];
  run: WgslDispatch[];
}

/**
 * One kernel of the run schedule, as `run` calls it (informational: the runtime never reads it).
 * Kernels merged by the optimizer (identical bodies) share one wasm function; each keeps its entry.
 */
export interface KernelInfo {
  /** the wasm function that runs it, by its name in model.wasm's name section */
  function: string;
  /** the Kernel IR kernel's name (usually its node's name) */
  name: string;
  /** the graph node it computes ('' for the copies into graph outputs) and its op type (fusions joined by '+') */
  node: string;
  op: string;
  /** the node's outputs */
  outputs: { dtype: DType; shape: number[] }[];
  /** floating-point operations per run (the rule is in src/kernels/flops.ts) */
  flops: number;
  /** the largest float32 matrix product it computes (src/kernels/gemm-shape.ts); absent when none */
  gemm?: { M: number; N: number; K: number };
}

/**
 * A Hugging Face tokenizer (tokenizer.json, as the `tokenizers` library writes it) stored in the bundle as
 * `file`, which `files` hashes like every other file. The rest is read from it at compile time, for
 * `kiln inspect` and the server; the runtime tokenizes with @huggingface/tokenizers.
 */
export interface TokenizerInfo {
  file: string;
  kind: 'huggingface-tokenizer';
  /** the tokenizer model's type: WordPiece, BPE, Unigram, ... */
  model: string;
  /** largest token id + 1 (added tokens included); the model's embedding table has at least as many rows */
  vocabSize: number;
  /** tokenizer.json's truncation (the default of a request that does not say), or null for none */
  truncation: { maxLength: number; direction: 'left' | 'right' } | null;
  /** tokenizer.json's padding, or null for none; the server pads a run's texts as the model's shape says anyway */
  padding: { padId: number; padToken: string } | null;
  /** the model inputs the encoding feeds; `sequenceLength` is the longest the model takes (a run-time sequence's upper bound) */
  inputs: { ids: string; attentionMask?: string; tokenTypeIds?: string };
  sequenceLength: number;
}

/** Post-processing added to the graph before compile; `output` names the graph output it computes. */
export type TextTask =
  | {
      name: 'feature-extraction';
      output: string;
      /** 'none': the model's own output was already pooled, and is served as it is */
      pooling: 'mean' | 'cls' | 'none';
      normalize: boolean;
    }
  | { name: 'text-classification'; output: string; labels: string[] };
