/**
 * WGSL code generator: Kernel IR Program → one WGSL module plus its dispatch schedule. The storage
 * bindings (bindings.ts) together mirror the wasm module's linear memory byte for byte, each a
 * contiguous range of it, so the Program's buffer offsets hold for both targets; each entry point binds
 * the ranges it touches.
 */
import type { Kernel, PlacedBuffer, Program, Stmt } from '../../kernels/ir.js';
import { unsupported } from './types.js';
import { renderHelpers } from './helpers.js';
import { parallelNest, type ParallelNest } from '../../kernels/analysis/parallel.js';
import { renderEntry } from './render.js';
import { renderTiledGemm, tiledGemmFits } from './gemm.js';
import { halfEligible } from './half.js';
import { MemoryBindings, type Segment } from './bindings.js';
import { demoteF64 } from '../../kernels/rewrite/demote-f64.js';
import { dissolveTrivialLoops } from '../../kernels/rewrite/dissolve-loops.js';
import { sinkLocals } from '../../kernels/rewrite/sink-locals.js';
import { splitIndependent } from '../../kernels/rewrite/split-independent.js';
import { gemmsToLoops } from '../../kernels/rewrite/gemm-to-loops.js';
import { rewriteKernel, type Rewrite } from '../../kernels/rewrite/pipeline.js';
import { rangesOf, shapeExprOf, type SymbolRanges } from '../../kernels/extent.js';
import * as sym from '../../ir/symbolic.js';
import type { Polynomial } from '../../ir/symbolic.js';
import { dimsBlockProblem, isDimsWord } from '../../kernels/verify.js';

/** One compute dispatch of the schedule (the bundle's manifest records these as they are). */
export interface WgslDispatch {
  /** the entry point's name in the module */
  entry: string;
  /** the Kernel IR kernel it runs (usually the node name), for errors and profiles */
  kernel: string;
  /** at the upper bounds of the shape symbols */
  workgroups: [number, number, number];
  /** an upper bound of the count of invocations when shape symbols decide it (the runtime sizes the dispatch per run) */
  invocations?: Polynomial;
  /** the storage bindings (indices into the segments) the entry point uses */
  bindings: number[];
  /** the same computed in f16, for adapters with shader-f16 (half.ts) */
  f16Entry?: string;
}

export interface WgslProgram {
  code: string;
  /** where in `code` the entry points computing in f16 begin (absent when no kernel has one) */
  halfFrom?: number;
  /** the Program's memory, rounded up to whole words: the segments' total */
  memoryBytes: number;
  /** binding i: the range of linear memory it holds */
  segments: Segment[];
  init: WgslDispatch[];
  run: WgslDispatch[];
}

/**
 * The rewrites the webgpu target applies to every kernel before splitting it into dispatches: WGSL has
 * no f64; loops of one iteration would hide the nests worth spreading; locals declared outside a row loop
 * would tie its iterations together.
 */
export const wgslRewrites: readonly Rewrite[] = [demoteF64, dissolveTrivialLoops, sinkLocals];

/**
 * A dispatch's gemms that are not a whole tiled dispatch run as loops of one output column per block, so
 * that each (row, column) can be an invocation of its own.
 */
export const lowerDispatchGemms: Rewrite = (body) => gemmsToLoops(body, 1);

/** A kernel's body after wgslRewrites; a rewrite's refusal (demoteF64's) is a limit of this target. */
function rewritten(kernel: Kernel): Stmt[] {
  try {
    return rewriteKernel(kernel, wgslRewrites).body;
  } catch (err) {
    throw unsupported((err as Error).message);
  }
}

function entryName(index: number, kernel: string): string {
  const clean = kernel.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '');
  return `k${index}_${clean.slice(0, 48)}`;
}

export interface WgslOptions {
  /** the largest storage binding, in bytes (a multiple of 16): tests make it small */
  bindingBytes?: number;
  /** byte offsets where a binding should start (the weights region's bounds) */
  cuts?: readonly number[];
}

export function compileProgramWgsl(program: Program, options: WgslOptions = {}): WgslProgram {
  const offsets = new Map<number, number>();
  const placed = new Map<number, PlacedBuffer>();
  for (const b of program.buffers) {
    // a counted size's word of the dims block (4-byte aligned) is only stored into as one word
    if (b.offset % 16 !== 0 && !isDimsWord(program, b))
      throw new Error(`webgpu codegen: buffer #${b.id} offset ${b.offset} is not 16-byte aligned`);
    offsets.set(b.id, b.offset);
    placed.set(b.id, b);
  }
  const dimsProblem = dimsBlockProblem(program);
  if (dimsProblem) throw new Error(`webgpu codegen: ${dimsProblem}`);
  const symbols = program.dims?.symbols ?? [];
  const dims = new Map(symbols.map((s, i) => [s.name, program.dims!.offset + 4 * i]));
  const ranges = rangesOf(symbols);
  const memory = new MemoryBindings(program, options.bindingBytes, options.cuts);
  const entries: string[] = [];
  const halfEntries: string[] = [];
  const dispatchesOf = (kernel: Kernel): WgslDispatch[] => {
    try {
      return splitIndependent(rewritten(kernel)).map((part) => {
        const entry = entryName(entries.length, kernel.name);
        const gemm = part.length === 1 && part[0].k === 'gemm' ? part[0] : undefined;
        let rendered;
        let invocations: Polynomial | undefined;
        let f16Entry: string | undefined;
        if (gemm && tiledGemmFits(gemm, offsets))
          rendered = renderTiledGemm(gemm, entry, offsets, dims, memory);
        else {
          const body = lowerDispatchGemms(part);
          const nest = parallelNest(body, placed, ranges);
          rendered = renderEntry(entry, body, nest, offsets, dims, memory);
          invocations = nest && runTimeCount(nest, ranges);
          if (halfEligible(body)) {
            f16Entry = `${entry}_f16`;
            halfEntries.push(renderEntry(f16Entry, body, nest, offsets, dims, memory, true).code);
          }
        }
        entries.push(rendered.code);
        return {
          entry,
          kernel: kernel.name,
          workgroups: rendered.workgroups,
          ...(invocations && { invocations }),
          bindings: rendered.bindings,
          ...(f16Entry && { f16Entry }),
        };
      });
    } catch (err) {
      throw new Error(`webgpu codegen: kernel "${kernel.name}": ${(err as Error).message}`, { cause: err });
    }
  };
  const init = program.init.flatMap(dispatchesOf);
  const run = program.run.flatMap(dispatchesOf);
  const kernels = entries.join('\n\n');
  const helpers = new Set<string>();
  const code = `${memory.declarations()}\n\n${kernels}\n\n${renderHelpers(kernels, helpers)}\n`;
  const half = halfEntries.join('\n\n');
  return {
    code: half ? `${code}\n${half}\n\n${renderHelpers(half, helpers)}\n` : code,
    ...(half && { halfFrom: code.length }),
    memoryBytes: memory.total,
    segments: memory.segments(),
    init,
    run,
  };
}

/**
 * An upper bound of a spread nest's count of invocations, as a polynomial in the shape symbols, when an
 * extent is known only at run time and each extent has one; else undefined (the dispatch keeps its bound
 * size). Row-blocked kernels count floor(rows/16) blocks: bounded by rows/16, which shrinks with the rows.
 */
function runTimeCount(nest: ParallelNest, ranges: SymbolRanges): Polynomial | undefined {
  if (nest.loops.every(({ n }) => typeof n === 'number')) return undefined;
  let count: Polynomial = { c: 1, terms: [] };
  for (const { n } of nest.loops) {
    const extent = typeof n === 'number' ? n : shapeExprOf(n, ranges);
    const upper = typeof extent === 'string' ? undefined : sym.upperPolynomial(extent, ranges);
    if (!upper) return undefined;
    count = sym.multiplyPolynomials(count, upper);
  }
  // a bound without symbols is no tighter than the dispatch's size at the bounds
  return count.terms.length > 0 ? count : undefined;
}
