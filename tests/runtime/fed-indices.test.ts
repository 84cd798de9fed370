/**
 * Indices fed at run time (#11 bad input; ReverseSequence's lengths and MaxUnpool's positions too): an index out of its range is refused before the run with
 * one message naming the input, the element, the bounds and the node (the kernels would clamp it, a wrong
 * answer, where onnxruntime errors); in-range and negative indices match onnxruntime-node, and the model
 * answers the next call correctly.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { sealBundle } from '../../src/bundle/seal.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import type { Feed } from '../../src/runtime/types.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom, type ModelSpec } from '../helpers/onnx-builder.js';
import { ortMismatches } from '../helpers/ort-oracle.js';
import { embeddingModel } from '../helpers/data-shape-models.js';

const i64 = (dims: number[], ...values: number[]): HostTensor => ({
  dtype: 'int64',
  dims,
  data: BigInt64Array.from(values.map(BigInt)),
});
const floats = (dims: number[]) => randomTensor(dims, seededRandom(dims.length * 7 + dims[0]));
const input = (name: string, dtype: 'float32' | 'int64', shape: (number | string)[]) => ({
  name,
  dtype,
  shape,
});

interface IndexCase {
  op: string;
  spec: ModelSpec;
  /** the feeds with these indices (in range, negative ones included, or not) */
  feeds: (indices: number[]) => Record<string, HostTensor>;
  good: number[][];
  bad: number[];
  message: string;
}

const oneNode = (op: string, inputs: ModelSpec['inputs'], attrs = {}): ModelSpec => ({
  opset: 13,
  inputs,
  outputs: [{ name: 'y', dtype: 'float32' }],
  nodes: [{ op, inputs: inputs.map((i) => i.name), outputs: ['y'], name: 'pick', attrs }],
});

const CASES: IndexCase[] = [
  {
    op: 'Gather',
    spec: oneNode('Gather', [input('x', 'float32', [4, 5]), input('i', 'int64', [3])], { axis: { i: 1 } }),
    feeds: (i) => ({ x: floats([4, 5]), i: i64([3], ...i) }),
    good: [
      [0, 4, 2],
      [-1, -5, 3],
    ],
    bad: [0, 5, 1],
    message:
      'input "i" element 1 is 5, outside -5..4: Gather node "pick" reads it as an index into axis 1 (size 5)',
  },
  {
    op: 'GatherElements',
    spec: oneNode('GatherElements', [input('x', 'float32', [3, 2]), input('i', 'int64', [2, 2])]),
    feeds: (i) => ({ x: floats([3, 2]), i: i64([2, 2], ...i) }),
    good: [
      [0, 2, 1, 0],
      [-3, -1, 2, -2],
    ],
    bad: [0, 1, -4, 0],
    message:
      'input "i" element 2 is -4, outside -3..2: GatherElements node "pick" reads it as an index into axis 0',
  },
  {
    op: 'GatherND',
    spec: oneNode('GatherND', [input('x', 'float32', [2, 3, 4]), input('i', 'int64', [2, 2])]),
    feeds: (i) => ({ x: floats([2, 3, 4]), i: i64([2, 2], ...i) }),
    good: [
      [0, 2, 1, 0],
      [-2, -3, 1, -1],
    ],
    bad: [1, 0, 0, 3],
    message:
      'input "i" element 3 is 3, outside -3..2: GatherND node "pick" reads it as an index into axis 1 (size 3)',
  },
  {
    op: 'ScatterElements',
    spec: oneNode('ScatterElements', [
      input('x', 'float32', [3, 3]),
      input('i', 'int64', [1, 3]),
      input('u', 'float32', [1, 3]),
    ]),
    feeds: (i) => ({ x: floats([3, 3]), i: i64([1, 3], ...i), u: floats([1, 3]) }),
    good: [
      [2, 0, 1],
      [-1, -3, 0],
    ],
    bad: [3, 0, 1],
    message:
      'input "i" element 0 is 3, outside -3..2: ScatterElements node "pick" reads it as an index into axis 0',
  },
  {
    op: 'ScatterND',
    spec: oneNode('ScatterND', [
      input('x', 'float32', [4, 2]),
      input('i', 'int64', [2, 1]),
      input('u', 'float32', [2, 2]),
    ]),
    feeds: (i) => ({ x: floats([4, 2]), i: i64([2, 1], ...i), u: floats([2, 2]) }),
    good: [
      [3, 0],
      [-4, -1],
    ],
    bad: [1, -5],
    message:
      'input "i" element 1 is -5, outside -4..3: ScatterND node "pick" reads it as an index into axis 0 (size 4)',
  },
  {
    op: 'ReverseSequence',
    spec: oneNode('ReverseSequence', [input('x', 'float32', [3, 2]), input('l', 'int64', [2])], {
      batch_axis: { i: 1 },
      time_axis: { i: 0 },
    }),
    feeds: (l) => ({ x: floats([3, 2]), l: i64([2], ...l) }),
    good: [
      [2, 3],
      [0, 1],
    ],
    bad: [2, 4],
    message:
      'input "l" element 1 is 4, outside 0..3: ReverseSequence node "pick" reads it as a length along axis 0 (size 3)',
  },
  {
    op: 'MaxUnpool',
    spec: oneNode('MaxUnpool', [input('x', 'float32', [1, 1, 2, 2]), input('i', 'int64', [1, 1, 2, 2])], {
      kernel_shape: { ints: [2, 2] },
      strides: { ints: [2, 2] },
    }),
    feeds: (i) => ({ x: floats([1, 1, 2, 2]), i: i64([1, 1, 2, 2], ...i) }),
    good: [
      [0, 3, 8, 15],
      [5, 6, 9, 10],
    ],
    bad: [0, 3, -1, 15],
    message:
      'input "i" element 2 is -1, outside 0..15: MaxUnpool node "pick" reads it as a position in its output of 16 elements',
  },
];

describe.each(CASES)('$op with indices fed at run time', ({ spec, feeds, good, bad, message }) => {
  const bytes = buildModel(spec);
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model?.dispose());

  test('in-range and negative indices match onnxruntime', async () => {
    for (const indices of good) expect(await ortMismatches(bytes, model, feeds(indices))).toEqual([]);
  });

  test('an index out of range is refused naming input, element, bounds and node; the next run is right', async () => {
    await expect(model.run(feeds(bad) as Record<string, Feed>)).rejects.toThrow(message);
    expect(await ortMismatches(bytes, model, feeds(good[1]))).toEqual([]);
  });
});

test('indices that are constants or computed in the model carry no check', async () => {
  // Gather by constant indices, then by ArgMax's (always within the axis)
  const bytes = buildModel({
    opset: 13,
    inputs: [input('x', 'float32', [4, 5])],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: [{ name: 'rows', tensor: i64([2], 3, -1) }],
    nodes: [
      { op: 'Gather', inputs: ['x', 'rows'], outputs: ['picked'] },
      { op: 'ArgMax', inputs: ['picked'], outputs: ['best'], attrs: { axis: { i: 1 }, keepdims: { i: 0 } } },
      { op: 'Gather', inputs: ['x', 'best'], outputs: ['y'], attrs: { axis: { i: 1 } } },
    ],
  });
  const files = await compileModel(bytes, { relaxed: false });
  expect(files.manifest.indexChecks).toBeUndefined();
});

test('an index check on an input that is no integer input of the model is refused at load', async () => {
  const files = await compileModel(embeddingModel(), { relaxed: false });
  expect(files.manifest.indexChecks).toEqual([
    {
      input: 'ids',
      node: 'embed',
      op: 'Gather',
      bounds: [{ min: -5, max: 4, what: 'an index into axis 0 (size 5)' }],
    },
  ]);
  const indexChecks = [{ ...files.manifest.indexChecks![0], input: 'rows' }];
  const tampered = { ...files, manifest: { ...files.manifest, indexChecks } };
  await expect(loadModel(await sealBundle(tampered as unknown as BundleFiles))).rejects.toThrow(
    'indexChecks[0] must name a node, an op, an int32 or int64 input of the model and bounds (min ≤ max, what)',
  );
});

test('token ids of a length known only at run time are checked at each length', async () => {
  // the embedding lookup of a text encoder: a constant [5, 3] table, ids [batch, sequence]
  const bytes = buildModel({
    opset: 13,
    inputs: [input('ids', 'int64', ['batch', 'sequence'])],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: [{ name: 'table', tensor: floats([5, 3]) }],
    nodes: [{ op: 'Gather', inputs: ['table', 'ids'], outputs: ['y'], name: 'embed' }],
  });
  const dims = { batch: { min: 1, max: 2 }, sequence: { min: 1, max: 8 } };
  const model = await loadModel(await compileModel(bytes, { relaxed: false, dims }), { backend: 'wasm' });
  try {
    expect(await ortMismatches(bytes, model, { ids: i64([2, 3], 0, 4, -5, 1, 2, 3) })).toEqual([]);
    await expect(
      model.run({ ids: i64([1, 7], 0, 1, 2, 3, 4, 1, 5) } as Record<string, Feed>),
    ).rejects.toThrow('input "ids" element 6 is 5, outside -5..4: Gather node "embed"');
    expect(await ortMismatches(bytes, model, { ids: i64([1, 8], 4, 3, 2, 1, 0, -1, -2, -3) })).toEqual([]);
  } finally {
    model.dispose();
  }
});

test('int64 indices past 2^31 are refused whatever their low word; int32 indices are checked too', async () => {
  const model = await loadModel(await compileModel(embeddingModel(), { relaxed: false }), {
    backend: 'wasm',
  });
  try {
    // 2^32 + 1 has the low word 1, in range
    await expect(model.run({ ids: i64([3], 0, 2 ** 32 + 1, 1) } as Record<string, Feed>)).rejects.toThrow(
      'input "ids" element 1 is 4294967297, outside -5..4',
    );
    await expect(model.run({ ids: i64([3], -(2 ** 40), 0, 1) } as Record<string, Feed>)).rejects.toThrow(
      'input "ids" element 0 is -1099511627776, outside -5..4',
    );
  } finally {
    model.dispose();
  }
  const int32 = buildModel({
    opset: 13,
    inputs: [input('x', 'float32', [4, 2]), { name: 'i', dtype: 'int32', shape: [2] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: [{ op: 'Gather', inputs: ['x', 'i'], outputs: ['y'], name: 'rows' }],
  });
  const rows = await loadModel(await compileModel(int32, { relaxed: false }), { backend: 'wasm' });
  try {
    const feeds = (a: number, b: number) => ({
      x: floats([4, 2]),
      i: { dtype: 'int32' as const, dims: [2], data: Int32Array.of(a, b) },
    });
    await expect(rows.run(feeds(-5, 0) as Record<string, Feed>)).rejects.toThrow(
      'input "i" element 0 is -5, outside -4..3: Gather node "rows"',
    );
    expect(await ortMismatches(int32, rows, feeds(-4, 3))).toEqual([]);
  } finally {
    rows.dispose();
  }
});

test('constant indices out of range are refused at compile, naming node, element and bounds', async () => {
  const bytes = buildModel({
    opset: 13,
    inputs: [input('x', 'float32', [5, 2])],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: [{ name: 'rows', tensor: i64([2], 0, 7) }],
    nodes: [{ op: 'Gather', inputs: ['x', 'rows'], outputs: ['y'], name: 'pick' }],
  });
  await expect(compileModel(bytes, { relaxed: false })).rejects.toThrow(
    'Gather node "pick" (opset 13): constant "rows" element 1 is 7, outside -5..4: the node reads it as an index into axis 0 (size 5)',
  );
});
