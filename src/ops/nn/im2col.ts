/**
 * im2col for float32 Conv: copies the windows of one (n, group) slice of X into a scratch matrix
 * [Cg·kprod, outS] that the gemm statement multiplies by the weights.
 *
 * The innermost spatial dim is split per kernel tap into three static ranges (left padding, interior,
 * right padding), so no element needs a bounds check: padding becomes zero-fill loops and the interior a
 * plain copy, both of which the wasm codegen vectorizes when the stride is 1. The outer spatial dims are
 * checked once per row.
 */
import { sizeOf } from '../../ir/tensor.js';
import type { BufRef, Expr, Stmt } from '../../kernels/ir.js';
import {
  add,
  f32,
  forEachIndex,
  i32,
  linearIndex,
  loop,
  mul,
  store,
  stridesOf,
  v,
  when,
} from '../../kernels/build.js';
import { loadAs } from './common.js';
import { insideInput, tapCoord, type Window } from './window.js';

/** Output positions [lo, hi) along dim d whose tap k lands inside an input of size `size`. */
export function interiorRange(w: Window, d: number, k: number, size: number): [number, number] {
  const s = w.strides[d];
  const shift = k * w.dilations[d] - w.padBegin[d];
  const lo = Math.min(w.out[d], Math.max(0, Math.ceil(-shift / s)));
  const hi = Math.max(lo, Math.min(w.out[d], Math.floor((size - 1 - shift) / s) + 1));
  return [lo, hi];
}

/** A row of `count` elements at `dst + j` for j in [from, from + count), as one loop named `name`. */
function rowLoop(name: string, from: number, count: number, body: (j: Expr) => Stmt[]): Stmt[] {
  if (count <= 0) return [];
  return [loop(name, count, body(add(v(name), i32(from))))];
}

/** Output rows [first, first + rows) of spatial dim 0 (first: an i32 expression), for banded im2col. */
export interface Band {
  first: Expr;
  rows: number;
}

/**
 * Statements filling `col` ([Cg, ...kernel, ...out] row-major) from X's channels starting at `channel0`
 * (an element index expression of channel 0's first element is `channel0 · inS`). With `band` (rank ≥ 2),
 * only those output rows of dim 0: `col` is then [Cg, ...kernel, band.rows, ...out[1..]].
 */
export function im2col(
  X: BufRef,
  col: BufRef,
  channel0: Expr,
  Cg: number,
  inSpatial: number[],
  w: Window,
  band?: Band,
): Stmt[] {
  const rank = inSpatial.length;
  const last = rank - 1;
  if (band && rank < 2) throw new Error('internal error: a banded im2col needs two or more spatial dims');
  const inS = sizeOf(inSpatial);
  // the output positions this call fills: all of them, or the band's rows of dim 0
  const filled = band ? [band.rows, ...w.out.slice(1)] : w.out;
  const outS = sizeOf(filled);
  const rowLen = w.out[last];
  const outer: Window = {
    kernel: w.kernel.slice(0, last),
    strides: w.strides.slice(0, last),
    dilations: w.dilations.slice(0, last),
    padBegin: w.padBegin.slice(0, last),
    padEnd: w.padEnd.slice(0, last),
    out: w.out.slice(0, last),
  };
  const kStrides = stridesOf(w.kernel);
  const inStrides = stridesOf(inSpatial);
  return forEachIndex([Cg, ...outer.kernel], 'i', ([c, ...kOuter]) =>
    Array.from({ length: w.kernel[last] }, (_, kl) => {
      const tag = `i_${kl}_`;
      const [lo, hi] = interiorRange(w, last, kl, inSpatial[last]);
      return forEachIndex(filled.slice(0, last), `${tag}o`, (oOuter) => {
        const tap = linearIndex([...kOuter, i32(kl)], kStrides);
        const dst = (j: Expr): Expr =>
          add(
            add(
              mul(add(mul(c, i32(sizeOf(w.kernel))), tap), i32(outS)),
              linearIndex(oOuter, stridesOf(filled).slice(0, last)),
            ),
            j,
          );
        const zeros = (name: string, from: number, count: number) =>
          rowLoop(name, from, count, (j) => [store(col, dst(j), f32(0))]);
        const coords = oOuter.map((o, d) =>
          tapCoord(w, d, d === 0 && band ? add(o, band.first) : o, kOuter[d]),
        );
        const rowStart = add(mul(add(channel0, c), i32(inS)), linearIndex(coords, inStrides.slice(0, last)));
        // input column of output position lo + j, kept as `j·stride + constant` so that a unit stride
        // reads as a unit-stride load to the vectorizer
        const stride = w.strides[last];
        const first = lo * stride - w.padBegin[last] + kl * w.dilations[last];
        const copy = rowLoop(`${tag}m`, 0, hi - lo, (j) => {
          const x = add(add(rowStart, stride === 1 ? j : mul(j, i32(stride))), i32(first));
          return [store(col, dst(add(j, i32(lo))), loadAs('f32', X, x))];
        });
        const row = [...zeros(`${tag}l`, 0, lo), ...copy, ...zeros(`${tag}r`, hi, rowLen - hi)];
        const inside = insideInput(outer, coords, inSpatial.slice(0, last));
        return inside ? [when(inside, row, zeros(`${tag}z`, 0, rowLen))] : row;
      });
    }).flat(),
  );
}
