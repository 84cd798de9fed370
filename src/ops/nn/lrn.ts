/** LRN: y = x / (bias + alpha/size · Σ x²)^beta, the sum over `size` neighbouring channels. */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Kernel, Scalar } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { add, cnst, div, i32, local, loop, mul, set, store, sub, v, when } from '../../kernels/build.js';
import { attrFloat, attrInt, registerOp, type LowerIO, type OpContext } from '../registry.js';
import { FLOAT_TYPES, fail, inRange, loadAs, requireMinRank, typedInput } from './common.js';

function size(ctx: OpContext): number {
  const s = attrInt(ctx.node, 'size');
  if (s < 1) fail(ctx, `size ${s} must be ≥ 1`);
  return s;
}

function infer(ctx: OpContext): TensorType[] {
  const x = typedInput(ctx, 0, 'X', FLOAT_TYPES);
  requireMinRank(ctx, x, 2, 'X');
  size(ctx);
  return [{ dtype: x.dtype, shape: x.shape }];
}

function lower(ctx: OpContext, io: LowerIO): Kernel[] {
  const [N, C, ...spatial] = ctx.inputs[0]!.shape;
  const X = io.inputs[0]!;
  const Y = io.outputs[0];
  const t: Scalar = scalarOf(Y.dtype);
  const n = size(ctx);
  const alpha = attrFloat(ctx.node, 'alpha', 1e-4);
  const beta = attrFloat(ctx.node, 'beta', 0.75);
  const bias = attrFloat(ctx.node, 'bias', 1);
  const S = sizeOf(spatial);
  const before = Math.floor((n - 1) / 2);
  const at = (channel: ReturnType<typeof v>) => add(mul(add(mul(v('b'), i32(C)), channel), i32(S)), v('s'));
  const neighbour = sub(add(v('c'), v('j')), i32(before));
  const body = [
    loop('b', N, [
      loop('c', C, [
        loop('s', S, [
          local('sum', t, cnst(t, 0)),
          loop('j', n, [
            when(inRange(neighbour, C), [
              local('x', t, loadAs(t, X, at(neighbour))),
              set('sum', add(v('sum', t), mul(v('x', t), v('x', t)))),
            ]),
          ]),
          local('d', t, add(cnst(t, bias), mul(cnst(t, alpha / n), v('sum', t)))),
          store(
            Y,
            at(v('c')),
            div(loadAs(t, X, at(v('c'))), { k: 'bin', t, op: 'pow', a: v('d', t), b: cnst(t, beta) }),
          ),
        ]),
      ]),
    ]),
  ];
  return [{ name: ctx.node.name, body }];
}

registerOp('LRN', { infer, lower });
