/**
 * What the statement renderers beside render.ts (gemm.ts, gemm-simd.ts, gemm-int8.ts) use of the kernel being rendered,
 * and the program context every kernel shares: types only, so those renderers and render.ts, which calls
 * them, import each other in one direction.
 */
import type { BufRef, Expr, Scalar, Stmt } from '../../kernels/ir.js';
import type { SymbolRanges } from '../../kernels/extent.js';
import type { Lanes } from './lanes.js';

/** What a kernel needs from the whole program: where buffers live, and which helpers were used. */
export interface ProgramContext {
  offsets: Map<number, number>;
  /** byte address of each shape symbol's int32 in the dims block */
  dims: Map<string, number>;
  /** the shape symbols' declared bounds */
  ranges: SymbolRanges;
  helpers: Set<string>;
  /** relaxed-SIMD instructions allowed */
  relaxedSimd: boolean;
  /** split large kernels' heavy loops into functions called in chunks (chunks.ts) */
  chunks: boolean;
  /**
   * Scratch memory the generated code owns, past the program's buffers (e.g. gemm's packed B panels):
   * `base` is its byte offset, `bytes` grows to the most any kernel asked for. Kernels run one at a time,
   * so they all share it.
   */
  scratch: { base: number; bytes: number };
}

/** An element address split as wasm wants it: a dynamic i32 byte address plus a constant `offset=`. */
export interface Address {
  addr: string;
  offset: number;
}

/**
 * A loop bound as the loop renderers take it: a number, or the id of an i32 local holding it (a run-time
 * extent, evaluated once when the loop starts).
 */
export type Bound = number | string;

/** The parts of render.ts's kernel renderer that gemm rendering calls back into. */
export interface KernelEmitter {
  readonly program: ProgramContext;
  /** a fresh wasm local of type `t` */
  temp(t: Scalar | 'v128', hint?: string): string;
  /** a fresh block/loop label */
  label(hint: string): string;
  /** Byte address of a scratch area of `bytes` bytes, valid until this kernel returns. */
  scratch(bytes: number): number;
  /** Byte address of element `index` of `buf`, with constant parts folded into the `offset=` immediate. */
  address(buf: BufRef, index: Expr, what: string): Address;
  /** `for (v = 0; v < n; v++) body` as a bottom-tested wasm loop (n > 0 is known statically). */
  countedLoop(counter: string, n: number, body: string): string;
  /**
   * `for (v = start; v < end; v += step) body`: bottom-tested when both bounds are static, else behind a
   * test that the loop runs at all.
   */
  rangeLoop(counter: string, start: Bound, end: Bound, step: number, body: string): string;
  /** `for (counter = lo; counter < hi; counter++) body` over the locals lo and hi, with lo < hi known. */
  dynamicLoop(counter: string, lo: string, hi: string, body: string): string;
  /** How many chunks a loop of n iterations doing `work` should be split into here; < 2: none. */
  chunksFor(n: number, work: number): number;
  /** A loop over [0, n) split into `chunks` calls of a new function of this kernel (see render.ts). */
  splitLoop(
    hint: string,
    n: Bound,
    chunks: number,
    liveIns: string[],
    render: (lo: string, hi: string) => string,
  ): string;
  /**
   * A `map` activation's expression (see Activation) of `input`, a rendered value as wide as `lanes`,
   * rendered with those lanes.
   */
  mapped(value: Expr, input: string, lanes: Lanes): string;
  /** Kernel IR statements rendered as WAT. */
  stmts(list: Stmt[]): string;
  /** A Kernel IR expression rendered as WAT (a run-time row stride, say). */
  expr(e: Expr): string;
}
