/** InstanceNormalization, LayerNormalization and GroupNormalization over contiguous rows of X. */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Expr, Kernel } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { FUSED_DOMAIN } from '../fused.js';
import { add, i32, mul } from '../../kernels/build.js';
import { broadcastIndex, broadcastShapes } from '../broadcast.js';
import {
  attrFloat,
  attrInt,
  normAxis,
  registerOp,
  type LowerIO,
  type OpContext,
  type OpDef,
} from '../registry.js';
import {
  FLOAT_TYPES,
  fail,
  fmtShape,
  loadAs,
  optionalInput,
  requireMinRank,
  requireShape,
  typedInput,
  wantsOutput,
} from './common.js';
import { normalizeRows } from './normalize-rows.js';

// ---- InstanceNormalization: per (n, c) over the spatial dims --------------------------------------

function instanceNormInfer(ctx: OpContext): TensorType[] {
  const x = typedInput(ctx, 0, 'input', FLOAT_TYPES);
  requireMinRank(ctx, x, 2, 'input');
  requireShape(ctx, typedInput(ctx, 1, 'scale', [x.dtype]), [x.shape[1]], 'scale');
  requireShape(ctx, typedInput(ctx, 2, 'B', [x.dtype]), [x.shape[1]], 'B');
  return [{ dtype: x.dtype, shape: x.shape }];
}

function instanceNormLower(ctx: OpContext, io: LowerIO): Kernel[] {
  const [N, C, ...spatial] = ctx.inputs[0]!.shape;
  const [X, scale, B] = io.inputs;
  const Y = io.outputs[0];
  const t = scalarOf(Y.dtype);
  const body = normalizeRows({
    X: X!,
    Y,
    rows: [N, C],
    row: [sizeOf(spatial)],
    epsilon: attrFloat(ctx.node, 'epsilon', 1e-5),
    sums: 'f64',
    affine: (y, [, c]) => add(mul(y, loadAs(t, scale!, c)), loadAs(t, B!, c)),
  });
  return [{ name: ctx.node.name, body }];
}

// ---- LayerNormalization: over dims [axis, rank) -----------------------------------------------

function layerNormInfer(ctx: OpContext): TensorType[] {
  const x = typedInput(ctx, 0, 'X', FLOAT_TYPES);
  const axis = normAxis(attrInt(ctx.node, 'axis', -1), x.shape.length, ctx);
  const normalized = x.shape.slice(axis);
  requireBroadcastsTo(ctx, typedInput(ctx, 1, 'Scale', [x.dtype]), normalized, 'Scale');
  const bias = optionalInput(ctx, 2, 'B', x.dtype);
  if (bias) requireBroadcastsTo(ctx, bias, normalized, 'B');
  // Mean and InvStdDev keep X's leading dims and have 1 for every normalized dim; stash_type 1 = float32.
  const statShape = [...x.shape.slice(0, axis), ...normalized.map(() => 1)];
  const stash = attrInt(ctx.node, 'stash_type', 1);
  if (stash !== 1) fail(ctx, `stash_type ${stash} is unsupported; only 1 (float32) is`);
  const types: TensorType[] = [
    { dtype: x.dtype, shape: x.shape },
    { dtype: 'float32', shape: statShape },
    { dtype: 'float32', shape: statShape },
  ];
  return types.slice(0, Math.max(1, ctx.node.outputs.length));
}

/** `t` must broadcast (unidirectionally) to `target`. */
function requireBroadcastsTo(ctx: OpContext, t: TensorType, target: number[], what: string): void {
  let ok = t.shape.length <= target.length;
  try {
    ok &&= broadcastShapes([target, t.shape]).every((d, i) => d === target[i]);
  } catch {
    ok = false;
  }
  if (!ok)
    fail(
      ctx,
      `${what} has shape ${fmtShape(t.shape)}; it must broadcast to the normalized shape ${fmtShape(target)}`,
    );
}

function layerNormLower(ctx: OpContext, io: LowerIO): Kernel[] {
  const shape = ctx.inputs[0]!.shape;
  const axis = normAxis(attrInt(ctx.node, 'axis', -1), shape.length, ctx);
  const [X, scale, B] = io.inputs;
  const [Y, mean, invStdDev] = io.outputs;
  const t = scalarOf(Y.dtype);
  const scaleShape = ctx.inputs[1]!.shape;
  const biasShape = ctx.inputs[2]?.shape;
  const body = normalizeRows({
    X: X!,
    Y,
    rows: [sizeOf(shape.slice(0, axis))],
    row: shape.slice(axis),
    epsilon: attrFloat(ctx.node, 'epsilon', 1e-5),
    // rows of a hidden size (hundreds to thousands): f32 sums are as close as onnxruntime's, and vectorize
    sums: t === 'f64' ? 'f64' : 'f32',
    affine: (y, _, col) => {
      const scaled = mul(y, loadAs(t, scale!, broadcastIndex(col, scaleShape)));
      return B && biasShape ? add(scaled, loadAs(t, B, broadcastIndex(col, biasShape))) : scaled;
    },
    ...(wantsOutput(ctx, 1) && mean ? { mean } : {}),
    ...(wantsOutput(ctx, 2) && invStdDev ? { invStdDev } : {}),
  });
  return [{ name: ctx.node.name, body }];
}

// ---- GroupNormalization: per (n, group) over the group's channels and spatial dims ---------------

function groups(ctx: OpContext): number {
  return attrInt(ctx.node, 'num_groups');
}

/** Opset 18 has one scale/bias per group; opset 21 one per channel. */
function groupNormDef(perChannel: boolean): OpDef {
  return {
    sinceVersion: perChannel ? 21 : 18,
    infer(ctx) {
      const x = typedInput(ctx, 0, 'X', FLOAT_TYPES);
      requireMinRank(ctx, x, 2, 'X');
      const G = groups(ctx);
      const C = x.shape[1];
      if (G < 1 || C % G !== 0) fail(ctx, `num_groups ${G} must be positive and divide the ${C} channels`);
      const size = perChannel ? C : G;
      requireShape(ctx, typedInput(ctx, 1, 'scale', [x.dtype]), [size], 'scale');
      requireShape(ctx, typedInput(ctx, 2, 'bias', [x.dtype]), [size], 'bias');
      const stash = attrInt(ctx.node, 'stash_type', 1);
      if (stash !== 1) fail(ctx, `stash_type ${stash} is unsupported; only 1 (float32) is`);
      return [{ dtype: x.dtype, shape: x.shape }];
    },
    lower(ctx, io) {
      const [N, C, ...spatial] = ctx.inputs[0]!.shape;
      const G = groups(ctx);
      const [X, scale, B] = io.inputs;
      const Y = io.outputs[0];
      const t = scalarOf(Y.dtype);
      const perGroup = C / G;
      const param = (g: Expr, c: Expr): Expr => (perChannel ? add(mul(g, i32(perGroup)), c) : g);
      const body = normalizeRows({
        X: X!,
        Y,
        rows: [N, G],
        row: [perGroup, sizeOf(spatial)],
        epsilon: attrFloat(ctx.node, 'epsilon', 1e-5),
        sums: 'f64',
        affine: (y, [, g], [c]) => add(mul(y, loadAs(t, scale!, param(g, c))), loadAs(t, B!, param(g, c))),
      });
      return [{ name: ctx.node.name, body }];
    },
  };
}

registerOp('InstanceNormalization', { infer: instanceNormInfer, lower: instanceNormLower });
registerOp('LayerNormalization', { sinceVersion: 17, infer: layerNormInfer, lower: layerNormLower });
// the same op in Kiln's domain, for any opset: what passes/fuse-layer-norm.ts makes of a decomposed LayerNorm
registerOp('LayerNormalization', { infer: layerNormInfer, lower: layerNormLower }, FUSED_DOMAIN);
registerOp('GroupNormalization', groupNormDef(false));
registerOp('GroupNormalization', groupNormDef(true));
