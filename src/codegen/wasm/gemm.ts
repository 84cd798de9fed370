/** Rendering of the GEMM statement: C = act(alpha * A·B + beta * Bias + Residual), float32. */
import type { Activation, Expr, GemmStmt, MatView, Stmt } from '../../kernels/ir.js';
import { load, parallelLoop, store, v } from '../../kernels/build.js';
import { activate, at } from '../../kernels/rewrite/epilogue.js';
import { flatMapGemms, someExpr } from '../../kernels/walk.js';
import { VECTOR_MATH } from './mathlib/vector.js';
import { gemmsToLoops } from '../../kernels/rewrite/gemm-to-loops.js';
import type { Rewrite } from '../../kernels/rewrite/pipeline.js';
import type { KernelEmitter } from './emitter.js';
import { renderSimdGemm, simdGemmForm } from './gemm-simd.js';
import { renderInt8Gemm } from './gemm-int8.js';

/** Output columns per block of the scalar fallback: four accumulators share each A[m,k] load. */
const SCALAR_GEMM_COLUMNS = 4;

function checkViews(g: GemmStmt): void {
  const views: [string, MatView | undefined][] = [
    ['A', g.a],
    ['B', g.b],
    ['C', g.c],
    ['bias', g.bias],
    ['residual', g.residual],
  ];
  for (const [name, view] of views) {
    if (view && view.buf.dtype !== 'float32')
      throw new Error(
        `gemm ${name} must be a float32 buffer, found ${view.buf.dtype} (buffer #${view.buf.id})`,
      );
  }
}

/** Gemms no SIMD form fits become loops (a rewrite the wasm target applies before rendering). */
export const scalarGemmFallback: Rewrite = (body) =>
  gemmsToLoops(body, SCALAR_GEMM_COLUMNS, (g) => !simdGemmForm(g));

/**
 * A `map` activation that calls an f32x4 math helper (exp, erf, tanh, log) runs as a pass over C right
 * after its gemm, not in the tile's stores: V8 keeps no register across a call, so a call per stored
 * vector spilled and reloaded the tile's other accumulators and pointers (crnn-rec's MatMul + GELU).
 * The pass is a loop over C's rows and unit-stride columns, which the loop vectorizer renders as f32x4.
 */
export const callingMapsAfterGemm: Rewrite = (body) => {
  let count = 0;
  const calls = (g: GemmStmt) =>
    g.act?.op === 'map' &&
    someExpr(g.act.value, (e) => e.k === 'un' && (VECTOR_MATH as readonly string[]).includes(e.op));
  return flatMapGemms(body, (s) => {
    if (!calls(s)) return [s];
    const { act, ...gemm } = s;
    return [gemm, activationPass(s, act!, `map${count++}.`)];
  });
};

/**
 * A pass over `g`'s C that stores `value(m, n)` at each element: a loop over C's rows and unit-stride
 * columns (variables `prefix`m and `prefix`n), which the loop vectorizer renders as f32x4.
 */
export function passOverC(g: GemmStmt, prefix: string, value: (m: Expr, n: Expr) => Expr): Stmt {
  const [m, n] = [v(prefix + 'm'), v(prefix + 'n')];
  return parallelLoop(prefix + 'm', g.M, [
    parallelLoop(prefix + 'n', g.N, [store(g.c.buf, at(g.c, m, n), value(m, n))]),
  ]);
}

/** `act` applied to `g`'s C in place, as a pass after the gemm. */
export const activationPass = (g: GemmStmt, act: Activation, prefix: string): Stmt =>
  passOverC(g, prefix, (m, n) => activate(act, load(g.c.buf, at(g.c, m, n))));

export function renderGemm(g: GemmStmt, emitter: KernelEmitter): string {
  if (g.int8) return renderInt8Gemm(g, emitter);
  checkViews(g);
  const form = simdGemmForm(g);
  if (!form)
    throw new Error('internal: a gemm without a SIMD form reached the renderer (scalarGemmFallback)');
  return renderSimdGemm(g, emitter, form);
}
