/**
 * TopK: the K largest (or smallest) elements along an axis and their int64 indices, best first; equal
 * values keep the lower index first. K is an attribute before opset 10 and an input from 10: a constant,
 * or a model input read at run time (a data symbol bounded by the axis length, passes/data-shapes.ts);
 * `largest` and `sorted` arrive in opset 11 (unsorted output is returned sorted, which the spec allows).
 */
import type { TensorType } from '../../ir/graph.js';
import { tensorToNumbers } from '../../ir/tensor.js';
import type { Expr, Extent, Kernel, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { bin, cast, cmp, dim, i32, load, local, loop, set, store, v, when } from '../../kernels/build.js';
import {
  OpError,
  attrInt,
  constInput,
  normAxis,
  registerOp,
  type LowerIO,
  type OpContext,
  type OpDef,
} from '../registry.js';
import { NUMERIC, isUnsigned, typedInput } from '../elementwise/common.js';
import { compare, k as konst } from '../elementwise/scalar.js';
import { splitAt, splitIndex } from '../reduce/axis.js';

interface TopKPlan {
  x: TensorType;
  axis: number;
  /** undefined: known only at run time */
  k: number | undefined;
  largest: boolean;
}

function readK(ctx: OpContext, sinceVersion: number): number | undefined {
  if (sinceVersion < 10) return attrInt(ctx.node, 'k');
  const kType = typedInput(ctx, 1, ['int64']);
  if (kType.shape.length !== 1 || kType.shape[0] !== 1)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `K must be a 1-D tensor of one element, found shape [${kType.shape}]`,
    );
  return ctx.consts[1] ? tensorToNumbers(constInput(ctx, 1, 'K'))[0] : undefined;
}

function plan(ctx: OpContext, sinceVersion: number): TopKPlan {
  const x = typedInput(ctx, 0, NUMERIC);
  if (x.shape.length === 0)
    throw new OpError(ctx.node, ctx.opset, 'input X must have rank >= 1, found a 0-d tensor');
  const axis = normAxis(attrInt(ctx.node, 'axis', -1), x.shape.length, ctx);
  const k = readK(ctx, sinceVersion);
  if (k !== undefined && (!Number.isInteger(k) || k < 0 || k > x.shape[axis]))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `K=${k} must be in [0, ${x.shape[axis]}] (the size of axis ${axis})`,
    );
  const largest = sinceVersion < 11 || attrInt(ctx.node, 'largest', 1) !== 0;
  return { x, axis, k, largest };
}

/**
 * Pass j picks the best element ranked after the one pass j-1 picked, in the total order
 * (value best-first, then index ascending) — K·D compares per row, no scratch, ties stable.
 */
function topKKernel(name: string, p: TopKPlan, io: LowerIO): Kernel {
  const k: Extent = p.k ?? dim(io.sizes![0].symbol);
  const s = splitAt(p.x.shape, p.axis);
  const t = scalarOf(p.x.dtype);
  const unsigned = isUnsigned(p.x.dtype);
  const [o, i, r] = [v('o'), v('i'), v('r')];
  const value = load(io.inputs[0]!, splitIndex(s, o, r, i));
  const [best, bestAt, prev, prevAt] = [v('best', t), v('bestAt'), v('prev', t), v('prevAt')];
  const better = (a: Expr, b: Expr) => compare(p.largest ? 'gt' : 'lt', a, b, unsigned);
  const or = (a: Expr, b: Expr) => bin('or', a, b);
  const and = (a: Expr, b: Expr) => bin('and', a, b);
  // After the previous pick: strictly worse, or equal with a higher index. Pass 0 has no previous pick.
  const afterPrev = or(
    cmp('eq', v('j'), i32(0)),
    or(better(prev, value), and(cmp('eq', value, prev), cmp('gt', r, prevAt))),
  );
  const pass: Stmt[] = [
    set('found', i32(0)),
    loop('r', s.d, [
      when(and(afterPrev, or(cmp('eq', v('found'), i32(0)), better(value, best))), [
        set('best', value),
        set('bestAt', r),
        set('found', i32(1)),
      ]),
    ]),
    store(io.outputs[0], splitIndex({ ...s, d: k }, o, v('j'), i), best),
    store(io.outputs[1], splitIndex({ ...s, d: k }, o, v('j'), i), cast('i64', bestAt)),
    set('prev', best),
    set('prevAt', bestAt),
  ];
  return {
    name,
    body: [
      local('best', t, konst(t, 0)),
      local('prev', t, konst(t, 0)),
      local('bestAt', 'i32', i32(0)),
      local('prevAt', 'i32', i32(0)),
      local('found', 'i32', i32(0)),
      loop('o', s.outer, [loop('i', s.inner, [loop('j', k, pass)])]),
    ],
  };
}

function topK(sinceVersion: number): OpDef {
  return {
    sinceVersion,
    infer(ctx) {
      const p = plan(ctx, sinceVersion);
      // a run-time K at its bound, the axis length
      const shape = p.x.shape.map((d, a) => (a === p.axis ? (p.k ?? d) : d));
      return [
        { dtype: p.x.dtype, shape },
        { dtype: 'int64', shape },
      ];
    },
    lower: (ctx, io) => [topKKernel(ctx.node.name, plan(ctx, sinceVersion), io)],
  };
}

registerOp('TopK', topK(1));
registerOp('TopK', topK(10));
registerOp('TopK', topK(11));
