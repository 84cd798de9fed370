/** ArgMax / ArgMin along one axis, first or last occurrence of the extreme; int64 indices. */
import type { TensorType } from '../../ir/graph.js';
import type { Kernel } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { add, cast, i32, load, local, loop, mul, set, store, v, when } from '../../kernels/build.js';
import {
  OpError,
  attrInt,
  normAxis,
  registerOp,
  type LowerIO,
  type OpContext,
  type OpDef,
} from '../registry.js';
import { NUMERIC, isUnsigned, typedInput } from '../elementwise/common.js';
import { compare, k } from '../elementwise/scalar.js';
import { splitAt, splitIndex } from './axis.js';

function argTypes(ctx: OpContext): { x: TensorType; axis: number; out: TensorType } {
  const x = typedInput(ctx, 0, NUMERIC);
  if (x.shape.length === 0)
    throw new OpError(ctx.node, ctx.opset, 'input must have rank >= 1, found a 0-d tensor');
  const axis = normAxis(attrInt(ctx.node, 'axis', 0), x.shape.length, ctx);
  if (x.shape[axis] === 0)
    throw new OpError(ctx.node, ctx.opset, `axis ${axis} has size 0; there is no extreme to index`);
  const keepdims = attrInt(ctx.node, 'keepdims', 1) === 1;
  const shape = keepdims ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  return { x, axis, out: { dtype: 'int64', shape } };
}

function argOp(which: 'max' | 'min'): OpDef {
  return {
    infer: (ctx) => [argTypes(ctx).out],
    lower(ctx: OpContext, io: LowerIO): Kernel[] {
      const { x, axis } = argTypes(ctx);
      const s = splitAt(x.shape, axis);
      const buf = io.inputs[0]!;
      const t = scalarOf(x.dtype);
      const last = attrInt(ctx.node, 'select_last_index', 0) === 1;
      const op = which === 'max' ? (last ? 'ge' : 'gt') : last ? 'le' : 'lt';
      const [o, i, r] = [v('o'), v('i'), v('r')];
      const value = load(buf, splitIndex(s, o, r, i));
      return [
        {
          name: ctx.node.name,
          body: [
            local('best', t, k(t, 0)),
            local('at', 'i32', i32(0)),
            loop('o', s.outer, [
              loop('i', s.inner, [
                set('best', load(buf, splitIndex(s, o, i32(0), i))),
                set('at', i32(0)),
                loop('r', s.d, [
                  when(compare(op, value, v('best', t), isUnsigned(x.dtype)), [
                    set('best', value),
                    set('at', r),
                  ]),
                ]),
                store(io.outputs[0], add(mul(o, i32(s.inner)), i), cast('i64', v('at'))),
              ]),
            ]),
          ],
        },
      ];
    },
  };
}

registerOp('ArgMax', argOp('max'));
registerOp('ArgMin', argOp('min'));
