/**
 * DepthToSpace (DCR/CRD) and SpaceToDepth. Both walk the 6-D view [N, C', H, b, W, b] of the spatial
 * tensor, where both sides' positions are linear in the loop indices: no division in the kernel.
 */
import type { TensorType } from '../../ir/graph.js';
import { linearIndex, stridesOf } from '../../kernels/build.js';
import type { Expr } from '../../kernels/ir.js';
import { attrInt, attrString, OpError, registerOp, type OpContext, type OpDef } from '../registry.js';
import { dataInput, moveKernel } from './common.js';

function blockLayout(ctx: OpContext): { x: TensorType; b: number } {
  const x = dataInput(ctx, 0);
  if (x.shape.length !== 4)
    throw new OpError(ctx.node, ctx.opset, `input must be 4-D [N, C, H, W], found [${x.shape}]`);
  const b = attrInt(ctx.node, 'blocksize');
  if (b < 1) throw new OpError(ctx.node, ctx.opset, `blocksize must be ≥ 1, found ${b}`);
  return { x, b };
}

function d2sLayout(ctx: OpContext) {
  const { x, b } = blockLayout(ctx);
  const [n, c, h, w] = x.shape;
  if (c % (b * b) !== 0)
    throw new OpError(ctx.node, ctx.opset, `channels ${c} must be divisible by blocksize² = ${b * b}`);
  const mode = ctx.opset >= 11 ? attrString(ctx.node, 'mode', 'DCR') : 'DCR';
  if (mode !== 'DCR' && mode !== 'CRD')
    throw new OpError(ctx.node, ctx.opset, `mode '${mode}' is unsupported (expected DCR or CRD)`);
  return { x, b, mode, n, c: c / (b * b), h, w };
}

const depthToSpace: OpDef = {
  infer: (ctx) => {
    const { x, b, n, c, h, w } = d2sLayout(ctx);
    return [{ dtype: x.dtype, shape: [n, c, h * b, w * b] }];
  },
  lower: (ctx, io) => {
    const { x, b, mode, n, c, h, w } = d2sLayout(ctx);
    const view = [n, c, h, b, w, b];
    // Input channel of (c, bh, bw): DCR = (bh*b + bw)*C' + c; CRD = c*b*b + bh*b + bw.
    const s = stridesOf(x.shape);
    const chan =
      mode === 'DCR'
        ? { c: s[1], bh: b * c * s[1], bw: c * s[1] }
        : { c: b * b * s[1], bh: b * s[1], bw: s[1] };
    const src = (idx: Expr[]) => linearIndex(idx, [s[0], chan.c, s[2], chan.bh, s[3], chan.bw]);
    return [
      moveKernel(
        ctx.node.name,
        view,
        io.outputs[0],
        (idx) => linearIndex(idx, stridesOf(view)),
        io.inputs[0]!,
        src,
      ),
    ];
  },
};

function s2dLayout(ctx: OpContext) {
  const { x, b } = blockLayout(ctx);
  const [n, c, h, w] = x.shape;
  if (h % b !== 0 || w % b !== 0)
    throw new OpError(ctx.node, ctx.opset, `height ${h} and width ${w} must be divisible by blocksize ${b}`);
  return { x, b, n, c, h: h / b, w: w / b };
}

const spaceToDepth: OpDef = {
  infer: (ctx) => {
    const { x, b, n, c, h, w } = s2dLayout(ctx);
    return [{ dtype: x.dtype, shape: [n, c * b * b, h, w] }];
  },
  lower: (ctx, io) => {
    const { b, n, c, h, w } = s2dLayout(ctx);
    const view = [n, c, h, b, w, b];
    // Output channel of (c, bh, bw) is (bh*b + bw)*C + c.
    const os = stridesOf([n, c * b * b, h, w]);
    const dst = (idx: Expr[]) => linearIndex(idx, [os[0], os[1], os[2], b * c * os[1], os[3], c * os[1]]);
    return [
      moveKernel(ctx.node.name, view, io.outputs[0], dst, io.inputs[0]!, (idx) =>
        linearIndex(idx, stridesOf(view)),
      ),
    ];
  },
};

registerOp('DepthToSpace', depthToSpace);
registerOp('SpaceToDepth', spaceToDepth);
