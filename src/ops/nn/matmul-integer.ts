/** MatMulInteger: int32 Σ (a − a_zero_point)·(b − b_zero_point) over (u)int8 operands, MatMul shape rules. */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { BufRef, Expr, Kernel } from '../../kernels/ir.js';
import {
  add,
  forEachIndex,
  i32,
  linearIndex,
  load,
  local,
  loop,
  mul,
  set,
  store,
  stridesOf,
  sub,
  v,
} from '../../kernels/build.js';
import { broadcastIndex } from '../broadcast.js';
import { registerOp, type LowerIO, type OpContext } from '../registry.js';
import { fail, fmtShape, typedInput } from './common.js';
import { matmulShape } from './matmul.js';

const QUANT_TYPES = ['int8', 'uint8'] as const;

/** A zero point: a scalar (per tensor) or one value per row of A / column of B. */
function checkZeroPoint(ctx: OpContext, i: number, what: string, dtype: string, perAxis: number): void {
  const z = ctx.inputs[i];
  if (!z) return;
  if (z.dtype !== dtype)
    fail(ctx, `input ${i} (${what}) has dtype ${z.dtype}; expected ${dtype} like its operand`);
  if (sizeOf(z.shape) !== 1 && !(z.shape.length === 1 && z.shape[0] === perAxis))
    fail(ctx, `${what} has shape ${fmtShape(z.shape)}; expected a scalar or [${perAxis}]`);
}

function infer(ctx: OpContext): TensorType[] {
  const a = typedInput(ctx, 0, 'A', QUANT_TYPES);
  const b = typedInput(ctx, 1, 'B', QUANT_TYPES);
  const { M, N, out } = matmulShape(ctx, a.shape, b.shape);
  checkZeroPoint(ctx, 2, 'a_zero_point', a.dtype, M);
  checkZeroPoint(ctx, 3, 'b_zero_point', b.dtype, N);
  return [{ dtype: 'int32', shape: out }];
}

function lower(ctx: OpContext, io: LowerIO): Kernel[] {
  const { M, K, N, aBatch, bBatch, batch } = matmulShape(ctx, ctx.inputs[0]!.shape, ctx.inputs[1]!.shape);
  const [A, B, az, bz] = io.inputs;
  const Y = io.outputs[0];
  const zero = (z: BufRef | undefined, i: Expr): Expr => (z ? load(z, z.length === 1 ? i32(0) : i) : i32(0));
  const body = forEachIndex([...batch, M, N], 'y', (idx) => {
    const b = idx.slice(0, batch.length);
    const [m, n] = idx.slice(batch.length);
    const aAt = add(mul(add(mul(broadcastIndex(b, aBatch), i32(M)), m), i32(K)), v('k'));
    const bAt = add(mul(add(mul(broadcastIndex(b, bBatch), i32(K)), v('k')), i32(N)), n);
    return [
      local('acc', 'i32', i32(0)),
      loop('k', K, [
        set('acc', add(v('acc'), mul(sub(load(A!, aAt), zero(az, m)), sub(load(B!, bAt), zero(bz, n))))),
      ]),
      store(Y, linearIndex(idx, stridesOf([...batch, M, N])), v('acc')),
    ];
  });
  return [{ name: ctx.node.name, body }];
}

registerOp('MatMulInteger', { sinceVersion: 10, infer, lower });
