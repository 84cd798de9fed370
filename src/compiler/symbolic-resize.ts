/**
 * Resize (nearest or linear) of a tensor whose dims are known only at run time (shape rule:
 * passes/symbolic-spatial.ts; attributes: passes/resize-attributes.ts). As the static kernel
 * (ops/shape/resize.ts), each resized axis maps its output index to an f64 source coordinate as the ONNX
 * reference does and reads 1 (nearest) or 2 (linear) clamped taps; the input and output sizes, and the
 * scale when the sizes input gives the output dims (out / in), are read from the dims block.
 */
import * as sym from '../ir/symbolic.js';
import type { Expr, Kernel, Stmt } from '../kernels/ir.js';
import { scalarOf } from '../kernels/ir.js';
import {
  add,
  bin,
  cast,
  cmp,
  f32,
  f64,
  i32,
  load,
  local,
  max,
  min,
  mul,
  select,
  store,
  sub,
  un,
  v,
} from '../kernels/build.js';
import { kernelExprOf } from '../kernels/extent.js';
import { OpError, type LowerIO } from '../ops/registry.js';
import { resizeAttributes, type ResizeAttributes } from '../passes/resize-attributes.js';
import { roundNearest } from '../ops/shape/resize.js';
import { readsBlocks, upsampleBlocks } from '../ops/shape/upsample-blocks.js';
import { indexOf, strides } from '../kernels/extent.js';
import { forEach } from './symbolic-kernels.js';
import type { RowsStep } from './rows-step.js';

const asF64 = (d: sym.SymLike): Expr => {
  const n = sym.constValue(d);
  return n === undefined ? cast('f64', kernelExprOf(d)) : f64(n);
};

/** The f64 source coordinate of output index `o` (f64) on an axis of `inDim` → `outDim`. */
function sourceCoord(p: ResizeAttributes, o: Expr, inDim: sym.SymLike, outDim: sym.SymLike, a: number): Expr {
  const scale = p.scales ? f64(p.scales[a]) : bin('div', asF64(outDim), asF64(inDim));
  const halfPixel = sub(bin('div', add(o, f64(0.5)), scale), f64(0.5));
  switch (p.coord) {
    case 'asymmetric':
      return bin('div', o, scale);
    case 'half_pixel':
      return halfPixel;
    case 'pytorch_half_pixel':
      return select(cmp('gt', kernelExprOf(outDim), i32(1)), halfPixel, f64(0));
    case 'tf_half_pixel_for_nn':
      return bin('div', add(o, f64(0.5)), scale);
    case 'align_corners': {
      // the reference divides by the unrounded output width scale·in − 1
      const width = mul(scale, asF64(inDim));
      const coord = bin('div', mul(o, sub(asF64(inDim), f64(1))), sub(width, f64(1)));
      return select(cmp('eq', width, f64(1)), f64(0), coord);
    }
  }
}

interface Tap {
  index: Expr;
  weight?: Expr;
}

/** Largest whole factor `upsampleFactor` looks for when the sizes input gives the output dims. */
const MAX_FACTOR = 8;

/**
 * k when the Resize copies each input element of the last two axes to a k×k block (nearest, source
 * index floor(o / k) under its modes: `readsBlocks`; asymmetric with floor is the
 * `F.interpolate(mode='nearest')` export) and keeps the leading axes; undefined otherwise.
 */
function upsampleFactor(
  p: ResizeAttributes,
  x: readonly sym.SymLike[],
  out: readonly sym.SymLike[],
): number | undefined {
  const rank = x.length;
  if (p.mode !== 'nearest' || rank < 3) return undefined;
  if (!x.slice(0, rank - 2).every((d, a) => sym.symEqual(d, out[a]) && (p.scales?.[a] ?? 1) === 1))
    return undefined;
  const factors = [rank - 2, rank - 1].map((a) => {
    const candidates = p.scales ? [p.scales[a]] : Array.from({ length: MAX_FACTOR - 1 }, (_, i) => i + 2);
    return candidates.find(
      (k) =>
        Number.isInteger(k) &&
        k >= 2 &&
        k <= MAX_FACTOR &&
        readsBlocks(p, k) &&
        sym.symEqual(out[a], sym.mul(x[a], k)),
    );
  });
  return factors[0] !== undefined && factors[0] === factors[1] ? factors[0] : undefined;
}

export function symbolicResize(step: RowsStep, io: LowerIO): Kernel {
  const x = step.inputTypes[0]!.symbolic ?? step.inputTypes[0]!.shape;
  const out = step.outputTypes[0].symbolic ?? step.outputTypes[0].shape;
  const p = resizeAttributes(step.ctx, x.length);
  if (typeof p === 'string') throw new OpError(step.node, step.ctx.opset, `${p} is unsupported here`);
  const factor = io.forGpu ? undefined : upsampleFactor(p, x, out);
  if (factor !== undefined) return upsampleBlocks(step.node.name, io, x, [factor, factor]);
  const dtype = scalarOf(step.outputTypes[0].dtype);
  if (p.mode === 'linear' && dtype !== 'f32')
    throw new OpError(
      step.node,
      step.ctx.opset,
      'linear Resize of dims known only at run time is float32 only',
    );
  const body = forEach(out, 'd', (idx) => {
    const stmts: Stmt[] = [];
    const perAxis: Tap[][] = out.map((o, a) => {
      if (sym.symEqual(o, x[a]) && (p.scales?.[a] ?? 1) === 1) return [{ index: idx[a] }];
      const clamp = (e: Expr) => min(max(e, i32(0)), sub(kernelExprOf(x[a]), i32(1)));
      stmts.push(local(`x${a}`, 'f64', sourceCoord(p, cast('f64', idx[a]), x[a], o, a)));
      const coord = v(`x${a}`, 'f64');
      if (p.mode === 'nearest') {
        stmts.push(local(`n${a}`, 'i32', clamp(cast('i32', roundNearest(p.nearest, coord)))));
        return [{ index: v(`n${a}`) }];
      }
      stmts.push(local(`f${a}`, 'f64', un('floor', coord)));
      stmts.push(local(`t${a}`, 'f32', cast('f32', sub(coord, v(`f${a}`, 'f64')))));
      const base = cast('i32', v(`f${a}`, 'f64'));
      const t = v(`t${a}`, 'f32');
      return [
        { index: clamp(base), weight: sub(f32(1), t) },
        { index: clamp(add(base, i32(1))), weight: t },
      ];
    });
    // Σ over every combination of one tap per axis of (Π weights) · x[indices]
    let terms: Tap[][] = [[]];
    for (const taps of perAxis) terms = terms.flatMap((t) => taps.map((tap) => [...t, tap]));
    const inStrides = strides(x);
    const values = terms.map((combo) => {
      const value = load(
        io.inputs[0]!,
        indexOf(
          combo.map((t) => t.index),
          inStrides,
        ),
      );
      const weights = combo.flatMap((t) => (t.weight ? [t.weight] : []));
      return weights.reduce((e, w) => mul(e, w), value);
    });
    const result = values.reduce((s, e) => add(s, e));
    return [...stmts, store(io.outputs[0], indexOf(idx, strides(out)), result)];
  });
  return { name: step.node.name, body };
}
