/**
 * Sliding-window geometry shared by Conv, ConvTranspose and the pools: kernel, strides, dilations,
 * pads (explicit or from auto_pad) and output spatial sizes, plus the coordinate arithmetic of a tap.
 */
import type { Expr } from '../../kernels/ir.js';
import { add, i32, mul, sub } from '../../kernels/build.js';
import { attrInts, attrString, type OpContext } from '../registry.js';
import { allOf, fail, fmtShape, inRange } from './common.js';

export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
  padEnd: number[];
  /** output spatial sizes */
  out: number[];
}

export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

export function autoPadOf(ctx: OpContext): AutoPad {
  const v = attrString(ctx.node, 'auto_pad', 'NOTSET');
  // Older exporters wrote an empty string for "not set".
  if (v === '') return 'NOTSET';
  if (v !== 'NOTSET' && v !== 'SAME_UPPER' && v !== 'SAME_LOWER' && v !== 'VALID')
    fail(ctx, `auto_pad '${v}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  return v;
}

/** A per-spatial-dim int list attribute, defaulting to `dflt` everywhere, checked for length and minimum. */
export function spatialAttr(
  ctx: OpContext,
  name: string,
  rank: number,
  dflt: number,
  least: number,
): number[] {
  const v = attrInts(ctx.node, name, new Array<number>(rank).fill(dflt));
  if (v.length !== rank)
    fail(ctx, `attribute ${name} has ${v.length} values; expected ${rank} (one per spatial dim)`);
  if (v.some((x) => x < least)) fail(ctx, `attribute ${name} ${fmtShape(v)} has values below ${least}`);
  return v;
}

/** pads attribute as [begin..., end...]. */
export function padsAttr(ctx: OpContext, rank: number): { padBegin: number[]; padEnd: number[] } {
  const pads = attrInts(ctx.node, 'pads', new Array<number>(2 * rank).fill(0));
  if (pads.length !== 2 * rank) fail(ctx, `attribute pads has ${pads.length} values; expected ${2 * rank}`);
  if (pads.some((p) => p < 0)) fail(ctx, `attribute pads ${fmtShape(pads)} has negative values`);
  return { padBegin: pads.slice(0, rank), padEnd: pads.slice(rank) };
}

/**
 * Window geometry of a forward sliding window (Conv, pools) over `input` spatial sizes.
 * `ceil` (pools' ceil_mode) rounds the output size up but drops a last window that would start in
 * the end padding, as ONNX Runtime and PyTorch do.
 */
export function forwardWindow(ctx: OpContext, input: number[], kernel: number[], ceil = false): Window {
  const rank = input.length;
  const strides = spatialAttr(ctx, 'strides', rank, 1, 1);
  const dilations = spatialAttr(ctx, 'dilations', rank, 1, 1);
  const autoPad = autoPadOf(ctx);
  let { padBegin, padEnd } = padsAttr(ctx, rank);
  const out: number[] = [];
  const extent = kernel.map((k, d) => (k - 1) * dilations[d] + 1);
  if (autoPad === 'NOTSET') {
    for (let d = 0; d < rank; d++) {
      const span = input[d] + padBegin[d] + padEnd[d] - extent[d];
      if (span < 0)
        fail(
          ctx,
          `window extent ${extent[d]} exceeds padded input size ${input[d] + padBegin[d] + padEnd[d]} in spatial dim ${d}`,
        );
      let o = (ceil ? Math.ceil(span / strides[d]) : Math.floor(span / strides[d])) + 1;
      if (ceil && (o - 1) * strides[d] >= input[d] + padBegin[d]) o--;
      out.push(o);
    }
  } else if (autoPad === 'VALID') {
    padBegin = padBegin.map(() => 0);
    padEnd = padEnd.map(() => 0);
    for (let d = 0; d < rank; d++) {
      if (input[d] < extent[d])
        fail(ctx, `window extent ${extent[d]} exceeds input size ${input[d]} in spatial dim ${d}`);
      out.push(Math.floor((input[d] - extent[d]) / strides[d]) + 1);
    }
  } else {
    padBegin = [];
    padEnd = [];
    for (let d = 0; d < rank; d++) {
      const o = Math.ceil(input[d] / strides[d]);
      const total = Math.max(0, (o - 1) * strides[d] + extent[d] - input[d]);
      const small = Math.floor(total / 2);
      padBegin.push(autoPad === 'SAME_UPPER' ? small : total - small);
      padEnd.push(autoPad === 'SAME_UPPER' ? total - small : small);
      out.push(o);
    }
  }
  return { kernel, strides, dilations, padBegin, padEnd, out };
}

/** Input coordinate of output position `o` and window tap `k` along spatial dim d. */
export function tapCoord(w: Window, d: number, o: Expr, k: Expr): Expr {
  let e = w.strides[d] === 1 ? o : mul(o, i32(w.strides[d]));
  if (w.padBegin[d] !== 0) e = sub(e, i32(w.padBegin[d]));
  return add(e, w.dilations[d] === 1 ? k : mul(k, i32(w.dilations[d])));
}

/**
 * i32 condition that every coordinate lies inside `dims`, checking only the dims where some window
 * reaches outside (padding, or ceil_mode's partial last window); undefined when none does.
 */
export function insideInput(w: Window, coords: Expr[], dims: number[]): Expr | undefined {
  const conds: Expr[] = [];
  for (let d = 0; d < dims.length; d++) {
    const lastTap = (w.out[d] - 1) * w.strides[d] - w.padBegin[d] + (w.kernel[d] - 1) * w.dilations[d];
    if (w.padBegin[d] > 0 || lastTap >= dims[d]) conds.push(inRange(coords[d], dims[d]));
  }
  return allOf(conds);
}
