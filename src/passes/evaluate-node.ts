/**
 * Constant folding by running an op's own kernels at compile time: the node is lowered exactly as it
 * would be for the bundle and run by the compiler's ProgramEvaluator (the wasm code generator's, compiled
 * without optimization: about 100× faster than the Kernel IR interpreter on a transposed weight). One
 * implementation of each op's semantics.
 */
import type { TensorType } from '../ir/graph.js';
import { allocTensor, sizeOf, type HostTensor } from '../ir/tensor.js';
import { dtypeBytes, type DType, type TypedArray } from '../ir/dtype.js';
import type { BufRef, PlacedBuffer, Program, ProgramEvaluator } from '../kernels/ir.js';
import type { OpContext, OpDef } from '../ops/registry.js';
import { OpError } from '../ops/registry.js';

const ALIGN = 16;
const align = (n: number, a = ALIGN) => Math.ceil(n / a) * a;

export function evaluateNode(
  def: OpDef,
  ctx: OpContext,
  outTypes: TensorType[],
  evaluateProgram: ProgramEvaluator,
): HostTensor[] {
  if (!def.lower) throw new OpError(ctx.node, ctx.opset, 'cannot be evaluated at compile time');
  const buffers: PlacedBuffer[] = [];
  let offset = 64;
  const place = (dtype: DType, length: number): PlacedBuffer => {
    if (dtype === 'string') throw new OpError(ctx.node, ctx.opset, 'string tensors are not supported');
    const buf: PlacedBuffer = { id: buffers.length, dtype, length, offset };
    offset = align(offset + Math.max(1, length * dtypeBytes(dtype)));
    buffers.push(buf);
    return buf;
  };
  const inputs = ctx.consts.map((t) => (t ? place(t.dtype, sizeOf(t.dims)) : undefined));
  const outputs = outTypes.map((t) => place(t.dtype, sizeOf(t.shape)));
  const kernels = def.lower(ctx, {
    inputs: inputs as (BufRef | undefined)[],
    outputs,
    scratch: (dtype, length) => place(dtype, length),
  });
  const program: Program = { buffers, memoryBytes: offset, init: [], run: kernels };
  const feeds = ctx.consts.flatMap((t, i) => (t ? [{ buf: inputs[i]!, data: t.data as TypedArray }] : []));
  const results = evaluateProgram(program, feeds, outputs);
  return outTypes.map((t, i) => {
    const out = allocTensor(t.dtype, [...t.shape]);
    (out.data as TypedArray).set(results[i] as never);
    return out;
  });
}
