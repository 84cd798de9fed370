/**
 * Trilu: keep the upper (j - i ≥ k) or lower (j - i ≤ k) triangle of the last two axes, zero the rest.
 * k only moves the diagonal, never a size: one fed at run time is read by the kernel from its buffer.
 */
import {
  cast,
  cmp,
  cnst,
  forEachIndex,
  i32,
  i64,
  load,
  local,
  max,
  min,
  select,
  store,
  sub,
  v,
} from '../../kernels/build.js';
import { scalarOf, type BufRef, type Expr } from '../../kernels/ir.js';
import { sizeOf } from '../../ir/tensor.js';
import { attrInt, OpError, registerOp, type OpContext, type OpDef } from '../registry.js';
import { constScalar, dataInput, expectDtype, hasInput, INDEX_DTYPES, rowMajor } from './common.js';

function triluParams(ctx: OpContext) {
  const x = dataInput(ctx, 0);
  if (x.shape.length < 2)
    throw new OpError(ctx.node, ctx.opset, `input must have rank ≥ 2, found shape [${x.shape}]`);
  if (hasInput(ctx, 1)) {
    const k = expectDtype(ctx, 1, INDEX_DTYPES, 'k');
    if (ctx.inputs[1]!.symbolic || sizeOf(k.shape) !== 1)
      throw new OpError(ctx.node, ctx.opset, `k (input 1) must hold one value, found shape [${k.shape}]`);
  }
  return { x, upper: attrInt(ctx.node, 'upper', 1) !== 0 };
}

/**
 * k as an i32, clamped to ±(rows+cols): beyond it every element is kept or zeroed alike, and the clamp keeps
 * a run-time int64 k from wrapping when narrowed.
 */
function diagonalOffset(ctx: OpContext, kBuf: BufRef | undefined, rows: number, cols: number): Expr {
  const [lo, hi] = [-(rows + 1), cols + 1];
  if (!hasInput(ctx, 1)) return i32(0);
  if (ctx.consts[1]) return i32(Math.max(lo, Math.min(hi, constScalar(ctx, 1, 'k'))));
  return cast('i32', min(max(cast('i64', load(kBuf!, i32(0))), i64(lo)), i64(hi)));
}

const trilu: OpDef = {
  sinceVersion: 14,
  infer: (ctx) => [{ ...triluParams(ctx).x }],
  lower: (ctx, io) => {
    const { x, upper } = triluParams(ctx);
    const r = x.shape.length;
    const k = local('k', 'i32', diagonalOffset(ctx, io.inputs[1], x.shape[r - 2], x.shape[r - 1]));
    const triangle = forEachIndex(x.shape, 'i', (idx) => {
      const at = rowMajor(idx, x.shape);
      const diag = sub(idx[r - 1], idx[r - 2]);
      const keep = cmp(upper ? 'ge' : 'le', diag, v('k'));
      return [store(io.outputs[0], at, select(keep, load(io.inputs[0]!, at), cnst(scalarOf(x.dtype), 0)))];
    });
    return [{ name: ctx.node.name, body: [k, ...triangle] }];
  },
};

registerOp('Trilu', trilu);
