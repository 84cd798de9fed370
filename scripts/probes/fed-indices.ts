/**
 * Probe (#11 bad input): what Kiln (wasm) and onnxruntime-node do when an index or size fed at run time
 * is out of range. One row per case: op, feed, Kiln's answer, ORT's answer.
 *   TSX_DISABLE_CACHE=1 npx tsx scripts/probes/fed-indices.ts [OP...]   (only the cases of those ops)
 */
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import type { Feed } from '../../src/runtime/types.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { buildModel, type ModelSpec } from '../../tests/helpers/onnx-builder.js';
import { runOrt } from '../../tests/helpers/ort-oracle.js';

const f32 = (dims: number[]): HostTensor => ({
  dtype: 'float32',
  dims,
  data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => i + 1),
});
const i64 = (dims: number[], ...v: number[]): HostTensor => ({
  dtype: 'int64',
  dims,
  data: BigInt64Array.from(v.map(BigInt)),
});

interface Case {
  name: string;
  spec: ModelSpec;
  feeds: Record<string, HostTensor>[];
}

const node = (op: string, inputs: string[], attrs = {}) => ({ op, inputs, outputs: ['y'], name: 'n', attrs });
const io = (inputs: ModelSpec['inputs'], opset = 13): Pick<ModelSpec, 'opset' | 'inputs' | 'outputs'> => ({
  opset,
  inputs,
  outputs: [{ name: 'y', dtype: 'float32' }],
});

const CASES: Case[] = [
  {
    name: 'Gather',
    spec: {
      ...io([
        { name: 'x', dtype: 'float32', shape: [5, 3] },
        { name: 'i', dtype: 'int64', shape: [2] },
      ]),
      nodes: [node('Gather', ['x', 'i'])],
    },
    feeds: [7, 5, -6, -5].map((v) => ({ x: f32([5, 3]), i: i64([2], 0, v) })),
  },
  {
    name: 'GatherElements',
    spec: {
      ...io([
        { name: 'x', dtype: 'float32', shape: [3, 3] },
        { name: 'i', dtype: 'int64', shape: [1, 3] },
      ]),
      nodes: [node('GatherElements', ['x', 'i'])],
    },
    feeds: [3, -4, -3].map((v) => ({ x: f32([3, 3]), i: i64([1, 3], 0, v, 1) })),
  },
  {
    name: 'GatherND',
    spec: {
      ...io([
        { name: 'x', dtype: 'float32', shape: [2, 2] },
        { name: 'i', dtype: 'int64', shape: [2, 2] },
      ]),
      nodes: [node('GatherND', ['x', 'i'])],
    },
    feeds: [2, -3, -2].map((v) => ({ x: f32([2, 2]), i: i64([2, 2], 0, 0, 1, v) })),
  },
  {
    name: 'ScatterElements',
    spec: {
      ...io([
        { name: 'x', dtype: 'float32', shape: [3, 3] },
        { name: 'i', dtype: 'int64', shape: [1, 3] },
        { name: 'u', dtype: 'float32', shape: [1, 3] },
      ]),
      nodes: [node('ScatterElements', ['x', 'i', 'u'])],
    },
    feeds: [3, -4, -1].map((v) => ({ x: f32([3, 3]), i: i64([1, 3], 0, v, 1), u: f32([1, 3]) })),
  },
  {
    name: 'ScatterND',
    spec: {
      ...io([
        { name: 'x', dtype: 'float32', shape: [4] },
        { name: 'i', dtype: 'int64', shape: [2, 1] },
        { name: 'u', dtype: 'float32', shape: [2] },
      ]),
      nodes: [node('ScatterND', ['x', 'i', 'u'])],
    },
    feeds: [4, -5, -1].map((v) => ({ x: f32([4]), i: i64([2, 1], 0, v), u: f32([2]) })),
  },
  {
    name: 'OneHot',
    spec: {
      opset: 11,
      inputs: [{ name: 'i', dtype: 'int64', shape: [3] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: [
        { name: 'depth', tensor: i64([], 4) },
        { name: 'values', tensor: { dtype: 'float32', dims: [2], data: Float32Array.of(0, 1) } },
      ],
      nodes: [node('OneHot', ['i', 'depth', 'values'])],
    },
    feeds: [4, -5, -1].map((v) => ({ i: i64([3], 0, v, 1) })),
  },
  {
    name: 'ReverseSequence (sequence_lens)',
    spec: {
      ...io(
        [
          { name: 'x', dtype: 'float32', shape: [3, 2] },
          { name: 'l', dtype: 'int64', shape: [2] },
        ],
        10,
      ),
      nodes: [node('ReverseSequence', ['x', 'l'], { batch_axis: { i: 1 }, time_axis: { i: 0 } })],
    },
    feeds: [4, -1, 3].map((v) => ({ x: f32([3, 2]), l: i64([2], 2, v) })),
  },
  {
    name: 'MaxUnpool (indices)',
    spec: {
      ...io(
        [
          { name: 'x', dtype: 'float32', shape: [1, 1, 2, 2] },
          { name: 'i', dtype: 'int64', shape: [1, 1, 2, 2] },
        ],
        11,
      ),
      nodes: [node('MaxUnpool', ['x', 'i'], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } })],
    },
    feeds: [16, -1, 15].map((v) => ({ x: f32([1, 1, 2, 2]), i: i64([1, 1, 2, 2], 0, 3, 8, v) })),
  },
  {
    name: 'Slice (starts)',
    spec: {
      ...io([
        { name: 'x', dtype: 'float32', shape: [5] },
        { name: 's', dtype: 'int64', shape: [1] },
      ]),
      initializers: [{ name: 'e', tensor: i64([1], 5) }],
      nodes: [node('Slice', ['x', 's', 'e'])],
    },
    feeds: [9, -9, 2].map((v) => ({ x: f32([5]), s: i64([1], v) })),
  },
  {
    name: 'TopK (k)',
    spec: {
      ...io([
        { name: 'x', dtype: 'float32', shape: [1, 6] },
        { name: 'k', dtype: 'int64', shape: [1] },
      ]),
      outputs: [{ name: 'y', dtype: 'float32' }],
      nodes: [{ op: 'TopK', inputs: ['x', 'k'], outputs: ['y', 'idx'], name: 'n' }],
    },
    feeds: [7, 3].map((v) => ({ x: f32([1, 6]), k: i64([1], v) })),
  },
  {
    name: 'Tile (repeats)',
    spec: {
      ...io([
        { name: 'x', dtype: 'float32', shape: [2] },
        { name: 'r', dtype: 'int64', shape: [1] },
      ]),
      nodes: [node('Tile', ['x', 'r'])],
    },
    feeds: [1000, -1, 2].map((v) => ({ x: f32([2]), r: i64([1], v) })),
  },
  {
    name: 'Expand (shape)',
    spec: {
      ...io([
        { name: 'x', dtype: 'float32', shape: [1] },
        { name: 's', dtype: 'int64', shape: [1] },
      ]),
      nodes: [node('Expand', ['x', 's'])],
    },
    feeds: [100000, -2, 3].map((v) => ({ x: f32([1]), s: i64([1], v) })),
  },
  {
    name: 'Reshape (shape)',
    spec: {
      ...io([
        { name: 'x', dtype: 'float32', shape: [2, 3] },
        { name: 's', dtype: 'int64', shape: [2] },
      ]),
      nodes: [node('Reshape', ['x', 's'])],
    },
    feeds: [
      [3, 3],
      [3, 2],
    ].map(([a, b]) => ({ x: f32([2, 3]), s: i64([2], a, b) })),
  },
  {
    name: 'Range (limit)',
    spec: {
      opset: 11,
      inputs: [{ name: 'l', dtype: 'int64', shape: [] }],
      outputs: [{ name: 'y', dtype: 'int64' }],
      initializers: [
        { name: 'st', tensor: i64([], 0) },
        { name: 'd', tensor: i64([], 1) },
      ],
      nodes: [node('Range', ['st', 'l', 'd'])],
    },
    feeds: [100000000, 4].map((v) => ({ l: i64([], v) })),
  },
  {
    name: 'Pad (pads)',
    spec: {
      ...io([
        { name: 'x', dtype: 'float32', shape: [3] },
        { name: 'p', dtype: 'int64', shape: [2] },
      ]),
      nodes: [node('Pad', ['x', 'p'])],
    },
    feeds: [
      [100000, 0],
      [-4, 0],
      [1, -1],
    ].map(([a, b]) => ({ x: f32([3]), p: i64([2], a, b) })),
  },
];

const show = (t: HostTensor) =>
  `[${t.dims}] ${Array.from(t.data as ArrayLike<unknown>)
    .slice(0, 8)
    .join(',')}`;
const oneLine = (e: unknown) => (e as Error).message.split('\n')[0].slice(0, 150);

const only = process.argv.slice(2);
for (const c of CASES.filter((c) => only.length === 0 || only.includes(c.name.split(' ')[0]))) {
  const bytes = buildModel(c.spec);
  let model;
  try {
    model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
  } catch (e) {
    console.log(`${c.name}: compile/load: ${oneLine(e)}`);
    continue;
  }
  for (const feeds of c.feeds) {
    const fed = Object.entries(feeds)
      .filter(([, t]) => t.dtype === 'int64')
      .map(([n, t]) => `${n}=${Array.from(t.data as BigInt64Array).join(',')}`)
      .join(' ');
    const kiln = await model.run(feeds as Record<string, Feed>).then(
      (o) => `ok ${show(o.y as HostTensor)}`,
      (e) => `ERROR ${oneLine(e)}`,
    );
    const ort = await runOrt(bytes, feeds).then(
      (o) => `ok ${show(o.y)}`,
      (e) => `ERROR ${oneLine(e)}`,
    );
    console.log(`${c.name} | ${fed}\n  kiln: ${kiln}\n  ort:  ${ort}`);
  }
  model.dispose();
}
