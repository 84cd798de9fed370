/** GlobalAveragePool, GlobalMaxPool, GlobalLpPool: reduce every (n, c) plane to one value. */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Expr, Kernel, Scalar } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { add, cnst, div, i32, local, loop, max, mul, set, store, v } from '../../kernels/build.js';
import { registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { FLOAT_TYPES, loadAs, lowestValue, requireMinRank, typedInput } from './common.js';
import { lpOrder, lpTerms } from './pool.js';

function infer(ctx: OpContext): TensorType[] {
  const x = typedInput(ctx, 0, 'X', FLOAT_TYPES);
  requireMinRank(ctx, x, 2, 'X');
  const [N, C, ...spatial] = x.shape;
  return [{ dtype: x.dtype, shape: [N, C, ...spatial.map(() => 1)] }];
}

interface Reduction {
  init: (t: Scalar) => Expr;
  step: (acc: Expr, x: Expr) => Expr;
  finish: (acc: Expr, count: number) => Expr;
}

function globalPool(reduction: (ctx: OpContext) => Reduction): OpDef {
  return {
    infer(ctx) {
      reduction(ctx); // validates attributes (GlobalLpPool's p)
      return infer(ctx);
    },
    lower(ctx: OpContext, io: LowerIO): Kernel[] {
      const [N, C, ...spatial] = ctx.inputs[0]!.shape;
      const X = io.inputs[0]!;
      const Y = io.outputs[0];
      const t = scalarOf(X.dtype);
      const r = reduction(ctx);
      const size = sizeOf(spatial);
      const body = [
        loop('p', N * C, [
          local('acc', t, r.init(t)),
          loop('s', size, [
            set('acc', r.step(v('acc', t), loadAs(t, X, add(mul(v('p'), i32(size)), v('s'))))),
          ]),
          store(Y, v('p'), r.finish(v('acc', t), size)),
        ]),
      ];
      return [{ name: ctx.node.name, body }];
    },
  };
}

registerOp(
  'GlobalAveragePool',
  globalPool(() => ({ init: (t) => cnst(t, 0), step: add, finish: (acc, n) => div(acc, cnst(acc.t, n)) })),
);
registerOp(
  'GlobalMaxPool',
  globalPool((ctx) => ({ init: () => lowestValue(ctx.inputs[0]!.dtype), step: max, finish: (acc) => acc })),
);
registerOp(
  'GlobalLpPool',
  globalPool((ctx) => {
    const { power, root } = lpTerms(scalarOf(ctx.inputs[0]!.dtype), lpOrder(ctx));
    return { init: (t) => cnst(t, 0), step: (acc, x) => add(acc, power(x)), finish: (acc) => root(acc) };
  }),
);
