/**
 * Gather along a static axis of data whose other dims are known only at run time (a fused qkv tensor
 * [3, batch, heads, seq, d] split by Gather(axis 0)), with indices of a static shape: per outer position
 * and index, one contiguous run of the run-time inner size. Indices wrap and clamp as the static Gather's.
 */
import * as sym from '../ir/symbolic.js';
import { sizeOf } from '../ir/tensor.js';
import type { Kernel } from '../kernels/ir.js';
import { add, i32, load, local, loop, mul, store, v } from '../kernels/build.js';
import { extentOf, kernelExprOf } from '../kernels/extent.js';
import { attrInt, normAxis, type LowerIO } from '../ops/registry.js';
import { safeIndex } from '../ops/shape/common.js';
import type { RowsStep } from './rows-step.js';

const product = (dims: readonly sym.SymLike[]) => dims.reduce<sym.SymLike>((p, d) => sym.mul(p, d), 1);

/** The kernel, or undefined when the indices' own shape is known only at run time. */
export function symbolicGather(step: RowsStep, io: LowerIO): Kernel | undefined {
  const [data, indices] = [step.inputTypes[0]!, step.inputTypes[1]!];
  if (indices.symbolic) return undefined;
  const x = data.symbolic ?? data.shape;
  const axis = normAxis(attrInt(step.node, 'axis', 0), x.length, step.ctx);
  const axisSize = sym.constValue(x[axis])!;
  const count = sizeOf(indices.shape);
  const [outer, inner] = [product(x.slice(0, axis)), product(x.slice(axis + 1))];
  const [X, I, Y] = [io.inputs[0]!, io.inputs[1]!, io.outputs[0]];
  const [o, q, i] = [v('o'), v('q'), v('i')];
  const body = loop('o', extentOf(outer), [
    loop('q', count, [
      local(
        'from',
        'i32',
        mul(add(mul(o, i32(axisSize)), safeIndex(load(I, q), axisSize)), kernelExprOf(inner)),
      ),
      local('to', 'i32', mul(add(mul(o, i32(count)), q), kernelExprOf(inner))),
      loop('i', extentOf(inner), [store(Y, add(v('to'), i), load(X, add(v('from'), i)))]),
    ]),
  ]);
  return { name: step.node.name, body: [body] };
}
