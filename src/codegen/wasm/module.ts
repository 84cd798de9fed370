/** Assembles a Program into one wasm module: memory, one function per kernel, `init` and `run`. */
import binaryen from 'binaryen';
import type { Program } from '../../kernels/ir.js';
import { renderHelpers } from './helpers.js';
import { renderKernel } from './render.js';
import { callingMapsAfterGemm, scalarGemmFallback } from './gemm.js';
import { gemmKBlocks } from './gemm-k-blocks.js';
import { rewriteKernel, type Rewrite } from '../../kernels/rewrite/pipeline.js';
import type { ProgramContext } from './emitter.js';
import { rangesOf } from '../../kernels/extent.js';
import { dimsBlockProblem, isDimsWord } from '../../kernels/verify.js';
import './mathlib/index.js';

export interface WasmOptions {
  /** run binaryen's optimizer (default true); the compiler skips it for fast constant folding */
  optimize?: boolean;
  /** allow relaxed-SIMD instructions (fused multiply-add in gemm) */
  relaxedSimd?: boolean;
  /**
   * split the heavy loops of large kernels into functions called in chunks (default true), so that V8
   * runs most of the first run in optimized code (chunks.ts); false keeps each kernel one function
   */
  chunks?: boolean;
}

const PAGE = 65536;
const MAX_PAGES = 65536;

/** The rewrites the wasm target applies to every kernel before rendering it. */
export const wasmRewrites: readonly Rewrite[] = [callingMapsAfterGemm, gemmKBlocks, scalarGemmFallback];

/** Kernel function names: WAT ids allow only some characters, and two kernels may share a name. */
const KERNEL_PREFIX = 'kernel.';
function kernelId(index: number, name: string): string {
  return `$${KERNEL_PREFIX}${index}.${name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 64)}`;
}

/** The wasm function name (in the name section) of each run kernel, as programToWat numbers them. */
export function runKernelFunctionNames(program: Program): string[] {
  return program.run.map((k, i) => kernelId(program.init.length + i, k.name).slice(1));
}

export function programToWat(program: Program, opts: WasmOptions = {}): string {
  return renderModule(program, opts).wat;
}

/**
 * The linear memory the module for `program` declares: the plan plus the code generator's own scratch
 * (GEMM panels), in whole pages — what a bundle compiled from it needs, without running binaryen.
 */
export function moduleMemoryBytes(program: Program, opts: WasmOptions = {}): number {
  return renderModule(program, opts).memoryBytes;
}

function renderModule(program: Program, opts: WasmOptions): { wat: string; memoryBytes: number } {
  const offsets = new Map<number, number>();
  for (const b of program.buffers) {
    if (b.offset % 16 !== 0 && !isDimsWord(program, b))
      throw new Error(`wasm codegen: buffer #${b.id} offset ${b.offset} is not 16-byte aligned`);
    offsets.set(b.id, b.offset);
  }
  const dimsProblem = dimsBlockProblem(program);
  if (dimsProblem) throw new Error(`wasm codegen: ${dimsProblem}`);
  // the codegen's own scratch starts on a cache line past the planned buffers
  const scratch = { base: Math.ceil(program.memoryBytes / 64) * 64, bytes: 0 };
  const symbols = program.dims?.symbols ?? [];
  const ctx: ProgramContext = {
    offsets,
    dims: new Map(symbols.map((s, i) => [s.name, program.dims!.offset + 4 * i])),
    ranges: rangesOf(symbols),
    helpers: new Set(),
    relaxedSimd: opts.relaxedSimd ?? false,
    chunks: opts.chunks ?? true,
    scratch,
  };
  const funcs: string[] = [];
  const entry = (name: string, kernels: Program['init']): string => {
    const calls = kernels.map((k) => {
      const id = kernelId(funcs.length, k.name);
      funcs.push(renderKernel(rewriteKernel(k, wasmRewrites), id, ctx));
      return `(call ${id})`;
    });
    return `(func $${name} (export "${name}") ${calls.join(' ')})`;
  };
  const init = entry('init', program.init);
  const run = entry('run', program.run);
  const memoryBytes = scratch.bytes ? scratch.base + scratch.bytes : program.memoryBytes;
  const pages = Math.max(1, Math.ceil(memoryBytes / PAGE));
  if (pages > MAX_PAGES)
    throw new Error(`wasm codegen: program needs ${memoryBytes} bytes of memory, more than wasm32's 4 GiB`);
  const wat = `(module
(memory (export "memory") ${pages} ${pages})
${init}
${run}
${funcs.join('\n')}
${renderHelpers(ctx.helpers)}
)`;
  return { wat, memoryBytes: pages * PAGE };
}

const BASE_FEATURES =
  binaryen.Features.MutableGlobals |
  binaryen.Features.NontrappingFPToInt |
  binaryen.Features.SIMD128 |
  binaryen.Features.BulkMemory |
  binaryen.Features.SignExt;

/**
 * Helpers up to this size (binaryen's measure; its default is 20) are inlined into their callers. The
 * f32x4 erf/exp/tanh are called once per vector from a kernel's loop: inlined, their ~30 vector constants
 * are loop-invariant (V8 hoists them) instead of rebuilt on every call, and the call itself goes.
 * Measured: bert-enc 4 % faster (its GELU kernels ~10 %), crnn-rec and mobilenetv3-cls unchanged, modules
 * up to 12 % larger. Kernels themselves are never inlined (see `no-inline` below).
 */
const HELPER_INLINE_MAX_SIZE = 400;

/** Compile a Program to wasm bytes; see WasmOptions. */
export function compileProgram(program: Program, opts: WasmOptions = {}): Uint8Array<ArrayBuffer> {
  return compileWat(programToWat(program, opts), opts);
}

/** Compile WAT that programToWat rendered with the same options (see WasmOptions). */
export function compileWat(wat: string, opts: WasmOptions = {}): Uint8Array<ArrayBuffer> {
  let mod: binaryen.Module;
  try {
    mod = binaryen.parseText(wat);
  } catch (err) {
    throw new Error(`wasm codegen: generated WAT does not parse: ${(err as Error).message}`, { cause: err });
  }
  try {
    mod.setFeatures(BASE_FEATURES | (opts.relaxedSimd ? binaryen.Features.RelaxedSIMD : 0));
    // keep the name section, so stack traces and profiles name the kernels
    binaryen.setDebugInfo(true);
    if (!mod.validate()) throw new Error('wasm codegen: generated module does not validate');
    if (opts.optimize ?? true) {
      binaryen.setOptimizeLevel(3);
      binaryen.setShrinkLevel(0);
      // Kernels stay separate functions (binaryen would inline each into run(), as each has one caller):
      // profiles then show them by name, and V8 compiles many small functions better than one huge one.
      // The same holds for the chunk functions split off a kernel (`kernel.N.name.np0`, ...): inlined into
      // their kernel they would run once per run again, in baseline code (chunks.ts).
      binaryen.setPassArgument('no-inline', `${KERNEL_PREFIX}*`);
      mod.runPasses(['no-inline']);
      binaryen.setPassArgument('no-inline', null);
      const flexible = binaryen.getFlexibleInlineMaxSize();
      binaryen.setFlexibleInlineMaxSize(HELPER_INLINE_MAX_SIZE);
      try {
        mod.optimize();
      } finally {
        binaryen.setFlexibleInlineMaxSize(flexible);
      }
    }
    // a copy on a plain ArrayBuffer, which is what WebAssembly.Module accepts under TypeScript's DOM types
    return new Uint8Array(mod.emitBinary());
  } finally {
    mod.dispose();
  }
}
