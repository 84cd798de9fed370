/** Ops whose output is input 0's bytes under another shape: no kernel, the buffer is aliased. */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import { cnst, forEachIndex, load, store } from '../../kernels/build.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  attrInt,
  attrInts,
  constInput,
  OpError,
  registerOp,
  type OpContext,
  type OpDef,
} from '../registry.js';
import { constInts, dataInput, expectDtype, hasInput, INDEX_DTYPES, normAxes, rowMajor } from './common.js';

const identity: OpDef = { alias: true, infer: (ctx) => [dataInput(ctx, 0)] };

/** Resolve a Reshape target: 0 copies the input dim (unless allowzero), one -1 is inferred. */
function reshapeTo(ctx: OpContext, x: TensorType, target: number[], allowzero: boolean): TensorType {
  const dims = target.map((d, i) => {
    if (d === 0 && !allowzero) {
      if (i >= x.shape.length)
        throw new OpError(
          ctx.node,
          ctx.opset,
          `shape [${target}] copies dim ${i} (0) but the input has rank ${x.shape.length}`,
        );
      return x.shape[i];
    }
    if (d < -1) throw new OpError(ctx.node, ctx.opset, `shape [${target}] has invalid dim ${d}`);
    return d;
  });
  const inferred = dims.filter((d) => d === -1).length;
  if (inferred > 1) throw new OpError(ctx.node, ctx.opset, `shape [${target}] has more than one -1`);
  if (allowzero && inferred && target.includes(0))
    throw new OpError(ctx.node, ctx.opset, `shape [${target}] combines -1 with 0 while allowzero=1`);
  const total = sizeOf(x.shape);
  if (inferred) {
    const known = sizeOf(dims.filter((d) => d !== -1));
    if (known === 0 || total % known !== 0)
      throw new OpError(
        ctx.node,
        ctx.opset,
        `cannot reshape [${x.shape}] to [${target}]: ${total} elements do not divide by ${known}`,
      );
    dims[dims.indexOf(-1)] = total / known;
  }
  if (sizeOf(dims) !== total)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `cannot reshape [${x.shape}] (${total} elements) to [${dims}] (${sizeOf(dims)} elements)`,
    );
  return { dtype: x.dtype, shape: dims };
}

/**
 * The lowering of an alias op only where its output is planned larger than its input (a target or axes
 * fed at run time, each dim at its bound): the elements copied into the output's own buffer.
 */
const copyElements: OpDef['lower'] = (ctx, io) => {
  const count = [sizeOf(dataInput(ctx, 0).shape)];
  const copy = forEachIndex(count, 'i', ([i]) => [store(io.outputs[0], i, load(io.inputs[0]!, i))], {
    parallel: true,
  });
  return [{ name: ctx.node.name, body: copy }];
};

/**
 * The output of an Unsqueeze (`count` axes inserted) or a Squeeze (`count` removed) of `x` whose axes are
 * fed at run time (passes/data-shapes.ts), at its bounds: output dim i is 1 or one of the input dims that
 * can land there.
 */
export function fedAxesBounds(ctx: OpContext, op: 'unsqueeze' | 'squeeze'): TensorType {
  const x = dataInput(ctx, 0);
  const axes = expectDtype(ctx, 1, INDEX_DTYPES, 'axes');
  const count = sizeOf(axes.shape);
  const rank = op === 'unsqueeze' ? x.shape.length + count : x.shape.length - count;
  if (axes.shape.length !== 1 || rank < 0)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `axes (input 1) must be 1-D and at most the rank of input 0 (${x.shape.length}), found shape [${axes.shape}]`,
    );
  const shape = Array.from({ length: rank }, (_, i) => {
    const [first, last] = op === 'unsqueeze' ? [i - count, i] : [i, i + count];
    return Math.max(1, ...x.shape.slice(Math.max(0, first), last + 1));
  });
  return { dtype: x.dtype, shape };
}

/** Whether input 1 (axes) of an Unsqueeze or Squeeze is read at run time, its length known. */
const axesFed = (ctx: OpContext) => hasInput(ctx, 1) && !ctx.consts[1] && sizeOf(ctx.inputs[1]!.shape) > 0;

const reshapeAttr: OpDef = {
  alias: true,
  infer: (ctx) => [reshapeTo(ctx, dataInput(ctx, 0), attrInts(ctx.node, 'shape'), false)],
};

/** Reshape-14's allowzero: a 0 in the target is a 0-size dim, not a copy of the input's. */
export const reshapeAllowsZero = (ctx: OpContext) =>
  ctx.opset >= 14 && attrInt(ctx.node, 'allowzero', 0) === 1;

const reshapeInput = (sinceVersion: number): OpDef => ({
  sinceVersion,
  alias: true,
  infer: (ctx) => {
    const x = dataInput(ctx, 0);
    const target = expectDtype(ctx, 1, INDEX_DTYPES, 'shape');
    if (target.shape.length !== 1)
      throw new OpError(ctx.node, ctx.opset, `shape (input 1) must be 1-D, found shape [${target.shape}]`);
    // a target fed at run time (passes/data-shapes.ts): each dim at most the element count, or for an empty
    // input (where allowzero lets any dim beside a 0 through) at most its largest dim
    if (!ctx.consts[1])
      return [{ dtype: x.dtype, shape: Array(target.shape[0]).fill(Math.max(sizeOf(x.shape), ...x.shape)) }];
    return [reshapeTo(ctx, x, constInts(ctx, 1, 'shape'), reshapeAllowsZero(ctx))];
  },
  lower: copyElements,
});

const flatten: OpDef = {
  alias: true,
  infer: (ctx) => {
    const x = dataInput(ctx, 0);
    const r = x.shape.length;
    let axis = attrInt(ctx.node, 'axis', 1);
    if (axis < -r || axis > r)
      throw new OpError(ctx.node, ctx.opset, `axis ${axis} out of range [-${r}, ${r}]`);
    if (axis < 0) axis += r;
    return [{ dtype: x.dtype, shape: [sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis))] }];
  },
};

function squeezeShape(ctx: OpContext, x: TensorType, axes: number[] | undefined): TensorType {
  if (!axes) return { dtype: x.dtype, shape: x.shape.filter((d) => d !== 1) };
  const drop = normAxes(ctx, axes, x.shape.length);
  for (const a of drop)
    if (x.shape[a] !== 1)
      throw new OpError(
        ctx.node,
        ctx.opset,
        `cannot squeeze axis ${a} of shape [${x.shape}]: its size is ${x.shape[a]}, not 1`,
      );
  return { dtype: x.dtype, shape: x.shape.filter((_, i) => !drop.includes(i)) };
}

const squeezeAttr: OpDef = {
  alias: true,
  infer: (ctx) => [
    squeezeShape(
      ctx,
      dataInput(ctx, 0),
      ctx.node.attrs.axes === undefined ? undefined : attrInts(ctx.node, 'axes'),
    ),
  ],
};

/** Squeeze-13 axes input; an omitted or empty one squeezes every size-1 dim. */
function squeezeAxesInput(ctx: OpContext): number[] | undefined {
  const axes = hasInput(ctx, 1) && sizeOf(ctx.inputs[1]!.shape) > 0 ? constInts(ctx, 1, 'axes') : [];
  return axes.length ? axes : undefined;
}

const squeezeInput: OpDef = {
  sinceVersion: 13,
  alias: true,
  infer: (ctx) =>
    axesFed(ctx)
      ? [fedAxesBounds(ctx, 'squeeze')]
      : [squeezeShape(ctx, dataInput(ctx, 0), squeezeAxesInput(ctx))],
  lower: copyElements,
};

function unsqueezeShape(ctx: OpContext, x: TensorType, axes: number[]): TensorType {
  const rank = x.shape.length + axes.length;
  const inserted = normAxes(ctx, axes, rank);
  const rest = [...x.shape];
  return {
    dtype: x.dtype,
    shape: Array.from({ length: rank }, (_, i) => (inserted.includes(i) ? 1 : rest.shift()!)),
  };
}

const unsqueezeAttr: OpDef = {
  alias: true,
  infer: (ctx) => [unsqueezeShape(ctx, dataInput(ctx, 0), attrInts(ctx.node, 'axes'))],
};

const unsqueezeInput: OpDef = {
  sinceVersion: 13,
  alias: true,
  infer: (ctx) =>
    axesFed(ctx)
      ? [fedAxesBounds(ctx, 'unsqueeze')]
      : [unsqueezeShape(ctx, dataInput(ctx, 0), constInts(ctx, 1, 'axes'))],
  lower: copyElements,
};

/**
 * Inference-mode Dropout: output 0 aliases the input; the optional mask (output 1) is all true, filled
 * by the kernel below, the only thing `lower` writes.
 */
const dropout: OpDef = {
  alias: true,
  infer: (ctx) => {
    const x = dataInput(ctx, 0);
    if (ctx.opset >= 12 && hasInput(ctx, 2)) {
      const training = constInput(ctx, 2, 'training_mode');
      if (Number(training.data[0]))
        throw new OpError(
          ctx.node,
          ctx.opset,
          'training_mode=true is unsupported: Kiln compiles inference only',
        );
    }
    const out: TensorType[] = [x];
    if (ctx.node.outputs.length > 1 && ctx.node.outputs[1])
      out.push({ dtype: ctx.opset >= 10 ? 'bool' : x.dtype, shape: [...x.shape] });
    return out;
  },
  lower: (ctx, io) => {
    const mask = io.outputs[1];
    if (!mask) return [];
    const shape = [mask.length];
    const one = cnst(scalarOf(mask.dtype), 1);
    return [
      {
        name: `${ctx.node.name}_mask`,
        body: forEachIndex(shape, 'i', (idx) => [store(mask, rowMajor(idx, shape), one)]),
      },
    ];
  },
};

registerOp('Identity', identity);
registerOp('Reshape', reshapeAttr);
registerOp('Reshape', reshapeInput(5));
registerOp('Reshape', reshapeInput(14));
registerOp('Flatten', flatten);
registerOp('Squeeze', squeezeAttr);
registerOp('Squeeze', squeezeInput);
registerOp('Unsqueeze', unsqueezeAttr);
registerOp('Unsqueeze', unsqueezeInput);
registerOp('Dropout', dropout);
