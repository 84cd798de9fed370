/** Shape and Size: their values follow from types alone, so they always fold at compile time. */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf, tensorFromNumbers } from '../../ir/tensor.js';
import { attrInt, inputType, registerOp, type OpContext, type OpDef } from '../registry.js';

/** The dims Shape reports: [start, end) of the input shape, clamped like Python slicing (opset 15). */
function shapeSlice(ctx: OpContext): number[] {
  const shape = inputType(ctx, 0).shape;
  const r = shape.length;
  const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
  const start = ctx.opset >= 15 ? clamp(attrInt(ctx.node, 'start', 0)) : 0;
  const end = ctx.opset >= 15 && ctx.node.attrs.end !== undefined ? clamp(attrInt(ctx.node, 'end')) : r;
  return shape.slice(start, Math.max(start, end));
}

const shape: OpDef = {
  infer: (ctx): TensorType[] => [{ dtype: 'int64', shape: [shapeSlice(ctx).length] }],
  fold: (ctx) => {
    const dims = shapeSlice(ctx);
    return [tensorFromNumbers('int64', [dims.length], dims)];
  },
};

const size: OpDef = {
  infer: (): TensorType[] => [{ dtype: 'int64', shape: [] }],
  fold: (ctx) => [tensorFromNumbers('int64', [], [sizeOf(inputType(ctx, 0).shape)])],
};

registerOp('Shape', shape);
registerOp('Size', size);
