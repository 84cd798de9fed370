/** Rendering of the GEMM statement: C = act(alpha * A·B + beta * Bias), float32. */
import type { GemmStmt, MatView } from '../../kernels/ir.js';
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

export function renderGemm(g: GemmStmt, emitter: KernelEmitter): string {
  if (g.int8) return renderInt8Gemm(g, emitter);
  checkViews(g);
  const form = simdGemmForm(g);
  if (!form)
    throw new Error('internal: a gemm without a SIMD form reached the renderer (scalarGemmFallback)');
  return renderSimdGemm(g, emitter, form);
}
