/**
 * Unique (opset 11) without `axis`: the distinct elements of the flattened input, ascending (`sorted` 1,
 * the default) or in order of first occurrence (0), with the index of each one's first occurrence, the
 * inverse indices (each input element's position in Y) and the counts. How many are distinct is known
 * only during the run: the kernel stores it into its dims-block word (a data symbol bounded by the input's
 * size, passes/data-shapes.ts). Unique along an axis is refused.
 */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Expr, Kernel } from '../../kernels/ir.js';
import { add, bin, cast, cmp, i32, load, local, loop, set, store, v, when } from '../../kernels/build.js';
import { attrInt, OpError, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { NUMERIC, isUnsigned, typedInput } from '../elementwise/common.js';
import { compare } from '../elementwise/scalar.js';
import { computedSizeWord } from '../computed-size.js';

function input(ctx: OpContext): TensorType {
  const x = typedInput(ctx, 0, NUMERIC);
  if (ctx.node.attrs.axis !== undefined)
    throw new OpError(
      ctx.node,
      ctx.opset,
      'Unique along an axis is not supported (only of the flattened input)',
    );
  return x;
}

/**
 * Pass 1 marks each element that occurs first (scratch flags) and counts them; pass 2 gives element p its
 * position r in Y — the distinct values below it (sorted) or the first occurrences before its own (not
 * sorted) — and a first occurrence writes Y, indices and counts at r.
 */
function uniqueKernel(ctx: OpContext, io: LowerIO): Kernel {
  const x = input(ctx);
  const word = computedSizeWord(ctx, io, 'distinct count');
  const n = sizeOf(x.shape);
  const sorted = attrInt(ctx.node, 'sorted', 1) !== 0;
  const [y, indices, inverse, counts] = io.outputs;
  const flags = io.scratch('int32', Math.max(1, n));
  const at = (i: string) => load(io.inputs[0]!, v(i));
  const same = (i: string, j: string) => cmp('eq', at(i), at(j));
  const and = (a: Expr, b: Expr) => bin('and', a, b);
  const isFirst = (j: string) => cmp('eq', load(flags, v(j)), i32(1));
  const increment = (name: string) => set(name, add(v(name), i32(1)));
  const ranksBelow = sorted
    ? and(isFirst('q'), compare('lt', at('q'), at('p'), isUnsigned(x.dtype)))
    : and(isFirst('q'), cmp('lt', v('q'), v('first')));
  const body = [
    local('distinct', 'i32', i32(0)),
    local('first', 'i32', i32(0)),
    local('r', 'i32', i32(0)),
    local('count', 'i32', i32(0)),
    loop('i', n, [
      store(flags, v('i'), i32(1)),
      loop('j', n, [when(and(cmp('lt', v('j'), v('i')), same('i', 'j')), [store(flags, v('i'), i32(0))])]),
      when(isFirst('i'), [increment('distinct')]),
    ]),
    store(word, i32(0), v('distinct')),
    loop('p', n, [
      set('first', i32(n)),
      set('count', i32(0)),
      loop('o', n, [
        when(same('o', 'p'), [
          increment('count'),
          when(cmp('lt', v('o'), v('first')), [set('first', v('o'))]),
        ]),
      ]),
      set('r', i32(0)),
      loop('q', n, [when(ranksBelow, [increment('r')])]),
      store(inverse, v('p'), cast('i64', v('r'))),
      when(isFirst('p'), [
        store(y, v('r'), at('p')),
        store(indices, v('r'), cast('i64', v('p'))),
        store(counts, v('r'), cast('i64', v('count'))),
      ]),
    ]),
  ];
  return { name: ctx.node.name, body };
}

const unique: OpDef = {
  sinceVersion: 11,
  // at the bound (every element distinct); Y, indices and counts are sized by a data symbol
  infer: (ctx): TensorType[] => {
    const x = input(ctx);
    const n = [sizeOf(x.shape)];
    return [{ dtype: x.dtype, shape: n }, ...[0, 1, 2].map((): TensorType => ({ dtype: 'int64', shape: n }))];
  },
  lower: (ctx, io) => [uniqueKernel(ctx, io)],
};

registerOp('Unique', unique);
