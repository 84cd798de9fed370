/**
 * Gather, GatherElements, GatherND: data-dependent loads. Every loaded index goes through safeIndex, so
 * negative indices wrap and out-of-range ones are clamped instead of reading outside the buffer (indices
 * fed straight from a model input are refused out of range by the runtime first: compiler/index-checks.ts).
 */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import { add, i32, linearIndex, load, mul, stridesOf } from '../../kernels/build.js';
import type { Expr } from '../../kernels/ir.js';
import { attrInt, normAxis, OpError, registerOp, type OpContext, type OpDef } from '../registry.js';
import {
  copyKernel,
  dataInput,
  expectDtype,
  INDEX_DTYPES,
  requireNonEmptyAxis,
  rowMajor,
  safeIndex,
} from './common.js';

function gatherTypes(ctx: OpContext) {
  const data = dataInput(ctx, 0);
  const indices = expectDtype(ctx, 1, INDEX_DTYPES, 'indices');
  const axis = normAxis(attrInt(ctx.node, 'axis', 0), data.shape.length, ctx);
  return { data, indices, axis };
}

const gather: OpDef = {
  infer: (ctx) => {
    const { data, indices, axis } = gatherTypes(ctx);
    const shape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
    requireNonEmptyAxis(ctx, data.shape[axis], axis, sizeOf(shape));
    return [{ dtype: data.dtype, shape }];
  },
  lower: (ctx, io) => {
    const { data, indices, axis } = gatherTypes(ctx);
    const q = indices.shape.length;
    const outShape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
    const strides = stridesOf(data.shape);
    return [
      copyKernel(ctx.node.name, outShape, io.outputs[0], io.inputs[0]!, (idx) => {
        const at = load(io.inputs[1]!, rowMajor(idx.slice(axis, axis + q), indices.shape));
        const pos = [...idx.slice(0, axis), safeIndex(at, data.shape[axis]), ...idx.slice(axis + q)];
        return linearIndex(pos, strides);
      }),
    ];
  },
};

const gatherElements: OpDef = {
  infer: (ctx) => {
    const { data, indices, axis } = gatherTypes(ctx);
    if (indices.shape.length !== data.shape.length)
      throw new OpError(
        ctx.node,
        ctx.opset,
        `indices rank ${indices.shape.length} must equal data rank ${data.shape.length}`,
      );
    requireNonEmptyAxis(ctx, data.shape[axis], axis, sizeOf(indices.shape));
    return [{ dtype: data.dtype, shape: [...indices.shape] }];
  },
  lower: (ctx, io) => {
    const { data, indices, axis } = gatherTypes(ctx);
    return [
      copyKernel(ctx.node.name, indices.shape, io.outputs[0], io.inputs[0]!, (idx) => {
        const at = load(io.inputs[1]!, rowMajor(idx, indices.shape));
        return linearIndex(
          idx.map((e, j) => (j === axis ? safeIndex(at, data.shape[axis]) : e)),
          stridesOf(data.shape),
        );
      }),
    ];
  },
};

/** GatherND layout: b batch dims, index tuples of length k, output = indices[:-1] + data[b+k:]. */
function gatherNDLayout(ctx: OpContext): {
  data: TensorType;
  indices: TensorType;
  b: number;
  k: number;
  outShape: number[];
} {
  const data = dataInput(ctx, 0);
  const indices = expectDtype(ctx, 1, ['int64'], 'indices');
  const b = ctx.opset >= 12 ? attrInt(ctx.node, 'batch_dims', 0) : 0;
  const q = indices.shape.length;
  const r = data.shape.length;
  if (q < 1 || r < 1) throw new OpError(ctx.node, ctx.opset, 'data and indices must have rank ≥ 1');
  const k = indices.shape[q - 1];
  if (b < 0 || b >= Math.min(q, r))
    throw new OpError(ctx.node, ctx.opset, `batch_dims=${b} must be less than both ranks (${r}, ${q})`);
  if (k > r - b)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `index tuples of length ${k} exceed the ${r - b} indexable dims of data [${data.shape}]`,
    );
  for (let i = 0; i < b; i++)
    if (data.shape[i] !== indices.shape[i])
      throw new OpError(
        ctx.node,
        ctx.opset,
        `batch dim ${i} differs: data [${data.shape}] vs indices [${indices.shape}]`,
      );
  const outShape = [...indices.shape.slice(0, q - 1), ...data.shape.slice(b + k)];
  for (let j = 0; j < k; j++) requireNonEmptyAxis(ctx, data.shape[b + j], b + j, sizeOf(outShape));
  return { data, indices, b, k, outShape };
}

const gatherND: OpDef = {
  infer: (ctx) => {
    const { data, outShape } = gatherNDLayout(ctx);
    return [{ dtype: data.dtype, shape: outShape }];
  },
  lower: (ctx, io) => {
    const { data, indices, b, k, outShape } = gatherNDLayout(ctx);
    const q = indices.shape.length;
    const strides = stridesOf(data.shape);
    return [
      copyKernel(ctx.node.name, outShape, io.outputs[0], io.inputs[0]!, (idx) => {
        // Row of the index tuple in indices viewed as [prod(indices[:-1]), k].
        const tuple = rowMajor(idx.slice(0, q - 1), indices.shape.slice(0, q - 1));
        const terms: Expr[] = [linearIndex(idx.slice(0, b), strides.slice(0, b))];
        for (let j = 0; j < k; j++) {
          const at = load(io.inputs[1]!, add(mul(tuple, i32(k)), i32(j)));
          terms.push(mul(safeIndex(at, data.shape[b + j]), i32(strides[b + j])));
        }
        terms.push(linearIndex(idx.slice(q - 1), strides.slice(b + k)));
        return terms.reduce((s, e) => add(s, e));
      }),
    ];
  },
};

registerOp('Gather', gather);
registerOp('GatherElements', gatherElements);
registerOp('GatherND', gatherND);
