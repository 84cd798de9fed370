/**
 * QuantizeLinear y = saturate(rint(x / scale) + zero_point) and DequantizeLinear
 * y = (x − zero_point) · scale, per tensor (opset 10), per axis (13) or per block (21).
 */
import { dtypeFromOnnx, type DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import type { Kernel } from '../../kernels/ir.js';
import { add, div, forEachIndex, linearIndex, mul, store, stridesOf, sub, un } from '../../kernels/build.js';
import { attrInt, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { fail, loadAs, typedInput } from '../nn/common.js';
import {
  checkZeroPoint,
  paramIndex,
  paramLayout,
  paramOr0,
  quantTypes,
  saturateRound,
  type ParamLayout,
} from './common.js';

/** Scale dtypes: float32 only before opset 19, then float16 too (bfloat16 has no Kiln storage type). */
const scaleTypes = (opset: number): readonly DType[] => (opset >= 19 ? ['float32', 'float16'] : ['float32']);

interface QuantizeTypes {
  x: TensorType;
  out: DType;
  layout: ParamLayout;
}

/** Output dtype without a zero point: opset 21's output_dtype attribute, else uint8. */
function defaultQuantType(ctx: OpContext): DType {
  const code = ctx.opset >= 21 ? attrInt(ctx.node, 'output_dtype', 0) : 0;
  if (code === 0) return 'uint8';
  let dtype: DType;
  try {
    dtype = dtypeFromOnnx(code);
  } catch (e) {
    fail(ctx, `attribute output_dtype: ${(e as Error).message}`);
  }
  if (!quantTypes(ctx.opset).includes(dtype))
    fail(ctx, `output_dtype ${dtype} is unsupported; expected one of ${quantTypes(ctx.opset).join(', ')}`);
  return dtype;
}

function quantizeTypes(ctx: OpContext): QuantizeTypes {
  const xTypes: DType[] = ctx.opset >= 19 ? ['float32', 'float16', 'int32'] : ['float32', 'int32'];
  const x = typedInput(ctx, 0, 'x', xTypes);
  const scale = typedInput(ctx, 1, 'y_scale', scaleTypes(ctx.opset));
  const layout = paramLayout(ctx, x.shape, scale, 'y_scale');
  const out = checkZeroPoint(ctx, 2, scale, quantTypes(ctx.opset), defaultQuantType(ctx));
  if (ctx.inputs[2] && ctx.opset >= 21 && attrInt(ctx.node, 'output_dtype', 0) !== 0) {
    const declared = defaultQuantType(ctx);
    if (declared !== out) fail(ctx, `output_dtype ${declared} differs from the zero point's dtype ${out}`);
  }
  return { x, out, layout };
}

const quantize: OpDef = {
  infer(ctx) {
    const { x, out } = quantizeTypes(ctx);
    return [{ dtype: out, shape: x.shape }];
  },
  lower(ctx: OpContext, io: LowerIO): Kernel[] {
    const { x, out, layout } = quantizeTypes(ctx);
    const [X, S, Z] = io.inputs;
    const Y = io.outputs[0];
    // int32 / float32 promotes to double in the reference; floats divide in float32 like onnxruntime.
    const t = x.dtype === 'int32' ? 'f64' : 'f32';
    const body = forEachIndex(x.shape, 'i', (idx) => {
      const p = paramIndex(layout, idx);
      const at = linearIndex(idx, stridesOf(x.shape));
      // Round before adding the zero point: with ties to even, rint(a) + z ≠ rint(a + z) for odd z.
      const q = add(un('nearest', div(loadAs(t, X!, at), loadAs(t, S!, p))), paramOr0(t, Z, p));
      return [store(Y, at, saturateRound(q, out))];
    });
    return [{ name: ctx.node.name, body }];
  },
};

function dequantizeTypes(ctx: OpContext): { x: TensorType; out: DType; layout: ParamLayout } {
  const x = typedInput(ctx, 0, 'x', [...quantTypes(ctx.opset), 'int32']);
  const scale = typedInput(ctx, 1, 'x_scale', scaleTypes(ctx.opset));
  const layout = paramLayout(ctx, x.shape, scale, 'x_scale');
  const z = checkZeroPoint(ctx, 2, scale, [x.dtype], x.dtype);
  if (z !== x.dtype) fail(ctx, `zero point has dtype ${z}; expected ${x.dtype} like x`);
  return { x, out: scale.dtype, layout };
}

const dequantize: OpDef = {
  infer(ctx) {
    const { x, out } = dequantizeTypes(ctx);
    return [{ dtype: out, shape: x.shape }];
  },
  lower(ctx: OpContext, io: LowerIO): Kernel[] {
    const { x, layout } = dequantizeTypes(ctx);
    const [X, S, Z] = io.inputs;
    const Y = io.outputs[0];
    const body = forEachIndex(x.shape, 'i', (idx) => {
      const p = paramIndex(layout, idx);
      const at = linearIndex(idx, stridesOf(x.shape));
      const centered = sub(loadAs('f32', X!, at), paramOr0('f32', Z, p));
      return [store(Y, at, mul(centered, loadAs('f32', S!, p)))];
    });
    return [{ name: ctx.node.name, body }];
  },
};

for (const sinceVersion of [10, 13, 19, 21]) {
  registerOp('QuantizeLinear', { ...quantize, sinceVersion });
  registerOp('DequantizeLinear', { ...dequantize, sinceVersion });
}
