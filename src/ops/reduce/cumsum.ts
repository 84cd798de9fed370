/**
 * CumSum, optionally exclusive and/or reversed. The output shape never depends on the axis, so a
 * run-time axis works too: the kernel then holds one loop nest per possible axis, chosen by the value.
 */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf, tensorToNumbers } from '../../ir/tensor.js';
import type { BufRef, Kernel, Scalar, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  bin,
  cmp,
  i32,
  load,
  local,
  loop,
  parallelLoop,
  set,
  store,
  sub,
  v,
  when,
} from '../../kernels/build.js';
import {
  OpError,
  attrInt,
  normAxis,
  registerOp,
  type LowerIO,
  type OpContext,
  type OpDef,
} from '../registry.js';
import { NUMERIC, typedInput } from '../elementwise/common.js';
import { k } from '../elementwise/scalar.js';
import { splitAt, splitIndex } from './axis.js';

function cumsumTypes(ctx: OpContext): { x: TensorType; axis: number | undefined } {
  const x = typedInput(ctx, 0, NUMERIC);
  const axisType = typedInput(ctx, 1, ['int32', 'int64']);
  if (sizeOf(axisType.shape) !== 1)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `axis (input 1) must be a scalar, found shape [${axisType.shape.join(',')}]`,
    );
  if (x.shape.length === 0)
    throw new OpError(ctx.node, ctx.opset, 'input must have rank >= 1, found a 0-d tensor');
  const known = ctx.consts[1];
  const axis = known ? normAxis(tensorToNumbers(known)[0], x.shape.length, ctx) : undefined;
  return { x, axis };
}

/**
 * The scan along one axis, one line per (outer, inner) index: those loops share nothing (declared
 * parallel), the scan loop inside them is sequential. Locals acc and xv are declared once by the caller.
 */
function scan(ctx: OpContext, x: BufRef, y: BufRef, shape: number[], axis: number, t: Scalar): Stmt[] {
  const s = splitAt(shape, axis);
  const exclusive = attrInt(ctx.node, 'exclusive', 0) === 1;
  const reverse = attrInt(ctx.node, 'reverse', 0) === 1;
  const [o, i, r] = [`o${axis}`, `i${axis}`, `r${axis}`];
  const step = reverse ? sub(i32(s.d - 1), v(r)) : v(r);
  const at = splitIndex(s, v(o), step, v(i));
  const acc = v('acc', t);
  // Read x[at] into a local before storing y[at], so the result is right even if y shares x's memory.
  const update = exclusive
    ? [set('xv', load(x, at)), store(y, at, acc), set('acc', add(acc, v('xv', t)))]
    : [set('acc', add(acc, load(x, at))), store(y, at, acc)];
  return [parallelLoop(o, s.outer, [parallelLoop(i, s.inner, [set('acc', k(t, 0)), loop(r, s.d, update)])])];
}

const cumsum: OpDef = {
  sinceVersion: 11,
  infer: (ctx) => [cumsumTypes(ctx).x],
  lower(ctx: OpContext, io: LowerIO): Kernel[] {
    const { x, axis } = cumsumTypes(ctx);
    const t = scalarOf(x.dtype);
    const [xb, yb] = [io.inputs[0]!, io.outputs[0]];
    const body: Stmt[] = [local('acc', t, k(t, 0)), local('xv', t, k(t, 0))];
    if (axis !== undefined) body.push(...scan(ctx, xb, yb, x.shape, axis, t));
    else {
      const rank = x.shape.length;
      const axisBuf = io.inputs[1]!;
      const value = load(axisBuf, i32(0));
      for (let a = 0; a < rank; a++) {
        const chosen = bin('or', cmp('eq', value, k(value.t, a)), cmp('eq', value, k(value.t, a - rank)));
        body.push(when(chosen, scan(ctx, xb, yb, x.shape, a, t)));
      }
    }
    return [{ name: ctx.node.name, body }];
  },
};
registerOp('CumSum', cumsum);
