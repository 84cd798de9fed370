/**
 * CLI: npx tsx tests/ops/shape-harness/dtypes.ts — build single-node models of the data-movement ops for
 * every storage dtype, run them through the real compiler + wasm runtime and compare with the Kernel IR
 * interpreter. Catches storage-width mistakes (narrow ints, float16, 64-bit, bool) the float32-heavy
 * ONNX node tests miss.
 */
import onnxProto from 'onnx-proto';
import { compileModel } from '../../../src/compiler/compile.js';
import { loadModel } from '../../../src/runtime/index.js';
import { onnxFromDtype, type DType, type TypedArray } from '../../../src/ir/dtype.js';
import type { AttrValue, Node } from '../../../src/ir/graph.js';
import { allocTensor, tensorFromNumbers, type HostTensor } from '../../../src/ir/tensor.js';
import '../../../src/ops/index.js';
import { evalOp } from './node-test.js';
import { floatToHalf } from './interp.js';

const { onnx } = onnxProto;

function sample(dtype: DType, dims: number[], seed: number): HostTensor {
  const t = allocTensor(dtype, dims);
  const d = t.data as TypedArray;
  for (let i = 0; i < d.length; i++) {
    const x = ((i * 7 + seed * 13) % 11) - (/uint|bool/.test(dtype) ? 0 : 5);
    const v = dtype === 'bool' ? x & 1 : dtype.startsWith('float') ? x * 0.5 : x;
    if (d instanceof BigInt64Array || d instanceof BigUint64Array) d[i] = BigInt(v) * (1n << 33n) + 1n;
    else d[i] = dtype === 'float16' ? floatToHalf(v) : v;
  }
  return t;
}

interface Case {
  op: string;
  attrs?: Record<string, AttrValue>;
  /** data input shape; further inputs are constants */
  shape: number[];
  /** undefined = an omitted optional input */
  consts?: (HostTensor | undefined)[];
  opset?: number;
  /** the op only takes numeric data */
  numeric?: boolean;
}

const i64 = (v: number[]) => tensorFromNumbers('int64', [v.length], v);
const CASES: Case[] = [
  { op: 'Transpose', shape: [2, 3, 4], attrs: { perm: [2, 0, 1] } },
  { op: 'Concat', shape: [2, 3], attrs: { axis: 1 } },
  { op: 'Slice', shape: [4, 5], consts: [i64([3, -1]), i64([-100, 0]), i64([0, 1]), i64([-2, -1])] },
  { op: 'Gather', shape: [4, 3], consts: [i64([3, -1, 0])], attrs: { axis: 0 } },
  {
    op: 'GatherElements',
    shape: [3, 3],
    consts: [tensorFromNumbers('int32', [2, 3], [0, 2, -1, 1, 1, 0])],
    attrs: { axis: 0 },
  },
  { op: 'GatherND', shape: [2, 3, 2], consts: [tensorFromNumbers('int64', [2, 2], [1, 2, 0, -1])] },
  { op: 'Pad', shape: [3, 2], consts: [i64([2, 1, 1, 0])], attrs: { mode: 'reflect' } },
  { op: 'Pad', shape: [3, 2], consts: [i64([1, 0, 0, 2])], attrs: { mode: 'edge' } },
  { op: 'Pad', shape: [3, 2], consts: [i64([1, 1, 1, 1])] },
  { op: 'Tile', shape: [2, 3], consts: [i64([2, 1])] },
  { op: 'Expand', shape: [3, 1], consts: [i64([2, 3, 4])] },
  { op: 'Split', shape: [6, 2], consts: [i64([2, 4])], attrs: { axis: 0 } },
  { op: 'DepthToSpace', shape: [1, 8, 2, 2], attrs: { blocksize: 2, mode: 'CRD' } },
  { op: 'SpaceToDepth', shape: [1, 2, 4, 4], attrs: { blocksize: 2 } },
  {
    op: 'Resize',
    shape: [1, 1, 2, 3],
    consts: [undefined, undefined, i64([1, 1, 3, 5])],
    attrs: { mode: 'nearest' },
  },
  { op: 'ScatterElements', shape: [3, 3], attrs: { axis: 0 } },
  { op: 'ReverseSequence', shape: [3, 2, 2], consts: [i64([2, 3])] },
  { op: 'Trilu', shape: [3, 4], opset: 14 },
  { op: 'Dropout', shape: [2, 3] },
];

const DTYPE_LIST: DType[] = [
  'float32',
  'float16',
  'float64',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
];

function valueInfo(name: string, t: HostTensor) {
  return {
    name,
    type: {
      tensorType: { elemType: onnxFromDtype(t.dtype), shape: { dim: t.dims.map((d) => ({ dimValue: d })) } },
    },
  };
}

function attrProto(name: string, v: AttrValue) {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: A.INT, i: v };
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v as number[] };
  throw new Error('attribute kind not needed here');
}

async function runCase(c: Case, dtype: DType): Promise<string | undefined> {
  const data = sample(dtype, c.shape, 1);
  let inputs: (HostTensor | undefined)[] = [data, ...(c.consts ?? [])];
  if (c.op === 'Concat') inputs = [data, sample(dtype, [2, 2], 2)];
  if (c.op === 'ScatterElements')
    inputs = [data, tensorFromNumbers('int64', [2, 3], [1, 0, 2, 0, 2, 1]), sample(dtype, [2, 3], 3)];
  const names = inputs.map((t, i) => (t ? `in${i}` : ''));
  const outputs = c.op === 'Split' ? ['out0', 'out1'] : ['out0'];
  const node: Node = {
    op: c.op,
    domain: '',
    name: `${c.op}_0`,
    inputs: names,
    outputs,
    attrs: c.attrs ?? {},
  };
  const opset = c.opset ?? 13;
  let want: HostTensor[];
  try {
    want = evalOp(node, opset, inputs);
  } catch (e) {
    return `interpreter: ${(e as Error).message}`;
  }
  const model = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'g',
      node: [
        {
          opType: c.op,
          name: node.name,
          input: names,
          output: outputs,
          attribute: Object.entries(node.attrs).map(([k, v]) => attrProto(k, v)),
        },
      ],
      input: inputs.flatMap((t, i) => (t ? [valueInfo(names[i], t)] : [])),
      output: want.map((t, i) => valueInfo(outputs[i], t)),
    },
  }).finish();
  // Everything but the data (and ScatterElements' updates) is a compile-time constant.
  const runtime = new Set(
    c.op === 'ScatterElements' || c.op === 'GatherElements' || c.op === 'Gather'
      ? ['in0', 'in1', 'in2']
      : ['in0'],
  );
  if (c.op === 'Concat') runtime.add('in1');
  const consts = Object.fromEntries(
    inputs.flatMap((t, i) => (!t || runtime.has(names[i]) ? [] : [[names[i], t]])),
  );
  const files = await compileModel(model, { consts });
  const m = await loadModel(files, { backend: 'wasm' });
  try {
    const feeds = Object.fromEntries(
      inputs.flatMap((t, i) => (t && runtime.has(names[i]) ? [[names[i], t]] : [])),
    );
    const got = await m.run(feeds as never);
    for (const [i, w] of want.entries()) {
      const g = got[outputs[i]] as HostTensor;
      const a = [...(g.data as TypedArray)].map(String).join();
      const b = [...(w.data as TypedArray)].map(String).join();
      if (g.dims.join() !== w.dims.join() || a !== b)
        return `output ${i}: got [${g.dims}] ${a}, want [${w.dims}] ${b}`;
    }
  } finally {
    m.dispose();
  }
  return undefined;
}

let failures = 0;
for (const c of CASES)
  for (const dtype of DTYPE_LIST) {
    const problem = await runCase(c, dtype).catch((e: Error) => e.message.split('\n')[0]);
    if (problem) {
      failures++;
      console.log(`${c.op}${c.attrs?.mode ? `(${c.attrs.mode})` : ''} ${dtype}: ${problem}`);
    }
  }
console.log(`${CASES.length * DTYPE_LIST.length - failures}/${CASES.length * DTYPE_LIST.length} passed`);
