/**
 * Runs one registered op the way the compiler does: infer, lower, compile the kernels to wasm and
 * execute them. Inputs listed in `dynamic` are fed as run-time buffers instead of compile-time consts.
 */
import '../../src/ops/elementwise/index.js';
import '../../src/ops/reduce/index.js';
import { dtypeBytes, type DType, type TypedArray } from '../../src/ir/dtype.js';
import type { AttrValue, Node, TensorType } from '../../src/ir/graph.js';
import { allocTensor, sizeOf, tensorFromNumbers, type HostTensor } from '../../src/ir/tensor.js';
import type { PlacedBuffer, Program } from '../../src/kernels/ir.js';
import { contextOf as opContext, findOp, type OpContext } from '../../src/ops/registry.js';
import { evaluateProgram } from '../../src/codegen/wasm/evaluate.js';

export const t = (dtype: DType, dims: number[], values: ArrayLike<number>): HostTensor =>
  tensorFromNumbers(dtype, dims, values);

function contextOf(
  op: string,
  opset: number,
  inputs: (HostTensor | TensorType | undefined)[],
  attrs: Record<string, AttrValue>,
  dynamic: number[] = [],
): OpContext {
  const node: Node = {
    op,
    domain: '',
    name: `${op}_test`,
    inputs: inputs.map((x, i) => (x ? `in${i}` : '')),
    outputs: ['out'],
    attrs,
  };
  const isHost = (x: HostTensor | TensorType | undefined): x is HostTensor => !!x && 'data' in x;
  const input = (name: string) => inputs[Number(name.slice(2))];
  return opContext(
    node,
    { '': opset },
    (name) => {
      const x = input(name);
      return x && { dtype: x.dtype, shape: isHost(x) ? x.dims : x.shape };
    },
    (name) => {
      const x = input(name);
      return isHost(x) && !dynamic.includes(Number(name.slice(2))) ? x : undefined;
    },
  );
}

function defOf(op: string, opset: number) {
  const def = findOp(op, '', opset);
  if (!def) throw new Error(`test: ${op} is not registered for opset ${opset}`);
  return def;
}

/** Output types of `op`; inputs may be bare types. */
export function infer(
  op: string,
  opset: number,
  inputs: (HostTensor | TensorType | undefined)[],
  attrs: Record<string, AttrValue> = {},
): TensorType[] {
  return defOf(op, opset).infer(contextOf(op, opset, inputs, attrs));
}

/** Run `op` on concrete inputs and return its outputs. */
export function run(
  op: string,
  opset: number,
  inputs: (HostTensor | undefined)[],
  attrs: Record<string, AttrValue> = {},
  dynamic: number[] = [],
): HostTensor[] {
  const def = defOf(op, opset);
  const ctx = contextOf(op, opset, inputs, attrs, dynamic);
  const types = def.infer(ctx);
  const buffers: PlacedBuffer[] = [];
  let offset = 64;
  const place = (dtype: DType, length: number): PlacedBuffer => {
    const buf: PlacedBuffer = { id: buffers.length, dtype, length, offset };
    offset += Math.ceil(Math.max(1, length * dtypeBytes(dtype)) / 16) * 16 + 16;
    buffers.push(buf);
    return buf;
  };
  const inBufs = inputs.map((x) => (x ? place(x.dtype, sizeOf(x.dims)) : undefined));
  const outBufs = types.map((o) => place(o.dtype, sizeOf(o.shape)));
  const kernels = def.lower!(ctx, { inputs: inBufs, outputs: outBufs, scratch: place });
  const program: Program = { buffers, memoryBytes: offset + 64, init: [], run: kernels };
  const feeds = inputs.flatMap((x, i) => (x ? [{ buf: inBufs[i]!, data: x.data as TypedArray }] : []));
  const results = evaluateProgram(program, feeds, outBufs);
  return types.map((o, i) => {
    const out = allocTensor(o.dtype, [...o.shape]);
    (out.data as TypedArray).set(results[i] as never);
    return out;
  });
}

/** The values of a tensor as plain numbers (bigints converted), for toEqual / toBeCloseTo checks. */
export const values = (x: HostTensor): number[] => Array.from(x.data as ArrayLike<number | bigint>, Number);

/** float32 rounding of JS numbers, so expectations match f32 arithmetic exactly where it is exact. */
export const f32 = (xs: number[]): number[] => Array.from(Float32Array.from(xs));

export function expectClose(actual: number[], expected: number[], tol = 1e-5): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  actual.forEach((a, i) => {
    const e = expected[i];
    const ok = Number.isNaN(e)
      ? Number.isNaN(a)
      : a === e || Math.abs(a - e) <= tol * Math.max(1, Math.abs(e));
    if (!ok) throw new Error(`element ${i}: got ${a}, expected ${e} (all: [${actual.join(', ')}])`);
  });
}
