/**
 * f16 compute for kernels on float16 tensors, where the adapter has `shader-f16`. A kernel whose buffers
 * are all float16 gets a second entry point computing its float values in WGSL f16 (the four arithmetic
 * operators, negation and comparisons; math functions and min/max through f32, rounded back), which the
 * runtime uses instead of the f32 one on such adapters. These entry points come after `halfFrom` in the
 * module, with `enable f16` left to the runtime: an adapter without the feature never sees them.
 */
import type { BinOp, Stmt } from '../../kernels/ir.js';
import { buffersOf, forEachExpr } from '../../kernels/walk.js';

/** The binary operators computed in f16 itself (an f16 operation rounds as f32's then rounded to f16 does). */
export const HALF_INFIX: Partial<Record<BinOp, string>> = { add: '+', sub: '-', mul: '*', div: '/' };

/** f16's largest finite value */
const HALF_MAX = 65504;

/** An f16 literal of `x` (within ±HALF_MAX, checked by halfEligible). */
export function halfLiteral(x: number): string {
  return x < 0 ? `(${x}h)` : `${x}h`;
}

/**
 * Whether the dispatch `body` gets an f16 twin: every buffer it touches is float16 (so f16 holds each value
 * it loads and stores exactly) and every float constant is a finite f16 (a reduction starting from -inf
 * stays f32).
 */
export function halfEligible(body: Stmt[]): boolean {
  const buffers = body.flatMap(buffersOf);
  if (buffers.length === 0 || buffers.some((b) => b.dtype !== 'float16')) return false;
  let constantsFit = true;
  for (const s of body)
    forEachExpr(s, (e) => {
      if (e.k === 'const' && e.t === 'f32') {
        const x = Number(e.v);
        constantsFit &&= Number.isFinite(x) && Math.abs(x) <= HALF_MAX && !Object.is(x, -0);
      }
      constantsFit &&= e.t !== 'f64';
    });
  return constantsFit;
}
