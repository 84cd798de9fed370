/** Boolean logic (And Or Xor Not), comparisons (Equal Less ... → bool) and Where. */
import type { TensorType } from '../../ir/graph.js';
import type { Kernel } from '../../kernels/ir.js';
import { bin, cmp, select } from '../../kernels/build.js';
import { OpError, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import {
  NON_STRING,
  NUMERIC,
  broadcastOrThrow,
  elementwiseKernel,
  elementwiseOp,
  isUnsigned,
  operandsOf,
  requireSameDtype,
  typedInput,
} from './common.js';
import { compare, k, truthy } from './scalar.js';

const BOOL = ['bool'] as const;
const toBool = () => 'bool' as const;

// Stored bools are 0/1, but normalizing with truthy() keeps any nonzero byte meaning true.
registerOp(
  'And',
  elementwiseOp({ arity: 2, allowed: BOOL, compute: (_, [a, b]) => bin('and', truthy(a), truthy(b)) }),
);
registerOp(
  'Or',
  elementwiseOp({ arity: 2, allowed: BOOL, compute: (_, [a, b]) => bin('or', truthy(a), truthy(b)) }),
);
registerOp(
  'Xor',
  elementwiseOp({ arity: 2, allowed: BOOL, compute: (_, [a, b]) => cmp('ne', truthy(a), truthy(b)) }),
);
registerOp('Not', elementwiseOp({ arity: 1, allowed: BOOL, compute: (_, [a]) => cmp('eq', a, k(a.t, 0)) }));

registerOp(
  'Equal',
  elementwiseOp({ arity: 2, allowed: NON_STRING, outDtype: toBool, compute: (_, [a, b]) => cmp('eq', a, b) }),
);
const ordered = (op: 'lt' | 'le' | 'gt' | 'ge') =>
  elementwiseOp({
    arity: 2,
    allowed: NUMERIC,
    outDtype: toBool,
    compute: (_, [a, b], dtype) => compare(op, a, b, isUnsigned(dtype)),
  });
registerOp('Less', ordered('lt'));
registerOp('LessOrEqual', ordered('le'));
registerOp('Greater', ordered('gt'));
registerOp('GreaterOrEqual', ordered('ge'));

function whereTypes(ctx: OpContext): TensorType {
  if (ctx.inputs.length !== 3)
    throw new OpError(ctx.node, ctx.opset, `expected 3 inputs, found ${ctx.inputs.length}`);
  const cond = typedInput(ctx, 0, BOOL);
  const x = typedInput(ctx, 1, NON_STRING);
  const y = typedInput(ctx, 2, NON_STRING);
  const dtype = requireSameDtype(ctx, [x, y]);
  return { dtype, shape: broadcastOrThrow(ctx, [cond.shape, x.shape, y.shape]) };
}

const where: OpDef = {
  infer: (ctx) => [whereTypes(ctx)],
  lower(ctx: OpContext, io: LowerIO): Kernel[] {
    const { shape } = whereTypes(ctx);
    return [
      elementwiseKernel(ctx.node.name, io.outputs[0], shape, operandsOf(ctx, io.inputs), ([c, x, y]) =>
        select(truthy(c), x, y),
      ),
    ];
  },
};
registerOp('Where', where);
