/** Multidirectional (NumPy-style) broadcasting, shared by elementwise ops, MatMul batch dims, Where... */
import type { Expr } from '../kernels/ir.js';
import { linearIndex, stridesOf } from '../kernels/build.js';

/** The broadcast of several shapes; throws with both shapes named when they are incompatible. */
export function broadcastShapes(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o])
        throw new Error(`shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')} cannot be broadcast`);
    }
  }
  return out;
}

/**
 * Linear index into a tensor of shape `inShape` for the output position `outIdx` of a broadcast
 * whose rank is outIdx.length (inShape aligned to the right; size-1 dims read index 0).
 */
export function broadcastIndex(outIdx: readonly Expr[], inShape: readonly number[]): Expr {
  const strides = stridesOf(inShape).map((s, i) => (inShape[i] === 1 ? 0 : s));
  const offset = outIdx.length - inShape.length;
  return linearIndex(outIdx.slice(offset), strides);
}
