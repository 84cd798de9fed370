/** Rendering of the GEMM statement: C = act(alpha * A·B + beta * Bias), float32. */
import type { GemmStmt, MatView } from '../../kernels/ir.js';
import { gemmToLoops } from '../../kernels/rewrite/gemm-to-loops.js';
import type { KernelEmitter } from './emitter.js';
import { renderSimdGemm, simdGemmForm } from './gemm-simd.js';

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

export function renderGemm(g: GemmStmt, emitter: KernelEmitter): string {
  checkViews(g);
  const form = simdGemmForm(g);
  if (form) return renderSimdGemm(g, emitter, form);
  return emitter.stmts(gemmToLoops(g, emitter.label('gemm') + '.', SCALAR_GEMM_COLUMNS));
}
