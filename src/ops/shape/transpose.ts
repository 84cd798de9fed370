/** Transpose: output axis j walks input axis perm[j]. */
import type { Node } from '../../ir/graph.js';
import { linearIndex, stridesOf } from '../../kernels/build.js';
import { attrInts, OpError, registerOp, type OpDef } from '../registry.js';
import { copyKernel, dataInput } from './common.js';

/** A Transpose node's perm (reversed axes when it has none). */
export function permOf(node: Node, rank: number): number[] {
  return attrInts(
    node,
    'perm',
    Array.from({ length: rank }, (_, i) => rank - 1 - i),
  );
}

const transpose: OpDef = {
  infer: (ctx) => {
    const x = dataInput(ctx, 0);
    const r = x.shape.length;
    const perm = permOf(ctx.node, r);
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== r || sorted.some((p, i) => p !== i))
      throw new OpError(
        ctx.node,
        ctx.opset,
        `perm [${perm}] is not a permutation of the ${r} axes of [${x.shape}]`,
      );
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  lower: (ctx, io) => {
    const x = ctx.inputs[0]!;
    const perm = permOf(ctx.node, x.shape.length);
    const inStrides = stridesOf(x.shape);
    const outShape = perm.map((p) => x.shape[p]);
    return [
      copyKernel(ctx.node.name, outShape, io.outputs[0], io.inputs[0]!, (idx) =>
        linearIndex(
          idx,
          perm.map((p) => inStrides[p]),
        ),
      ),
    ];
  },
};

registerOp('Transpose', transpose);
