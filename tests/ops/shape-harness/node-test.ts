/**
 * Runs one ONNX backend node test (model.onnx + test_data_set_0) through an op's infer + lower and
 * the Kernel IR interpreter, with every input known at compile time (as constant folding sees it).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { dtypeFromOnnx, type TypedArray } from '../../../src/ir/dtype.js';
import type { AttrValue, Node } from '../../../src/ir/graph.js';
import { allocTensor, sizeOf, type HostTensor } from '../../../src/ir/tensor.js';
import { findOp, type OpContext } from '../../../src/ops/registry.js';
import type { BufRef } from '../../../src/kernels/ir.js';
import { interpretKernels, Memory } from '../../../src/kernels/interpret.js';
import { verifyKernel } from '../../../src/kernels/verify.js';
import { halfToFloat } from '../../../src/ir/float16.js';

const { onnx } = onnxProto;

export const NODE_TESTS = '/usr/include/onnx/backend/test/data/node';

function tensorFromProto(t: onnxProto.onnx.ITensorProto): HostTensor {
  const dtype = dtypeFromOnnx(t.dataType ?? 0);
  const dims = (t.dims ?? []).map(Number);
  const out = allocTensor(dtype, dims);
  const data = out.data as TypedArray;
  const n = sizeOf(dims);
  if (t.rawData && t.rawData.length) {
    const raw = t.rawData;
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    new Uint8Array(data.buffer).set(copy);
    return out;
  }
  const src: ArrayLike<number | bigint | { toString(): string }> =
    (t.floatData?.length ? t.floatData : undefined) ??
    (t.doubleData?.length ? t.doubleData : undefined) ??
    (t.int64Data?.length ? t.int64Data : undefined) ??
    (t.uint64Data?.length ? t.uint64Data : undefined) ??
    t.int32Data ??
    [];
  for (let i = 0; i < n; i++) {
    const x = src[i];
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(x.toString());
    else data[i] = Number(x.toString());
  }
  return out;
}

function attrValue(a: onnxProto.onnx.IAttributeProto): AttrValue {
  switch (a.type) {
    case onnx.AttributeProto.AttributeType.INT:
      return Number(a.i);
    case onnx.AttributeProto.AttributeType.FLOAT:
      return a.f ?? 0;
    case onnx.AttributeProto.AttributeType.STRING:
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case onnx.AttributeProto.AttributeType.INTS:
      return (a.ints ?? []).map(Number);
    case onnx.AttributeProto.AttributeType.FLOATS:
      return [...(a.floats ?? [])];
    case onnx.AttributeProto.AttributeType.TENSOR:
      return tensorFromProto(a.t!);
    default:
      throw new Error(`attribute type ${a.type} not handled by the test harness`);
  }
}

export interface NodeTestResult {
  status: 'pass' | 'fail' | 'error';
  message?: string;
}

/**
 * Infer, then fold or lower + interpret one node with every given input known at compile time.
 * Alias outputs get a copy of input 0, as sharing the buffer would give.
 */
export function evalOp(node: Node, opset: number, consts: (HostTensor | undefined)[]): HostTensor[] {
  const ctx: OpContext = {
    node,
    opset,
    inputs: consts.map((t) => (t ? { dtype: t.dtype, shape: [...t.dims] } : undefined)),
    consts,
  };
  const def = findOp(node.op, node.domain, opset);
  if (!def) throw new Error(`${node.op} opset ${opset} not registered`);
  const types = def.infer(ctx);
  const folded = def.fold?.(ctx);
  if (folded) return folded;
  const mem = new Memory();
  let id = 0;
  const ref = (t: { dtype: HostTensor['dtype']; length: number }): BufRef => ({ id: id++, ...t });
  const inRefs = consts.map((t) => (t ? ref({ dtype: t.dtype, length: sizeOf(t.dims) }) : undefined));
  inRefs.forEach((r, i) => r && (mem.get(r) as TypedArray).set(consts[i]!.data as never));
  const outRefs = types.map((t) => ref({ dtype: t.dtype, length: sizeOf(t.shape) }));
  const kernels =
    def.lower?.(ctx, {
      inputs: inRefs,
      outputs: outRefs,
      scratch: (dtype, length) => ref({ dtype, length }),
    }) ?? [];
  kernels.forEach((k) => verifyKernel(k));
  if (def.alias) mem.get(outRefs[0]).set(mem.get(inRefs[0]!) as never);
  interpretKernels(kernels, mem);
  return outRefs.map((r, i) => ({ dtype: r.dtype, dims: types[i].shape, data: mem.get(r) }));
}

export function listNodeTests(filter: RegExp): string[] {
  return readdirSync(NODE_TESTS)
    .filter((n) => filter.test(n))
    .sort();
}

function readTensor(path: string): HostTensor {
  return tensorFromProto(onnx.TensorProto.decode(readFileSync(path)));
}

function asNumbers(t: HostTensor): number[] {
  const d = t.data as TypedArray;
  const out: number[] = [];
  for (let i = 0; i < d.length; i++)
    out.push(t.dtype === 'float16' ? halfToFloat(d[i] as number) : Number(d[i]));
  return out;
}

export function runNodeTest(name: string): NodeTestResult {
  const dir = join(NODE_TESTS, name);
  const model = onnx.ModelProto.decode(readFileSync(join(dir, 'model.onnx')));
  const g = model.graph!;
  // Constant nodes feeding the op under test become known values.
  const constants = g.node!.filter((n) => n.opType === 'Constant');
  const ops = g.node!.filter((n) => n.opType !== 'Constant');
  if (ops.length !== 1) return { status: 'error', message: `${ops.length} non-Constant nodes` };
  const p = ops[0];
  const opset = Number(model.opsetImport!.find((o) => !o.domain)?.version ?? 1);
  const node: Node = {
    op: p.opType!,
    domain: p.domain ?? '',
    name: p.name || `${p.opType}_0`,
    inputs: [...p.input!],
    outputs: [...p.output!],
    attrs: Object.fromEntries((p.attribute ?? []).map((a) => [a.name!, attrValue(a)])),
  };
  const data = join(dir, 'test_data_set_0');
  const files = readdirSync(data);
  const graphInputs = g.input!.map((i) => i.name!);
  const byName = new Map<string, HostTensor>();
  graphInputs.forEach((n, i) => {
    if (files.includes(`input_${i}.pb`)) byName.set(n, readTensor(join(data, `input_${i}.pb`)));
  });
  for (const init of g.initializer ?? []) byName.set(init.name!, tensorFromProto(init));
  for (const c of constants)
    byName.set(c.output![0], tensorFromProto(c.attribute!.find((a) => a.name === 'value')!.t!));
  const consts = node.inputs.map((n) => (n ? byName.get(n) : undefined));
  try {
    const outs = evalOp(node, opset, consts);
    for (let i = 0; i < node.outputs.length; i++) {
      const path = join(data, `output_${i}.pb`);
      if (!files.includes(`output_${i}.pb`)) continue;
      const want = readTensor(path);
      const got = outs[i];
      if (got.dtype !== want.dtype)
        return { status: 'fail', message: `output ${i}: dtype ${got.dtype} vs ${want.dtype}` };
      if (got.dims.join() !== want.dims.join())
        return { status: 'fail', message: `output ${i}: shape [${got.dims}] vs [${want.dims}]` };
      const a = asNumbers(got);
      const b = asNumbers(want);
      for (let j = 0; j < b.length; j++) {
        const tol = 1e-4 + 1e-3 * Math.abs(b[j]);
        if (!(Math.abs(a[j] - b[j]) <= tol) && !(Number.isNaN(a[j]) && Number.isNaN(b[j])))
          return { status: 'fail', message: `output ${i}[${j}]: ${a[j]} vs ${b[j]}` };
      }
    }
    return { status: 'pass' };
  } catch (e) {
    return { status: 'error', message: (e as Error).message };
  }
}

/** The single-node ONNX tests of the data-movement ops (expanded function bodies and non-tensor inputs excluded). */
export const SHAPE_TESTS = new RegExp(
  '^test_(?!.*_expanded$)(?!identity_(opt|sequence))(identity|reshape|flatten|squeeze|unsqueeze|dropout|shape|size|transpose|' +
    'concat|split|slice|gather|scatter|expand|tile|constant_pad|edge_pad|reflect_pad|constantofshape|range|eyelike|onehot|' +
    'tril|triu|depthtospace|spacetodepth|compress|nonzero|resize|upsample|reversesequence)',
);
