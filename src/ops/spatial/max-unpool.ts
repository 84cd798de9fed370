/**
 * MaxUnpool: the partial inverse of MaxPool. Output is zero except at the flat positions (over the
 * whole output tensor) that MaxPool's indices name, which receive the pooled values.
 */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf, tensorToNumbers } from '../../ir/tensor.js';
import type { Expr, Extent, Kernel } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  bin,
  cast,
  cmp,
  cnst,
  dim,
  i32,
  i64,
  load,
  local,
  loop,
  mul,
  store,
  stridesOf,
  v,
  when,
} from '../../kernels/build.js';
import { attrInts, constInput, registerOp, type LowerIO, type OpContext } from '../registry.js';
import { rowMajorAt } from '../shape/common.js';

import { FLOAT_TYPES, allOf, fail, fmtShape, inRange, requireShape, typedInput } from '../nn/common.js';

/** The output shape MaxPool's indices refer to: the input shape of the MaxPool that produced X. */
function poolInputShape(ctx: OpContext): number[] {
  const x = typedInput(ctx, 0, 'X', FLOAT_TYPES);
  if (x.shape.length < 3)
    fail(ctx, `input 0 (X) has shape ${fmtShape(x.shape)}; expected [N, C, spatial...]`);
  const r = x.shape.length - 2;
  const kernel = attrInts(ctx.node, 'kernel_shape');
  const strides = attrInts(ctx.node, 'strides', new Array<number>(r).fill(1));
  const pads = attrInts(ctx.node, 'pads', new Array<number>(2 * r).fill(0));
  if (kernel.length !== r || strides.length !== r || pads.length !== 2 * r)
    fail(
      ctx,
      `kernel_shape [${kernel}], strides [${strides}] and pads [${pads}] must have ${r}, ${r} and ${2 * r} entries for ${r} spatial dims`,
    );
  const spatial = x.shape.slice(2).map((d, i) => (d - 1) * strides[i] - pads[i] - pads[i + r] + kernel[i]);
  if (spatial.some((d) => d < 0))
    fail(
      ctx,
      `the inferred output spatial shape ${fmtShape(spatial)} is negative; check kernel_shape, strides and pads`,
    );
  return [x.shape[0], x.shape[1], ...spatial];
}

/** Whether output_shape (input 2) is read at run time: each output dim a fed size (passes/data-shapes.ts). */
export const outputShapeFed = (ctx: OpContext) => !!ctx.inputs[2] && !ctx.consts[2];

/**
 * output_shape when given (it may add rows and columns at the end, e.g. an odd size MaxPool rounded
 * down), else the inferred MaxPool input shape (also the rank of an output_shape read at run time, whose
 * bounds data-shapes gives).
 */
function outputShape(ctx: OpContext): number[] {
  const inferred = poolInputShape(ctx);
  if (outputShapeFed(ctx) && sizeOf(ctx.inputs[2]!.shape) !== inferred.length)
    fail(
      ctx,
      `output_shape (input 2) must list ${inferred.length} dims, like X, found shape [${ctx.inputs[2]!.shape}]`,
    );
  if (!ctx.inputs[2] || outputShapeFed(ctx)) return inferred;
  const given = tensorToNumbers(constInput(ctx, 2, 'output_shape'));
  if (given.length !== inferred.length || given.some((d) => !Number.isInteger(d) || d < 0))
    fail(ctx, `output_shape [${given}] must list ${inferred.length} non-negative dims, like X`);
  return given;
}

function infer(ctx: OpContext): TensorType[] {
  const x = typedInput(ctx, 0, 'X', FLOAT_TYPES);
  const indices = typedInput(ctx, 1, 'I', ['int64']);
  requireShape(ctx, indices, x.shape, 'input 1 (I)');
  if (ctx.inputs[2]) typedInput(ctx, 2, 'output_shape', ['int64']);
  return [{ dtype: x.dtype, shape: outputShape(ctx) }];
}

function lower(ctx: OpContext, io: LowerIO): Kernel[] {
  const X = io.inputs[0]!;
  const I = io.inputs[1]!;
  const Y = io.outputs[0];
  const n = sizeOf(ctx.inputs[0]!.shape);
  const from = poolInputShape(ctx);
  // output_shape read at run time: each dim the symbol the runtime resolved, outside the bounds refused
  const to: Extent[] = outputShapeFed(ctx)
    ? from.map((_, d) => dim(io.sizes!.find((s) => s.fed?.index === d)!.symbol))
    : outputShape(ctx);
  const index = load(I, v('e'));
  // The indices are flat positions in the pooled tensor's shape; a different output_shape keeps each
  // value at the same coordinates, dropping those that fall outside.
  const fromStrides = stridesOf(from);
  const coord = (d: number) => bin('rem_u', bin('div_u', v('flat'), i32(fromStrides[d])), i32(from[d]));
  const fits = allOf(
    to
      .map((size, d) =>
        typeof size !== 'number'
          ? cmp('lt_u', coord(d), size)
          : size < from[d]
            ? inRange(coord(d), size)
            : undefined,
      )
      .filter((c) => c !== undefined),
  );
  const target = to.every((d, i) => d === from[i])
    ? v('flat')
    : rowMajorAt(
        to.map((_, d) => coord(d)),
        to,
      );
  const write = store(Y, target, load(X, v('e')));
  // zeroed at the real size: all fed dims, or all numbers
  const count: Extent = to.every((d) => typeof d === 'number')
    ? sizeOf(to as number[])
    : (to as Expr[]).reduce((n, d) => mul(n, d));
  // An index outside the pooled tensor (not one MaxPool could produce) writes nothing rather than memory past Y.
  const body = [
    loop('z', count, [store(Y, v('z'), cnst(scalarOf(Y.dtype), 0))]),
    loop('e', n, [
      when(cmp('lt_u', index, i64(sizeOf(from))), [
        local('flat', 'i32', cast('i32', index)),
        fits ? when(fits, [write]) : write,
      ]),
    ]),
  ];
  return [{ name: ctx.node.name, body }];
}

registerOp('MaxUnpool', { sinceVersion: 9, infer, lower });
