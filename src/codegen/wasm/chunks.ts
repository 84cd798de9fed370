/**
 * How large kernels are split into functions called many times, so that the first run after load is
 * not spent in V8's baseline code.
 *
 * V8 (Node 20: V8 11.3) compiles every wasm function first with Liftoff. Liftoff code counts down a
 * per-function budget (--wasm-tiering-budget, 1.8 M, "roughly bytes executed") at loop back edges and
 * returns; when it runs out, the function is queued for TurboFan on a background thread, and the
 * optimized code is used from the function's NEXT call (there is no on-stack replacement for wasm).
 * A kernel that is one function called once per run therefore runs all of the first run in Liftoff,
 * 3–6× slower. The budget is spent within microseconds by any hot loop, so what decides how much of a
 * kernel runs optimized is how soon it is called again: the heavy loop of a large kernel becomes a
 * function taking a range of its iterations, called in chunks from the kernel. The first chunk or
 * two run in Liftoff while TurboFan compiles the chunk function (a small function: milliseconds), the
 * rest run optimized.
 */
import type { Expr, Extent, Stmt } from '../../kernels/ir.js';

/**
 * Work of one chunk (units: see workOf; about one multiply-add of gemm) worth a call: ~0.1 ms of
 * optimized code, so the call costs nothing measurable and a chunk run in Liftoff costs little.
 */
export const CHUNK_WORK = 1 << 19;
/** Most chunks per loop: enough that the ones run before TurboFan's code is ready are a small share. */
export const MAX_CHUNKS = 48;
/** A loop with fewer iterations than this (and than the chunks wanted) is not split itself: its body is. */
export const MIN_SPLIT = 8;

/** How many chunks `work` units over `n` iterations should run in; 0 or 1 means do not split. */
export function chunkCount(n: number, work: number): number {
  const want = Math.min(MAX_CHUNKS, Math.floor(work / CHUNK_WORK));
  return want < 2 ? 0 : Math.min(n, want);
}

function exprSize(e: Expr): number {
  switch (e.k) {
    case 'const':
    case 'var':
    case 'dim':
      return 1;
    case 'load':
      return 1 + exprSize(e.index);
    case 'bin':
    case 'cmp':
      return 1 + exprSize(e.a) + exprSize(e.b);
    case 'un':
    case 'cast':
      return 1 + exprSize(e.a);
    case 'select':
      return 1 + exprSize(e.cond) + exprSize(e.a) + exprSize(e.b);
  }
}

/**
 * A rough count of the work statements do: expression nodes evaluated, M·N·K for a gemm; a loop's
 * extent counts as `bound` says (the upper bound of a run-time one).
 */
export function workOf(list: Stmt[], bound: (n: Extent) => number): number {
  let sum = 0;
  for (const s of list) {
    switch (s.k) {
      case 'loop':
        sum += bound(s.n) * workOf(s.body, bound);
        break;
      case 'local':
        sum += exprSize(s.init);
        break;
      case 'set':
        sum += exprSize(s.value);
        break;
      case 'store':
        sum += exprSize(s.index) + exprSize(s.value);
        break;
      case 'if':
        sum += exprSize(s.cond) + Math.max(workOf(s.then, bound), workOf(s.else ?? [], bound));
        break;
      case 'gemm':
        sum += s.M * s.N * s.K;
        break;
    }
  }
  return sum;
}

function exprVars(e: Expr, out: Set<string>): void {
  switch (e.k) {
    case 'const':
    case 'dim':
      return;
    case 'var':
      out.add(e.name);
      return;
    case 'load':
      return exprVars(e.index, out);
    case 'bin':
    case 'cmp':
      exprVars(e.a, out);
      return exprVars(e.b, out);
    case 'un':
    case 'cast':
      return exprVars(e.a, out);
    case 'select':
      exprVars(e.cond, out);
      exprVars(e.a, out);
      return exprVars(e.b, out);
  }
}

/**
 * The names a loop reads from outside it (`free`), and whether it assigns (`set`) any of them: a loop
 * that does (e.g. a reduction into an outer accumulator) cannot move into a function of its own.
 */
export function freeNames(s: Extract<Stmt, { k: 'loop' }>): { free: string[]; setsOuter: boolean } {
  const used = new Set<string>();
  const assigned = new Set<string>();
  const declared = new Set<string>([s.v]);
  const walk = (list: Stmt[]): void => {
    for (const st of list) {
      switch (st.k) {
        case 'loop':
          declared.add(st.v);
          walk(st.body);
          break;
        case 'local':
          declared.add(st.name);
          exprVars(st.init, used);
          break;
        case 'set':
          assigned.add(st.name);
          exprVars(st.value, used);
          break;
        case 'store':
          exprVars(st.index, used);
          exprVars(st.value, used);
          break;
        case 'if':
          exprVars(st.cond, used);
          walk(st.then);
          walk(st.else ?? []);
          break;
        case 'gemm':
          for (const view of [st.a, st.b, st.c, st.bias, st.int8?.scales])
            if (view) exprVars(view.offset, used);
          break;
      }
    }
  };
  walk(s.body);
  return {
    free: [...used].filter((n) => !declared.has(n)),
    setsOuter: [...assigned].some((n) => !declared.has(n)),
  };
}
