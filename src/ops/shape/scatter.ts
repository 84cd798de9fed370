/**
 * ScatterElements (and the deprecated Scatter) and ScatterND: copy the data, then write the updates in
 * order at data-dependent positions (wrapped and clamped by safeIndex), combining per `reduction`.
 */
import type { TensorType } from '../../ir/graph.js';
import {
  add,
  forEachIndex,
  i32,
  local,
  linearIndex,
  load,
  max,
  min,
  mul,
  store,
  stridesOf,
  v,
} from '../../kernels/build.js';
import type { BufRef, Expr, Kernel, Stmt } from '../../kernels/ir.js';
import {
  attrInt,
  attrString,
  normAxis,
  OpError,
  registerOp,
  type OpContext,
  type OpDef,
} from '../registry.js';
import {
  copyKernel,
  dataInput,
  expectDtype,
  INDEX_DTYPES,
  requireNonEmptyAxis,
  rowMajor,
  safeIndex,
} from './common.js';
import { sizeOf } from '../../ir/tensor.js';

type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';

function reductionOf(ctx: OpContext, data: TensorType): Reduction {
  const r = ctx.opset >= 16 ? attrString(ctx.node, 'reduction', 'none') : 'none';
  const allowed = ctx.opset >= 18 ? ['none', 'add', 'mul', 'max', 'min'] : ['none', 'add', 'mul'];
  if (!allowed.includes(r))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `reduction '${r}' is unsupported (expected ${allowed.join(', ')})`,
    );
  if (r !== 'none' && data.dtype === 'bool')
    throw new OpError(ctx.node, ctx.opset, `reduction '${r}' on bool data is unsupported`);
  // Kernel IR min/max compare signed: wrong for the upper half of uint32/uint64.
  if ((r === 'max' || r === 'min') && (data.dtype === 'uint32' || data.dtype === 'uint64'))
    throw new OpError(ctx.node, ctx.opset, `reduction '${r}' on ${data.dtype} data is unsupported`);
  return r as Reduction;
}

function combine(r: Reduction, old: Expr, update: Expr): Expr {
  switch (r) {
    case 'none':
      return update;
    case 'add':
      return add(old, update);
    case 'mul':
      return mul(old, update);
    case 'max':
      return max(old, update);
    case 'min':
      return min(old, update);
  }
}

/** out[pos] = combine(out[pos], update), with the data-dependent position computed once into a local. */
function updateAt(out: BufRef, pos: Expr, reduction: Reduction, update: Expr): Stmt[] {
  const p = v('pos');
  return [local('pos', 'i32', pos), store(out, p, combine(reduction, load(out, p), update))];
}

/** Copy of the data into the output: updates are then applied in place. */
const copyData = (name: string, out: BufRef, data: BufRef, n: number): Kernel =>
  copyKernel(`${name}_copy`, [n], out, data, (idx) => idx[0]);

function scatterElementsTypes(ctx: OpContext) {
  const data = dataInput(ctx, 0);
  const indices = expectDtype(ctx, 1, INDEX_DTYPES, 'indices');
  const updates = dataInput(ctx, 2);
  const axis = normAxis(attrInt(ctx.node, 'axis', 0), data.shape.length, ctx);
  if (updates.dtype !== data.dtype)
    throw new OpError(ctx.node, ctx.opset, `updates are ${updates.dtype} but data is ${data.dtype}`);
  if (indices.shape.length !== data.shape.length || indices.shape.join() !== updates.shape.join())
    throw new OpError(
      ctx.node,
      ctx.opset,
      `indices [${indices.shape}] and updates [${updates.shape}] must have the same shape and the rank of data [${data.shape}]`,
    );
  requireNonEmptyAxis(ctx, data.shape[axis], axis, sizeOf(indices.shape));
  return { data, indices, axis, reduction: reductionOf(ctx, data) };
}

const scatterElements: OpDef = {
  infer: (ctx) => [{ ...scatterElementsTypes(ctx).data }],
  lower: (ctx, io) => {
    const { data, indices, axis, reduction } = scatterElementsTypes(ctx);
    const out = io.outputs[0];
    const strides = stridesOf(data.shape);
    const body = forEachIndex(indices.shape, 'u', (idx) => {
      const at = rowMajor(idx, indices.shape);
      const pos = linearIndex(
        idx.map((e, j) => (j === axis ? safeIndex(load(io.inputs[1]!, at), data.shape[axis]) : e)),
        strides,
      );
      return updateAt(out, pos, reduction, load(io.inputs[2]!, at));
    });
    return [
      copyData(ctx.node.name, out, io.inputs[0]!, sizeOf(data.shape)),
      { name: `${ctx.node.name}_scatter`, body },
    ];
  },
};

function scatterNDTypes(ctx: OpContext) {
  const data = dataInput(ctx, 0);
  const indices = expectDtype(ctx, 1, ['int64'], 'indices');
  const updates = dataInput(ctx, 2);
  const q = indices.shape.length;
  if (q < 1) throw new OpError(ctx.node, ctx.opset, 'indices must have rank ≥ 1');
  const k = indices.shape[q - 1];
  if (k > data.shape.length)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `index tuples of length ${k} exceed the rank of data [${data.shape}]`,
    );
  const expected = [...indices.shape.slice(0, q - 1), ...data.shape.slice(k)];
  if (updates.dtype !== data.dtype || updates.shape.join() !== expected.join())
    throw new OpError(
      ctx.node,
      ctx.opset,
      `updates must be ${data.dtype}[${expected}], found ${updates.dtype}[${updates.shape}]`,
    );
  for (let j = 0; j < k; j++) requireNonEmptyAxis(ctx, data.shape[j], j, sizeOf(updates.shape));
  return { data, indices, updates, k, reduction: reductionOf(ctx, data) };
}

const scatterND: OpDef = {
  infer: (ctx) => [{ ...scatterNDTypes(ctx).data }],
  lower: (ctx, io) => {
    const { data, indices, updates, k, reduction } = scatterNDTypes(ctx);
    const out = io.outputs[0];
    const q = indices.shape.length;
    const strides = stridesOf(data.shape);
    const body = forEachIndex(updates.shape, 'u', (idx) => {
      const tuple = rowMajor(idx.slice(0, q - 1), indices.shape.slice(0, q - 1));
      let pos = linearIndex(idx.slice(q - 1), strides.slice(k));
      for (let j = 0; j < k; j++) {
        const at = load(io.inputs[1]!, add(mul(tuple, i32(k)), i32(j)));
        pos = add(pos, mul(safeIndex(at, data.shape[j]), i32(strides[j])));
      }
      return updateAt(out, pos, reduction, load(io.inputs[2]!, rowMajor(idx, updates.shape)));
    });
    return [
      copyData(ctx.node.name, out, io.inputs[0]!, sizeOf(data.shape)),
      { name: `${ctx.node.name}_scatter`, body },
    ];
  },
};

registerOp('Scatter', scatterElements);
registerOp('ScatterElements', scatterElements);
registerOp('ScatterND', scatterND);
