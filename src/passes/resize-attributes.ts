/**
 * What a Resize over dims known only at run time reads of its attributes and inputs (the shape rule in
 * symbolic-spatial.ts and the kernel in compiler/symbolic-resize.ts), or why it cannot run so: mode
 * nearest or linear; coordinate modes whose source coordinate needs only the scale and the sizes
 * (not tf_crop_and_resize or half_pixel_symmetric); sizes stretched, not kept to the aspect ratio.
 */
import * as sym from '../ir/symbolic.js';
import { tensorToNumbers } from '../ir/tensor.js';
import { attrInts, attrString, type OpContext } from '../ops/registry.js';
import { normAxes } from '../ops/shape/common.js';

export type ResizeCoordMode =
  'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric' | 'tf_half_pixel_for_nn';
const COORD_MODES: readonly string[] = [
  'half_pixel',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_half_pixel_for_nn',
];
export type ResizeNearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

export interface ResizeAttributes {
  mode: 'nearest' | 'linear';
  coord: ResizeCoordMode;
  nearest: ResizeNearestMode;
  /** the resized axes */
  axes: number[];
  /** per axis (1 where not resized), when scales are given; else the sizes input gives the output dims */
  scales?: number[];
}

/** The attributes, or the reason they do not run over a symbolic dim. */
export function resizeAttributes(ctx: OpContext, rank: number): ResizeAttributes | string {
  if (ctx.node.op !== 'Resize' || ctx.opset < 10) return 'Upsample';
  const legacy = ctx.opset < 11;
  const mode = attrString(ctx.node, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') return `Resize in mode ${mode}`;
  const coord = legacy ? 'asymmetric' : attrString(ctx.node, 'coordinate_transformation_mode', 'half_pixel');
  if (!COORD_MODES.includes(coord)) return `Resize with coordinate_transformation_mode ${coord}`;
  if (ctx.opset >= 18 && attrString(ctx.node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch')
    return 'Resize keeping the aspect ratio';
  const nearest = (
    legacy ? 'floor' : attrString(ctx.node, 'nearest_mode', 'round_prefer_floor')
  ) as ResizeNearestMode;
  const axes =
    ctx.opset >= 18 && ctx.node.attrs.axes !== undefined
      ? normAxes(ctx, attrInts(ctx.node, 'axes'), rank)
      : Array.from({ length: rank }, (_, i) => i);
  const scalesAt = legacy ? 1 : 2;
  const given = ctx.consts[scalesAt] ? tensorToNumbers(ctx.consts[scalesAt]!) : [];
  const attrs: ResizeAttributes = { mode, coord: coord as ResizeCoordMode, nearest, axes };
  if (given.length === 0) return attrs;
  const scales = Array.from({ length: rank }, () => 1);
  axes.forEach((a, i) => (scales[a] = given[i]));
  return { ...attrs, scales };
}

/**
 * The output dims a Resize's sizes input gives (its elements as shape expressions where it is a shape
 * value, `F.interpolate(x, size=y.shape[2:])`), the axes it leaves alone undefined; undefined when the
 * sizes are computed from data at run time.
 */
export function resizeSizes(
  ctx: OpContext,
  attrs: ResizeAttributes,
  shapeValue: (name: string) => sym.SymLike[] | undefined,
): (sym.SymLike | undefined)[] | undefined {
  const name = ctx.node.inputs[3];
  const sizes = name
    ? (shapeValue(name) ?? (ctx.consts[3] ? tensorToNumbers(ctx.consts[3]!) : undefined))
    : undefined;
  if (!sizes) return undefined;
  const out: (sym.SymLike | undefined)[] = [];
  attrs.axes.forEach((a, i) => (out[a] = sizes[i]));
  return out;
}
