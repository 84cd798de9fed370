/**
 * Kernels whose strides are shape expressions, for ops whose dims known only at run time do not lead
 * every operand (attention: [batch, heads, seq, seq] scores, a mask broadcast over heads, a Transpose
 * that moves `seq` inward). Loop extents and strides are Kernel IR expressions over the dims block; the
 * buffers are placed at the bounds and hold the values contiguously at their run-time shapes.
 *
 * Elementwise ops (and fused chains of them) always lower here: one flat loop when the operands have
 * the output's shape. Others (MatMul, Transpose, Softmax, kiln.FusedSoftmax) when lowerRows cannot take them.
 */
import * as sym from '../ir/symbolic.js';
import { tensorToNumbers } from '../ir/tensor.js';
import type { Node, TensorType } from '../ir/graph.js';
import type { BufRef, Expr, Kernel, Stmt } from '../kernels/ir.js';
import { add, f32, i32, load, local, loop, mul, set, store, v } from '../kernels/build.js';
import { broadcastStrides, extentOf, indexOf, kernelExprOf, strides } from '../kernels/extent.js';
import { attrInt, attrInts, normAxis, OpError, type LowerIO, type OpDef } from '../ops/registry.js';
import { FUSED_DOMAIN, fusedCompute, isFusedChain } from '../ops/fused.js';
import { rowKernel } from '../ops/reduce/softmax.js';
import { FUSED_SOFTMAX, fusedSoftmaxKernel } from '../ops/reduce/fused-softmax.js';
import type { RowsStep } from './rows-step.js';
import { symbolicGather } from './symbolic-gather.js';

type Shape = readonly sym.SymLike[];

export const shapeOf = (t: TensorType): Shape => t.symbolic ?? t.shape;
const product = (dims: Shape): sym.SymLike => dims.reduce<sym.SymLike>((p, d) => sym.mul(p, d), 1);

/** Loops over `shape` (outermost first) with vars `${prefix}0..`. */
export function forEach(shape: Shape, prefix: string, body: (idx: Expr[]) => Stmt[]): Stmt[] {
  const idx = shape.map((_, i) => v(`${prefix}${i}`));
  let stmts = body(idx);
  for (let i = shape.length - 1; i >= 0; i--) stmts = [loop(`${prefix}${i}`, extentOf(shape[i]), stmts)];
  return stmts;
}

function elementwise(
  name: string,
  out: BufRef,
  outShape: Shape,
  operands: { buf: BufRef; shape: Shape }[],
  compute: (values: Expr[]) => Expr,
): Kernel {
  const same = (s: Shape) =>
    sym.constValue(product(s)) === 1 ||
    (s.length === outShape.length && s.every((d, i) => sym.symEqual(d, outShape[i])));
  if (operands.every((o) => same(o.shape))) {
    const i = v('i');
    const values = operands.map((o) => load(o.buf, sym.constValue(product(o.shape)) === 1 ? i32(0) : i));
    return { name, body: [loop('i', extentOf(product(outShape)), [store(out, i, compute(values))])] };
  }
  const outStrides = strides(outShape);
  const body = forEach(outShape, 'd', (idx) => [
    store(
      out,
      indexOf(idx, outStrides),
      compute(operands.map((o) => load(o.buf, indexOf(idx, broadcastStrides(o.shape, outShape.length))))),
    ),
  ]);
  return { name, body };
}

function transpose(step: RowsStep, io: LowerIO): Kernel {
  const x = shapeOf(step.inputTypes[0]!);
  const perm = attrInts(
    step.node,
    'perm',
    x.map((_, i) => x.length - 1 - i),
  );
  const inStrides = strides(x);
  const outShape = perm.map((p) => x[p]);
  const outStrides = strides(outShape);
  const body = forEach(outShape, 'd', (idx) => [
    store(
      io.outputs[0],
      indexOf(idx, outStrides),
      load(
        io.inputs[0]!,
        indexOf(
          idx,
          perm.map((p) => inStrides[p]),
        ),
      ),
    ),
  ]);
  return { name: step.node.name, body };
}

/**
 * float32 MatMul of rank ≥ 2 operands with broadcast batch dims, a loop nest (sizes known at run time):
 * per output row, zeroed and then accumulated a·B[k, :] for each k, so the innermost loop walks a row of B
 * and of the output with unit stride (what the wasm generator vectorizes).
 */
function matMul(step: RowsStep, io: LowerIO): Kernel {
  const [a, b] = [shapeOf(step.inputTypes[0]!), shapeOf(step.inputTypes[1]!)];
  const out = shapeOf(step.outputTypes[0]);
  if (a.length < 2 || b.length < 2 || step.outputTypes[0].dtype !== 'float32')
    throw new OpError(
      step.node,
      step.ctx.opset,
      'runs with dims known only at run time for float32 operands of rank ≥ 2 only; fix them with --shape',
    );
  const rank = out.length;
  const [M, K, N] = [a[a.length - 2], a[a.length - 1], b[b.length - 1]];
  const batch = out.slice(0, rank - 2);
  const aStrides = broadcastStrides(a, rank);
  const bStrides = broadcastStrides(b, rank);
  const outStrides = strides(out);
  const [A, B, Y] = [io.inputs[0]!, io.inputs[1]!, io.outputs[0]];
  const body = forEach([...batch, M], 'd', (idx) => {
    const m = idx[idx.length - 1];
    const bi = idx.slice(0, -1);
    const at = (st: sym.SymLike[], row: Expr, col: Expr) => indexOf([...bi, row, col], st);
    const y = (n: string) => at(outStrides, m, v(n));
    return [
      loop('z', extentOf(N), [store(Y, y('z'), f32(0))]),
      loop('k', extentOf(K), [
        set('a', load(A, at(aStrides, m, v('k')))),
        loop('n', extentOf(N), [
          store(Y, y('n'), add(load(Y, y('n')), mul(v('a', 'f32'), load(B, at(bStrides, v('k'), v('n')))))),
        ]),
      ]),
    ];
  });
  return { name: step.node.name, body: [local('a', 'f32', f32(0)), ...body] };
}

function softmax(step: RowsStep, io: LowerIO, variant: 'softmax' | 'logsoftmax'): Kernel {
  const x = shapeOf(step.inputTypes[0]!);
  const coerce2d = step.ctx.opset < 13;
  const axis = normAxis(attrInt(step.node, 'axis', coerce2d ? 1 : -1), x.length, step.ctx);
  const split = {
    outer: extentOf(product(x.slice(0, axis))),
    d: extentOf(product(coerce2d ? x.slice(axis) : [x[axis]])),
    inner: extentOf(product(coerce2d ? [] : x.slice(axis + 1))),
  };
  return rowKernel(step.node.name, variant, io.inputs[0]!, io.outputs[0], split);
}

/**
 * Slice (opset ≥ 10) with constant starts, axes and positive steps: out[idx] = in[start + idx·step] per
 * axis; the output's extents (which may come from a shape value) are the type's.
 */
function slice(step: RowsStep, io: LowerIO): Kernel | undefined {
  const { ctx } = step;
  const x = shapeOf(step.inputTypes[0]!);
  const number = (i: number) =>
    ctx.consts[i] && !step.computedAtRunTime(i) ? tensorToNumbers(ctx.consts[i]!) : undefined;
  const starts = number(1);
  if (ctx.opset < 10 || !starts || (ctx.node.inputs[3] && !number(3)) || (ctx.node.inputs[4] && !number(4)))
    return undefined;
  const axes = (number(3) ?? starts.map((_, i) => i)).map((a) => normAxis(a, x.length, ctx));
  const first: sym.SymLike[] = x.map(() => 0);
  const stride: number[] = x.map(() => 1);
  for (const [j, a] of axes.entries()) {
    const st = number(4)?.[j] ?? 1;
    const d = sym.constValue(x[a]);
    let s0 = starts[j];
    if (st < 1 || (s0 < 0 && d === undefined)) return undefined;
    if (d !== undefined) s0 = Math.min(d, Math.max(0, s0 < 0 ? s0 + d : s0));
    [first[a], stride[a]] = [s0, st];
  }
  const out = shapeOf(step.outputTypes[0]);
  const inStrides = strides(x);
  const body = forEach(out, 'd', (idx) => [
    store(
      io.outputs[0],
      indexOf(idx, strides(out)),
      load(
        io.inputs[0]!,
        indexOf(
          idx.map((e, a) => {
            const moved = stride[a] === 1 ? e : mul(e, i32(stride[a]));
            return sym.constValue(first[a]) === 0 ? moved : add(moved, kernelExprOf(first[a]));
          }),
          inStrides,
        ),
      ),
    ),
  ]);
  return { name: step.node.name, body };
}

/**
 * Concat on a static axis of inputs whose other dims are known only at run time (a detector's FPN levels
 * joined over channels): each input is copied into its band of the output, at its offset along the axis.
 */
function concat(step: RowsStep, io: LowerIO): Kernel {
  const out = shapeOf(step.outputTypes[0]);
  const axis = normAxis(attrInt(step.node, 'axis', step.ctx.opset < 4 ? 1 : undefined), out.length, step.ctx);
  const outStrides = strides(out);
  let offset = 0;
  const body = step.inputTypes.flatMap((t, i) => {
    if (!t || !io.inputs[i]) return [];
    const x = shapeOf(t);
    const at = offset;
    offset += sym.constValue(x[axis])!;
    return forEach(x, `c${i}_`, (idx) => [
      store(
        io.outputs[0],
        indexOf(
          idx.map((e, a) => (a === axis && at !== 0 ? add(e, i32(at)) : e)),
          outStrides,
        ),
        load(io.inputs[i]!, indexOf(idx, strides(x))),
      ),
    ]);
  });
  return { name: step.node.name, body };
}

/** Whether an op normalizes over an axis holding a symbolic dim (then it cannot run row by row). */
export function mixesSymbolicAxis(step: RowsStep): boolean {
  if (isFusedSoftmax(step.node)) return sym.constValue(shapeOf(step.outputTypes[0]).at(-1)!) === undefined;
  if (step.node.domain !== '' || (step.node.op !== 'Softmax' && step.node.op !== 'LogSoftmax')) return false;
  const x = shapeOf(step.inputTypes[0]!);
  const coerce2d = step.ctx.opset < 13;
  const axis = normAxis(attrInt(step.node, 'axis', coerce2d ? 1 : -1), x.length, step.ctx);
  return (coerce2d ? x.slice(axis) : [x[axis]]).some((d) => sym.constValue(d) === undefined);
}

const isFusedSoftmax = (node: Node): boolean => node.domain === FUSED_DOMAIN && node.op === FUSED_SOFTMAX;

/** Whether an op always lowers here (elementwise ops and fused chains of them, Slice). */
export function alwaysWithStrides(step: RowsStep, def: OpDef): boolean {
  return isElementwise(step, def) || (step.node.domain === '' && step.node.op === 'Slice');
}

function isElementwise(step: RowsStep, def: OpDef): boolean {
  return isFusedChain(step.node) || def.elementwise !== undefined;
}

/** The op's kernels with expression strides, or undefined when there is no such lowering for it. */
export function symbolicKernels(step: RowsStep, def: OpDef, io: LowerIO): Kernel[] | undefined {
  const { node, ctx } = step;
  const operands = step.inputTypes.flatMap((t, i) =>
    t && io.inputs[i] ? [{ buf: io.inputs[i]!, shape: shapeOf(t) }] : [],
  );
  const outShape = shapeOf(step.outputTypes[0]);
  if (isElementwise(step, def)) {
    const compute = isFusedChain(node)
      ? fusedCompute(ctx)
      : (values: Expr[]) => def.elementwise!(ctx, values);
    return [elementwise(node.name, io.outputs[0], outShape, operands, compute)];
  }
  if (isFusedSoftmax(node))
    return [fusedSoftmaxKernel(node.name, io.outputs[0], outShape, operands, fusedCompute(ctx))];
  if (node.domain !== '') return undefined;
  switch (node.op) {
    case 'Transpose':
      return [transpose(step, io)];
    case 'Concat':
      return [concat(step, io)];
    case 'MatMul':
      return [matMul(step, io)];
    case 'Slice': {
      const kernel = slice(step, io);
      return kernel && [kernel];
    }
    case 'Gather': {
      const kernel = symbolicGather(step, io);
      return kernel && [kernel];
    }
    case 'Softmax':
      return [softmax(step, io, 'softmax')];
    case 'LogSoftmax':
      return [softmax(step, io, 'logsoftmax')];
    default:
      return undefined;
  }
}
