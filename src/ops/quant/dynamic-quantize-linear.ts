/**
 * DynamicQuantizeLinear: uint8 quantization with a scale and zero point computed from the data's
 * range, which always includes 0: scale = (max(x, 0) − min(x, 0)) / 255, zero_point = rint(−min / scale).
 */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Kernel } from '../../kernels/ir.js';
import {
  add,
  cmp,
  div,
  f32,
  i32,
  load,
  local,
  loop,
  max,
  min,
  select,
  set,
  store,
  sub,
  un,
  v,
} from '../../kernels/build.js';
import { registerOp, type LowerIO, type OpContext } from '../registry.js';
import { typedInput } from '../nn/common.js';
import { saturateRound } from './common.js';

function infer(ctx: OpContext): TensorType[] {
  const x = typedInput(ctx, 0, 'x', ['float32']);
  return [
    { dtype: 'uint8', shape: x.shape },
    { dtype: 'float32', shape: [] },
    { dtype: 'uint8', shape: [] },
  ];
}

function lower(ctx: OpContext, io: LowerIO): Kernel[] {
  const n = sizeOf(ctx.inputs[0]!.shape);
  const X = io.inputs[0]!;
  const [Y, S, Z] = io.outputs;
  const [lo, hi, scale, zp] = ['lo', 'hi', 'scale', 'zp'].map((name) => v(name, 'f32'));
  const body = [
    local('lo', 'f32', f32(0)),
    local('hi', 'f32', f32(0)),
    loop('r', n, [set('lo', min(lo, load(X, v('r')))), set('hi', max(hi, load(X, v('r'))))]),
    // A zero range (all-zero data) gets scale 1, as onnxruntime does, rather than dividing by 0.
    local('scale', 'f32', select(cmp('eq', hi, lo), f32(1), div(sub(hi, lo), f32(255)))),
    local('zp', 'f32', un('nearest', sub(f32(0), div(lo, scale)))),
    store(S, i32(0), scale),
    store(Z, i32(0), saturateRound(zp, 'uint8')),
    loop('q', n, [
      store(Y, v('q'), saturateRound(add(un('nearest', div(load(X, v('q')), scale)), zp), 'uint8')),
    ]),
  ];
  return [{ name: ctx.node.name, body }];
}

registerOp('DynamicQuantizeLinear', { sinceVersion: 11, infer, lower });
