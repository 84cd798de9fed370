/**
 * Linear Resize by exactly 2 on the last two axes with half-pixel centres (half_pixel, or
 * pytorch_half_pixel: the same for outputs longer than 1), the bilinear ×2 upsampling of FPNs and
 * segmentation heads: the weights are fixed, so instead of tap tables and four gathers per element each
 * output row blends its two input rows into a scratch row (¾ of its own row, ¼ of the one above for an
 * even output row, below for an odd one, clamped at the edges), then writes its columns in pairs,
 * out[2j+1] = ¾·t[j] + ¼·t[j+1] and out[2j+2] = ¼·t[j] + ¾·t[j+1], the first and last columns t[0] and
 * t[W−1]. Both loops vectorize (the pairs as interleaved stores, codegen/wasm/vectorize.ts).
 */
import type { Expr, Kernel, Stmt } from '../../kernels/ir.js';
import { add, f32, i32, load, local, loop, max, min, mul, store, sub, v } from '../../kernels/build.js';
import type { LowerIO } from '../registry.js';

/**
 * Whether a linear Resize of these modes from `x` to `out` with `scales` (each a number, or an expression
 * read at run time) doubles its last two axes and keeps the others.
 */
export function isLinearDoubling(
  p: { mode: string; coord: string },
  x: readonly number[],
  out: readonly unknown[],
  scales: readonly unknown[],
): boolean {
  const r = x.length;
  if (p.mode !== 'linear' || (p.coord !== 'half_pixel' && p.coord !== 'pytorch_half_pixel') || r < 3)
    return false;
  const kept = x.slice(0, r - 2).every((d, a) => out[a] === d && scales[a] === 1);
  const doubled = [r - 2, r - 1].every((a) => x[a] >= 2 && out[a] === 2 * x[a] && scales[a] === 2);
  return kept && doubled;
}

export function linearDoubling(name: string, io: LowerIO, x: readonly number[]): Kernel {
  const r = x.length;
  const [H, W] = [x[r - 2], x[r - 1]];
  const planes = x.slice(0, r - 2).reduce((s, d) => s * d, 1);
  const [X, Y] = [io.inputs[0]!, io.outputs[0]];
  const t = io.scratch('float32', W);
  const [q, ih] = [v('q'), v('ih')];
  const blend = (a: Expr, b: Expr) => add(mul(a, f32(0.75)), mul(b, f32(0.25)));
  const row = (ofRow: Expr) => add(mul(q, i32(H * W)), mul(ofRow, i32(W)));
  /** output row 2·ih + odd, its second input row `other` (names suffixed: unique within the kernel) */
  const outputRow = (odd: number, other: Expr): Stmt[] => {
    const [xa, xb, y, blended, paired] = ['xa', 'xb', 'y', 'b', 'j'].map((n) => `${n}${odd}`);
    const [b, j] = [v(blended), v(paired)];
    const [tj, tNext] = [load(t, j), load(t, add(j, i32(1)))];
    return [
      local(xa, 'i32', row(ih)),
      local(xb, 'i32', row(other)),
      loop(blended, W, [store(t, b, blend(load(X, add(v(xa), b)), load(X, add(v(xb), b))))]),
      local(y, 'i32', mul(add(mul(q, i32(2 * H)), add(mul(ih, i32(2)), i32(odd))), i32(2 * W))),
      store(Y, v(y), load(t, i32(0))),
      loop(paired, W - 1, [
        store(Y, add(v(y), add(mul(j, i32(2)), i32(1))), blend(tj, tNext)),
        store(Y, add(v(y), add(mul(j, i32(2)), i32(2))), blend(tNext, tj)),
      ]),
      store(Y, add(v(y), i32(2 * W - 1)), load(t, i32(W - 1))),
    ];
  };
  const body = loop('q', planes, [
    loop('ih', H, [
      ...outputRow(0, max(sub(ih, i32(1)), i32(0))),
      ...outputRow(1, min(add(ih, i32(1)), i32(H - 1))),
    ]),
  ]);
  return { name, body: [body] };
}
