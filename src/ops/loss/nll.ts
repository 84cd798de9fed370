/**
 * The negative log-likelihood core shared by NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss:
 * loss[n, d] = -input[n, target[n, d], d] · weight[target[n, d]], 0 where target == ignore_index,
 * then reduced (none / sum / mean weighted by the gathered weights).
 */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { BufRef, Expr, Kernel, Scalar } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  cast,
  cmp,
  cnst,
  div,
  i32,
  load,
  local,
  loop,
  mul,
  select,
  set,
  store,
  un,
  v,
} from '../../kernels/build.js';
import { OpError, attrInt, attrString, type OpContext } from '../registry.js';
import { FLOATS, typedInput } from '../elementwise/common.js';

export type Reduction = 'none' | 'sum' | 'mean';

/** Validated shapes and attributes of a loss node, with input `[N, C, d1..dk]` viewed as [N, C, D]. */
export interface LossShape {
  dtype: DType;
  N: number;
  C: number;
  D: number;
  /** shape of the target and of the unreduced loss: [N, d1..dk] */
  targetShape: number[];
  reduction: Reduction;
  ignoreIndex?: number;
  hasWeight: boolean;
}

/**
 * Validate (scores/input, target, weight) at inputs 0..2. `what` names input 0 in messages
 * ('input' for NLL, 'scores' for SoftmaxCrossEntropy).
 */
export function lossShape(ctx: OpContext, what: string): LossShape {
  const x = typedInput(ctx, 0, FLOATS);
  const target = typedInput(ctx, 1, ['int32', 'int64']);
  const rank = x.shape.length;
  if (rank < 2)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `${what} must have shape [N, C, d1..dk] (rank >= 2), found [${x.shape}]`,
    );
  const [N, C] = x.shape;
  const expected = [N, ...x.shape.slice(2)];
  if (target.shape.join(',') !== expected.join(','))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `target has shape [${target.shape}]; ${what} [${x.shape}] needs target shape [${expected}]`,
    );
  const weight: TensorType | undefined = ctx.inputs[2];
  if (weight) {
    if (weight.dtype !== x.dtype)
      throw new OpError(
        ctx.node,
        ctx.opset,
        `weight has dtype ${weight.dtype}; expected ${x.dtype} like ${what}`,
      );
    if (weight.shape.length !== 1 || weight.shape[0] !== C)
      throw new OpError(
        ctx.node,
        ctx.opset,
        `weight has shape [${weight.shape}]; expected [${C}] (one per class)`,
      );
  }
  const reduction = attrString(ctx.node, 'reduction', 'mean');
  if (reduction !== 'none' && reduction !== 'sum' && reduction !== 'mean')
    throw new OpError(
      ctx.node,
      ctx.opset,
      `reduction '${reduction}' is not supported; expected none, sum or mean`,
    );
  const ignore = ctx.node.attrs.ignore_index;
  return {
    dtype: x.dtype,
    N,
    C,
    D: sizeOf(x.shape.slice(2)),
    targetShape: expected,
    reduction,
    ...(ignore !== undefined ? { ignoreIndex: attrInt(ctx.node, 'ignore_index') } : {}),
    hasWeight: !!weight,
  };
}

export function lossOutputType(s: LossShape): TensorType {
  return { dtype: s.dtype, shape: s.reduction === 'none' ? s.targetShape : [] };
}

/**
 * One kernel: the loss of log-probabilities `logp` ([N, C, D]) against `target` ([N, D]). Out-of-range
 * targets that are not ignored read class 0 rather than memory outside the tensor.
 */
export function nllKernel(
  name: string,
  s: LossShape,
  logp: BufRef,
  target: BufRef,
  weight: BufRef | undefined,
  out: BufRef,
): Kernel {
  const t: Scalar = scalarOf(s.dtype);
  const [n, d] = [v('n'), v('d')];
  const raw = load(target, add(mul(n, i32(s.D)), d));
  const cls = v('cls');
  const ignored = s.ignoreIndex === undefined ? undefined : cmp('eq', raw, cnst(raw.t, s.ignoreIndex));
  const w = v('w', t);
  const loss = v('l', t);
  const weightOf = weight ? load(weight, cls) : cnst(t, 1);
  const pick = load(logp, add(add(mul(n, i32(s.C * s.D)), mul(cls, i32(s.D))), d));
  const body = [
    set('cls', cast('i32', raw)),
    set('cls', select(cmp('lt_u', cls, i32(s.C)), cls, i32(0))),
    set('w', ignored ? select(ignored, cnst(t, 0), weightOf) : weightOf),
    // -(logp · w) with the sign applied last, so an ignored element is +0 rather than -0.
    set('l', ignored ? select(ignored, cnst(t, 0), un('neg', mul(pick, w))) : un('neg', mul(pick, w))),
    s.reduction === 'none' ? store(out, add(mul(n, i32(s.D)), d), loss) : set('sum', add(v('sum', t), loss)),
    set('wsum', add(v('wsum', t), w)),
  ];
  const total: Expr = s.reduction === 'mean' ? div(v('sum', t), v('wsum', t)) : v('sum', t);
  return {
    name,
    body: [
      local('cls', 'i32', i32(0)),
      local('w', t, cnst(t, 0)),
      local('l', t, cnst(t, 0)),
      local('sum', t, cnst(t, 0)),
      local('wsum', t, cnst(t, 0)),
      loop('n', s.N, [loop('d', s.D, body)]),
      ...(s.reduction === 'none' ? [] : [store(out, i32(0), total)]),
    ],
  };
}
