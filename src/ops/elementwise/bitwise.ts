/** BitShift and BitwiseAnd/Or/Xor/Not on integers; narrow results wrap when stored. */
import { bin } from '../../kernels/build.js';
import { OpError, attrString, registerOp, type OpContext } from '../registry.js';
import { INTS, UNSIGNED_INTS, elementwiseOp } from './common.js';
import { k } from './scalar.js';

function direction(ctx: OpContext): 'LEFT' | 'RIGHT' {
  const d = attrString(ctx.node, 'direction', '');
  if (d !== 'LEFT' && d !== 'RIGHT')
    throw new OpError(ctx.node, ctx.opset, `attribute direction must be "LEFT" or "RIGHT", found "${d}"`);
  return d;
}

registerOp(
  'BitShift',
  elementwiseOp(
    {
      arity: 2,
      allowed: UNSIGNED_INTS,
      check: (ctx) => void direction(ctx),
      // uint8/uint16 load zero-extended, so a logical right shift of the wide value is exact.
      compute: (ctx, [a, b]) => bin(direction(ctx) === 'LEFT' ? 'shl' : 'shr_u', a, b),
    },
    11,
  ),
);

registerOp(
  'BitwiseAnd',
  elementwiseOp({ arity: 2, allowed: INTS, compute: (_, [a, b]) => bin('and', a, b) }, 18),
);
registerOp(
  'BitwiseOr',
  elementwiseOp({ arity: 2, allowed: INTS, compute: (_, [a, b]) => bin('or', a, b) }, 18),
);
registerOp(
  'BitwiseXor',
  elementwiseOp({ arity: 2, allowed: INTS, compute: (_, [a, b]) => bin('xor', a, b) }, 18),
);
registerOp(
  'BitwiseNot',
  elementwiseOp({ arity: 1, allowed: INTS, compute: (_, [a]) => bin('xor', a, k(a.t, -1)) }, 18),
);
