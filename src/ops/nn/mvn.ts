/** MeanVarianceNormalization: y = (x − E[x]) / (√(E[x²] − E[x]²) + 1e-9) over `axes`, as the ONNX function body. */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Expr, Kernel } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  cast,
  div,
  f64,
  forEachIndex,
  linearIndex,
  local,
  mul,
  set,
  store,
  stridesOf,
  sub,
  un,
  v,
} from '../../kernels/build.js';
import { attrInts, normAxis, registerOp, type LowerIO, type OpContext } from '../registry.js';
import { FLOAT_TYPES, fail, fmtShape, loadAs, typedInput } from './common.js';

/** The function body adds this to the standard deviation. */
const EPSILON = 1e-9;

function axesOf(ctx: OpContext, rank: number): number[] {
  const axes = attrInts(ctx.node, 'axes', [0, 2, 3]).map((a) => normAxis(a, rank, ctx));
  if (new Set(axes).size !== axes.length) fail(ctx, `axes ${fmtShape(axes)} repeat an axis`);
  return axes;
}

function infer(ctx: OpContext): TensorType[] {
  const x = typedInput(ctx, 0, 'X', FLOAT_TYPES);
  axesOf(ctx, x.shape.length);
  return [{ dtype: x.dtype, shape: x.shape }];
}

function lower(ctx: OpContext, io: LowerIO): Kernel[] {
  const shape = ctx.inputs[0]!.shape;
  const axes = axesOf(ctx, shape.length);
  const X = io.inputs[0]!;
  const Y = io.outputs[0];
  const t = scalarOf(Y.dtype);
  const strides = stridesOf(shape);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const reduced = [...axes].sort((a, b) => a - b);
  const count = sizeOf(reduced.map((a) => shape[a]));
  const body = forEachIndex(
    kept.map((a) => shape[a]),
    'o',
    (outer) => {
      const base = linearIndex(
        outer,
        kept.map((a) => strides[a]),
      );
      const over = (prefix: string, visit: (index: Expr) => ReturnType<typeof set>[]) =>
        forEachIndex(
          reduced.map((a) => shape[a]),
          prefix,
          (inner) =>
            visit(
              add(
                base,
                linearIndex(
                  inner,
                  reduced.map((a) => strides[a]),
                ),
              ),
            ),
        );
      return [
        local('sum', 'f64', f64(0)),
        local('sq', 'f64', f64(0)),
        ...over('a', (i) => [
          local('x', 'f64', loadAs('f64', X, i)),
          set('sum', add(v('sum', 'f64'), v('x', 'f64'))),
          set('sq', add(v('sq', 'f64'), mul(v('x', 'f64'), v('x', 'f64')))),
        ]),
        local('mean', 'f64', div(v('sum', 'f64'), f64(count))),
        local(
          'variance',
          'f64',
          sub(div(v('sq', 'f64'), f64(count)), mul(v('mean', 'f64'), v('mean', 'f64'))),
        ),
        local('inv', 'f64', div(f64(1), add(un('sqrt', v('variance', 'f64')), f64(EPSILON)))),
        ...over('b', (i) => [
          store(Y, i, mul(sub(loadAs(t, X, i), cast(t, v('mean', 'f64'))), cast(t, v('inv', 'f64')))),
        ]),
      ];
    },
  );
  return [{ name: ctx.node.name, body }];
}

registerOp('MeanVarianceNormalization', { infer, lower });
