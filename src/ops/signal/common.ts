/** Inputs and attributes shared by the signal ops. */
import { dtypeFromOnnx, type DType } from '../../ir/dtype.js';
import { sizeOf, tensorToNumbers } from '../../ir/tensor.js';
import { OpError, attrInt, constInput, type OpContext } from '../registry.js';
import { NUMERIC, typedInput } from '../elementwise/common.js';

/** A constant scalar integer input (shape [] or [1]), or undefined when the input is omitted. */
export function constIntScalar(ctx: OpContext, i: number, what: string): number | undefined {
  if (!ctx.inputs[i]) return undefined;
  const type = typedInput(ctx, i, ['int32', 'int64']);
  if (sizeOf(type.shape) !== 1 || type.shape.length > 1)
    throw new OpError(ctx.node, ctx.opset, `${what} must be a scalar, found shape [${type.shape}]`);
  return tensorToNumbers(constInput(ctx, i, what))[0];
}

/** The `output_datatype` attribute (an ONNX TensorProto type code, default float) as a numeric dtype. */
export function outputDatatype(ctx: OpContext): DType {
  const code = attrInt(ctx.node, 'output_datatype', 1);
  let dtype: DType;
  try {
    dtype = dtypeFromOnnx(code);
  } catch (e) {
    throw new OpError(ctx.node, ctx.opset, `output_datatype: ${(e as Error).message}`);
  }
  if (!NUMERIC.includes(dtype))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `output_datatype ${dtype} is not supported; expected a numeric type`,
    );
  return dtype;
}
