/**
 * Nearest Resize by whole factors on the last two axes as blocks: each input element stored to its kh×kw
 * block of the output, no source coordinates computed. Per output row the kw stores of an element are at
 * kw·iw + c, which the wasm loop vectorizer renders as shuffled f32x4 stores for kw = 2 and 4 (each input
 * vector written kw times), a plain copy for kw = 1. The static lowering (resize.ts) and the one of run-time
 * dims (compiler/symbolic-resize.ts) take it.
 */
import * as sym from '../../ir/symbolic.js';
import type { BufRef, Kernel } from '../../kernels/ir.js';
import { add, i32, load, local, loop, mul, store, v } from '../../kernels/build.js';
import { extentOf, kernelExprOf } from '../../kernels/extent.js';
import type { LowerIO } from '../registry.js';

/** The modes a nearest sampling is read under (Resize's attributes). */
interface NearestModes {
  mode: string;
  coord: string;
  nearest: string;
}

/**
 * Whether nearest sampling by the whole factor k reads input index ⌊o / k⌋ for every output index o: with
 * o = q·k + r (0 ≤ r < k), asymmetric is q + r/k, floored to q, or rounded half down to q when k = 2
 * (r/k ≤ 1/2); half_pixel (and pytorch_half_pixel, the output at least k long) is q + (r + ½)/k − ½, which
 * rounds to q either way at halves; tf_half_pixel_for_nn is q + (r + ½)/k, floored to q.
 */
export function readsBlocks(p: NearestModes, k: number): boolean {
  if (p.mode !== 'nearest' || !Number.isInteger(k) || k < 1) return false;
  switch (p.coord) {
    case 'asymmetric':
      return p.nearest === 'floor' || (p.nearest === 'round_prefer_floor' && k <= 2);
    case 'half_pixel':
    case 'pytorch_half_pixel':
      return p.nearest === 'round_prefer_floor' || p.nearest === 'round_prefer_ceil';
    case 'tf_half_pixel_for_nn':
      return p.nearest === 'floor';
    default:
      return false;
  }
}

/**
 * The kernel copying each element of x (its leading axes kept) to its kh×kw block of the output: x is
 * `source` (the node's input 0 unless given), the output starts `outputAt` elements into the node's
 * output (a Concat's block, passes/fold-concat-upsample.ts).
 */
export function upsampleBlocks(
  name: string,
  io: LowerIO,
  x: readonly sym.SymLike[],
  [kh, kw]: number[],
  source: BufRef = io.inputs[0]!,
  outputAt = 0,
): Kernel {
  const rank = x.length;
  const [H, W] = [x[rank - 2], x[rank - 1]];
  const OW = sym.mul(W, kw);
  const planes = x.slice(0, rank - 2).reduce<sym.SymLike>((s, d) => sym.mul(s, d), 1);
  const [q, ih, iw, r] = [v('q'), v('ih'), v('iw'), v('r')];
  const value = load(source, add(v('xrow'), iw));
  const row = loop('iw', extentOf(W), [
    ...Array.from({ length: kw }, (_, c) =>
      store(io.outputs[0], add(add(v('yrow'), mul(iw, i32(kw))), i32(c)), value),
    ),
  ]);
  const yrow = mul(add(mul(q, kernelExprOf(sym.mul(H, kh))), add(mul(ih, i32(kh)), r)), kernelExprOf(OW));
  const rows = loop('ih', extentOf(H), [
    local('xrow', 'i32', mul(add(mul(q, kernelExprOf(H)), ih), kernelExprOf(W))),
    loop('r', kh, [
      // Y[q, ih·kh + r, 0]
      local('yrow', 'i32', outputAt ? add(i32(outputAt), yrow) : yrow),
      row,
    ]),
  ]);
  return { name, body: [loop('q', extentOf(planes), [rows])] };
}
