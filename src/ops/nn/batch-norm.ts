/** BatchNormalization, inference form: y = (x − mean)/√(var + ε)·scale + B per channel. */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Extent, Kernel } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { add, cast, div, f64, i32, local, loop, mul, store, sub, un, v } from '../../kernels/build.js';
import { attrFloat, attrInt, registerOp, type LowerIO, type OpContext } from '../registry.js';
import {
  FLOAT_TYPES,
  fail,
  loadAs,
  requireMinRank,
  requireShape,
  typedInput,
  wantsOutput,
} from './common.js';

const PARAMS = ['scale', 'B', 'input_mean', 'input_var'] as const;

function infer(ctx: OpContext): TensorType[] {
  const x = typedInput(ctx, 0, 'X', FLOAT_TYPES);
  requireMinRank(ctx, x, 2, 'X');
  if (attrInt(ctx.node, 'training_mode', 0) !== 0)
    fail(ctx, 'training_mode=1 is unsupported; Kiln compiles inference graphs only');
  if (attrInt(ctx.node, 'spatial', 1) === 0)
    fail(ctx, 'spatial=0 (per-activation statistics) is unsupported');
  if (ctx.node.outputs.some((_, j) => j > 0 && wantsOutput(ctx, j)))
    fail(ctx, 'running mean/variance outputs are training outputs and are unsupported');
  // Since opset 15 scale/B and mean/var may use other float types than X; all are read as f64 here.
  PARAMS.forEach((what, i) =>
    requireShape(ctx, typedInput(ctx, i + 1, what, FLOAT_TYPES), [x.shape[1]], what),
  );
  return [{ dtype: x.dtype, shape: x.shape }];
}

function lower(ctx: OpContext, io: LowerIO): Kernel[] {
  const [N, C, ...spatial] = ctx.inputs[0]!.shape;
  return batchNormKernels(ctx, io, C, N, sizeOf(spatial));
}

/**
 * The kernel over N·C planes of `size` elements each; N and size may be loop extents known only at run
 * time (compiler/symbolic-spatial.ts).
 */
export function batchNormKernels(ctx: OpContext, io: LowerIO, C: number, N: Extent, size: Extent): Kernel[] {
  const [X, scale, B, mean, variance] = io.inputs.map((b) => b!);
  const Y = io.outputs[0];
  const t = scalarOf(Y.dtype);
  const eps = attrFloat(ctx.node, 'epsilon', 1e-5);
  const c = v('c');
  const at = v('at');
  const body = [
    loop('n', N, [
      loop('c', C, [
        // Fold the per-channel constants once: y = x·a + b.
        local(
          'a',
          'f64',
          div(loadAs('f64', scale, c), un('sqrt', add(loadAs('f64', variance, c), f64(eps)))),
        ),
        local('b', 'f64', sub(loadAs('f64', B, c), mul(loadAs('f64', mean, c), v('a', 'f64')))),
        local('at', 'i32', mul(add(mul(v('n'), i32(C)), c), typeof size === 'number' ? i32(size) : size)),
        loop('s', size, [
          store(
            Y,
            add(at, v('s')),
            add(mul(loadAs(t, X, add(at, v('s'))), cast(t, v('a', 'f64'))), cast(t, v('b', 'f64'))),
          ),
        ]),
      ]),
    ]),
  ];
  return [{ name: ctx.node.name, body }];
}

registerOp('BatchNormalization', { infer, lower });
