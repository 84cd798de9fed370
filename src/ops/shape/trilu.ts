/** Trilu: keep the upper (j - i ≥ k) or lower (j - i ≤ k) triangle of the last two axes, zero the rest. */
import { cmp, cnst, forEachIndex, i32, load, select, store, sub } from '../../kernels/build.js';
import { scalarOf } from '../../kernels/ir.js';
import { attrInt, OpError, registerOp, type OpContext, type OpDef } from '../registry.js';
import { constScalar, dataInput, hasInput, rowMajor } from './common.js';

function triluParams(ctx: OpContext) {
  const x = dataInput(ctx, 0);
  if (x.shape.length < 2)
    throw new OpError(ctx.node, ctx.opset, `input must have rank ≥ 2, found shape [${x.shape}]`);
  const k = hasInput(ctx, 1) ? constScalar(ctx, 1, 'k') : 0;
  return { x, k, upper: attrInt(ctx.node, 'upper', 1) !== 0 };
}

const trilu: OpDef = {
  sinceVersion: 14,
  infer: (ctx) => [{ ...triluParams(ctx).x }],
  lower: (ctx, io) => {
    const { x, k, upper } = triluParams(ctx);
    const r = x.shape.length;
    // Clamp k so the i32 constant stays small; beyond ±(rows+cols) every element is kept or zeroed alike.
    const kk = Math.max(-(x.shape[r - 2] + 1), Math.min(x.shape[r - 1] + 1, k));
    const body = forEachIndex(x.shape, 'i', (idx) => {
      const at = rowMajor(idx, x.shape);
      const diag = sub(idx[r - 1], idx[r - 2]);
      const keep = cmp(upper ? 'ge' : 'le', diag, i32(kk));
      return [store(io.outputs[0], at, select(keep, load(io.inputs[0]!, at), cnst(scalarOf(x.dtype), 0)))];
    });
    return [{ name: ctx.node.name, body }];
  },
};

registerOp('Trilu', trilu);
