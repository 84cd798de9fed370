/**
 * Data-dependent shapes (#11 item 2): an output whose size is a value — NonZero's count computed during
 * the run, TopK's K fed as an input — runs in one bundle at every size within its bound, later kernels
 * reading the size, outputs coming back at their real shape, matching onnxruntime-node.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { sealBundle } from '../../src/bundle/seal.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import type { Feed } from '../../src/runtime/types.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { ortMismatches } from '../helpers/ort-oracle.js';
import { NODE_SERVING_LOAD } from '../../src/runtime-node/v8-tiers.js';

/** `bytes` compiled and loaded as `kiln serve` and the Lambda handler load it: warmed up at load. */
async function loadedForServing(bytes: Uint8Array): Promise<Model> {
  return loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm', ...NODE_SERVING_LOAD });
}

/** x with each element kept where rand() < keep, else 0 */
function sparse(dims: number[], keep: number, seed: number): HostTensor {
  const x = randomTensor(dims, seededRandom(seed));
  const rand = seededRandom(seed + 100);
  const data = x.data as Float32Array;
  for (let i = 0; i < data.length; i++) if (rand() >= keep) data[i] = 0;
  return x;
}

describe('NonZero of a run-time input, then Transpose and Add of its [2, count] output', () => {
  // y = NonZero(x) is [2, n]; t = Transpose(y) + Transpose(y) reads n from the dims block
  const bytes = buildModel({
    inputs: [{ name: 'x', dtype: 'float32', shape: [3, 5] }],
    outputs: [
      { name: 'y', dtype: 'int64' },
      { name: 't', dtype: 'int64' },
    ],
    nodes: [
      { op: 'NonZero', inputs: ['x'], outputs: ['y'] },
      { op: 'Transpose', inputs: ['y'], outputs: ['yt'], attrs: { perm: { ints: [1, 0] } } },
      { op: 'Add', inputs: ['yt', 'yt'], outputs: ['t'] },
    ],
  });
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model.dispose());

  test('lists the count as a dim bounded by the input size', () => {
    expect(model.outputs[0].shape).toEqual([2, { name: 'NonZero_y', min: 0, max: 15 }]);
    expect(model.outputs[1].shape).toEqual([{ name: 'NonZero_y', min: 0, max: 15 }, 2]);
  });

  test.each([
    ['none', 0],
    ['a few', 0.3],
    ['most', 0.8],
    ['all', 1.01],
  ])('matches onnxruntime with %s of the elements nonzero', async (_, keep) => {
    const x = sparse([3, 5], keep, Math.round(keep * 10));
    expect(await ortMismatches(bytes, model, { x })).toEqual([]);
  });

  test('returns outputs of the real size, 0 included, run after run', async () => {
    const zeros = { dtype: 'float32', dims: [3, 5], data: new Float32Array(15) } as Feed;
    const ones = { dtype: 'float32', dims: [3, 5], data: new Float32Array(15).fill(1) } as Feed;
    expect((await model.run({ x: ones })).y.dims).toEqual([2, 15]);
    expect((await model.run({ x: zeros })).y.dims).toEqual([2, 0]);
    expect((await model.run({ x: zeros })).t.dims).toEqual([0, 2]);
    expect((await model.run({ x: ones })).t.dims).toEqual([15, 2]);
  });
});

describe.each([
  { axis: 1, condition: 4, shape: [2, { name: 'Compress_y', min: 0, max: 4 }, 3] },
  { axis: -3, condition: 2, shape: [{ name: 'Compress_y', min: 0, max: 2 }, 5, 3] },
  { axis: undefined, condition: 20, shape: [{ name: 'Compress_y', min: 0, max: 20 }] },
])(
  'Compress (axis $axis) of a condition fed at run time, then an Add of its output',
  ({ axis, condition, shape }) => {
    const bytes = buildModel({
      opset: 11,
      inputs: [
        { name: 'x', dtype: 'float32', shape: [2, 5, 3] },
        { name: 'condition', dtype: 'bool', shape: [condition] },
      ],
      outputs: [{ name: 'y2', dtype: 'float32' }],
      nodes: [
        {
          op: 'Compress',
          inputs: ['x', 'condition'],
          outputs: ['y'],
          ...(axis !== undefined && { attrs: { axis: { i: axis } } }),
        },
        { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
      ],
    });
    const x = randomTensor([2, 5, 3], seededRandom(41));
    const kept = (keep: number, seed: number, length = condition): HostTensor => {
      const rand = seededRandom(seed);
      return {
        dtype: 'bool',
        dims: [length],
        data: Uint8Array.from({ length }, () => (rand() < keep ? 1 : 0)),
      };
    };
    let model: Model;
    beforeAll(async () => {
      model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
    });
    afterAll(() => model?.dispose());

    test('lists the kept count as a dim counted during the run, bounded by the condition length', () => {
      expect(model.outputs[0].shape).toEqual(shape);
    });

    test.each([
      ['none', 0],
      ['some', 0.5],
      ['all', 1.01],
    ])('matches onnxruntime with %s of the positions kept, run after run', async (_, keep) => {
      expect(await ortMismatches(bytes, model, { x, condition: kept(keep, 7) })).toEqual([]);
    });

    test('refuses a condition of another length, naming the input, and answers the next call', async () => {
      await expect(
        model.run({ x, condition: kept(0.5, 3, condition + 1) } as Record<string, Feed>),
      ).rejects.toThrow(`input "condition" has dims [${condition + 1}] but the model expects [${condition}]`);
      expect(await ortMismatches(bytes, model, { x, condition: kept(0.5, 9) })).toEqual([]);
    });
  },
);

describe('TopK with K fed at run time (a model input), then a Transpose of its values', () => {
  const bytes = buildModel({
    opset: 11,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [3, 6] },
      { name: 'k', dtype: 'int64', shape: [1] },
    ],
    outputs: [
      { name: 'vt', dtype: 'float32' },
      { name: 'indices', dtype: 'int64' },
    ],
    nodes: [
      { op: 'TopK', inputs: ['x', 'k'], outputs: ['values', 'indices'], attrs: { largest: { i: 0 } } },
      { op: 'Transpose', inputs: ['values'], outputs: ['vt'], attrs: { perm: { ints: [1, 0] } } },
    ],
  });
  const k = (n: number): HostTensor => ({ dtype: 'int64', dims: [1], data: BigInt64Array.of(BigInt(n)) });
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model.dispose());

  test('lists K as a dim bounded by the axis length', () => {
    expect(model.outputs[1].shape).toEqual([3, { name: 'k', min: 0, max: 6 }]);
  });

  test.each([0, 1, 4, 6])('matches onnxruntime at K = %i', async (n) => {
    const x = randomTensor([3, 6], seededRandom(n + 7));
    expect(await ortMismatches(bytes, model, { x, k: k(n) })).toEqual([]);
  });

  test('refuses a K beyond the axis length, naming the input and bounds, and answers the next call', async () => {
    const x = randomTensor([3, 6], seededRandom(3));
    await expect(model.run({ x, k: k(7) } as Record<string, Feed>)).rejects.toThrow(
      'input "k" element 0 is 7, outside the bounds of "k" (0..6)',
    );
    await expect(model.run({ x, k: k(-1) } as Record<string, Feed>)).rejects.toThrow(
      'is -1, outside the bounds',
    );
    expect(await ortMismatches(bytes, model, { x, k: k(2) })).toEqual([]);
  });

  test('loads with a warm-up (K = 0 from the zero feeds), as kiln serve does, and runs after it', async () => {
    const warmed = await loadedForServing(bytes);
    try {
      expect(
        await ortMismatches(bytes, warmed, { x: randomTensor([3, 6], seededRandom(5)), k: k(4) }),
      ).toEqual([]);
    } finally {
      warmed.dispose();
    }
  });
});

describe.each([0, 1])('NonMaxSuppression (center_point_box %i), its inputs fed at run time', (center) => {
  const [batch, classes, boxes] = [2, 3, 8];
  const bytes = buildModel({
    opset: 11,
    inputs: [
      { name: 'boxes', dtype: 'float32', shape: [batch, boxes, 4] },
      { name: 'scores', dtype: 'float32', shape: [batch, classes, boxes] },
      { name: 'max_boxes', dtype: 'int64', shape: [1] },
      { name: 'iou', dtype: 'float32', shape: [1] },
      { name: 'score_min', dtype: 'float32', shape: [1] },
    ],
    outputs: [{ name: 'selected', dtype: 'int64' }],
    nodes: [
      {
        op: 'NonMaxSuppression',
        inputs: ['boxes', 'scores', 'max_boxes', 'iou', 'score_min'],
        outputs: ['selected'],
        attrs: { center_point_box: { i: center } },
      },
    ],
  });
  // overlapping boxes around a few centers, corners in either order for center_point_box 0
  function feeds(seed: number, maxBoxes: number, iou: number, scoreMin: number): Record<string, HostTensor> {
    const rand = seededRandom(seed);
    const data = new Float32Array(batch * boxes * 4);
    for (let i = 0; i < batch * boxes; i++) {
      const [x, y, w, h] = [Math.floor(rand() * 3), Math.floor(rand() * 3), 1 + rand(), 1 + rand()];
      const box = center ? [x, y, w, h] : rand() < 0.5 ? [y, x, y + h, x + w] : [y + h, x + w, y, x];
      data.set(box, 4 * i);
    }
    const scores = randomTensor([batch, classes, boxes], seededRandom(seed + 1));
    const f32 = (v: number): HostTensor => ({ dtype: 'float32', dims: [1], data: Float32Array.of(v) });
    return {
      boxes: { dtype: 'float32', dims: [batch, boxes, 4], data },
      scores,
      max_boxes: { dtype: 'int64', dims: [1], data: BigInt64Array.of(BigInt(maxBoxes)) },
      iou: f32(iou),
      score_min: f32(scoreMin),
    };
  }
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model.dispose());

  test('bounds the selected count by boxes × classes × batch when max_output_boxes_per_class is fed', () => {
    expect(model.outputs[0].shape).toEqual([{ name: 'NonMaxSuppression_selected', min: 0, max: 48 }, 3]);
  });

  test.each([
    ['none above the score threshold', 1, 10, 0.5, 2, [0, 0]],
    ['max 0 boxes per class', 2, 0, 0.5, -1, [0, 0]],
    ['max 2 boxes per class', 3, 2, 0.3, 0, [1, 12]],
    ['every box (IoU 1)', 4, 100, 1, -1, [48, 48]],
    ['overlaps suppressed (IoU 0.2)', 5, 8, 0.2, -0.5, [1, 47]],
  ])('matches onnxruntime with %s', async (_, seed, maxBoxes, iou, scoreMin, [least, most]) => {
    const given = feeds(seed, maxBoxes, iou, scoreMin);
    expect(await ortMismatches(bytes, model, given)).toEqual([]);
    const selected = (await model.run(given as Record<string, Feed>)).selected.dims[0];
    expect(selected).toBeGreaterThanOrEqual(least);
    expect(selected).toBeLessThanOrEqual(most);
  });
});

describe.each([1, 0])('Unique (sorted %i) of a run-time input, then its counts times two', (sorted) => {
  const bytes = buildModel({
    opset: 11,
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 5] }],
    outputs: [
      { name: 'y', dtype: 'float32' },
      { name: 'indices', dtype: 'int64' },
      { name: 'inverse', dtype: 'int64' },
      { name: 'doubled', dtype: 'int64' },
    ],
    nodes: [
      {
        op: 'Unique',
        inputs: ['x'],
        outputs: ['y', 'indices', 'inverse', 'counts'],
        attrs: { sorted: { i: sorted } },
      },
      { op: 'Add', inputs: ['counts', 'counts'], outputs: ['doubled'] },
    ],
  });
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model.dispose());

  // `levels` distinct values among the 10 elements (at most)
  test.each([1, 3, 10])('matches onnxruntime with %i distinct values', async (levels) => {
    const rand = seededRandom(levels);
    const data = Float32Array.from({ length: 10 }, () => Math.floor(rand() * levels) - 1);
    const x: HostTensor = { dtype: 'float32', dims: [2, 5], data };
    expect(await ortMismatches(bytes, model, { x })).toEqual([]);
    expect((await model.run({ x: x as Feed })).y.dims[0]).toBe(new Set(data).size);
  });
});

test('NonMaxSuppression of constant boxes runs once in init(), its count kept across runs (and warm-up)', async () => {
  const tensor = (dims: number[], values: number[]): HostTensor => ({
    dtype: 'float32',
    dims,
    data: Float32Array.from(values),
  });
  // three boxes, the second overlapping the first: two are kept
  const bytes = buildModel({
    opset: 11,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
    outputs: [
      { name: 'selected', dtype: 'int64' },
      { name: 'y', dtype: 'float32' },
    ],
    initializers: [
      { name: 'boxes', tensor: tensor([1, 3, 4], [0, 0, 1, 1, 0, 0.1, 1, 1.1, 5, 5, 6, 6]) },
      { name: 'scores', tensor: tensor([1, 1, 3], [0.9, 0.8, 0.7]) },
      { name: 'max_boxes', tensor: { dtype: 'int64', dims: [1], data: BigInt64Array.of(3n) } },
      { name: 'iou', tensor: tensor([1], [0.5]) },
    ],
    nodes: [
      { op: 'NonMaxSuppression', inputs: ['boxes', 'scores', 'max_boxes', 'iou'], outputs: ['selected'] },
      { op: 'Relu', inputs: ['x'], outputs: ['y'] },
    ],
  });
  const model = await loadModel(await compileModel(bytes, { relaxed: false }), {
    backend: 'wasm',
    warmup: 1,
  });
  try {
    for (const v of [1, -1]) {
      const x = tensor([1], [v]);
      expect(await ortMismatches(bytes, model, { x })).toEqual([]);
      expect((await model.run({ x: x as Feed })).selected.dims).toEqual([2, 3]);
    }
  } finally {
    model.dispose();
  }
});

test("a Reshape whose target the exporter's Shape → Gather → Mul → Unsqueeze computes from NonZero's count", async () => {
  const scalar = (v: bigint, dims: number[] = []): HostTensor => ({
    dtype: 'int64',
    dims,
    data: BigInt64Array.of(v),
  });
  const bytes = buildModel({
    inputs: [{ name: 'x', dtype: 'float32', shape: [3, 4] }],
    outputs: [{ name: 'flat', dtype: 'int64' }],
    initializers: [
      { name: 'zero', tensor: scalar(0n) },
      { name: 'two', tensor: scalar(2n) },
      { name: 'axis', tensor: scalar(0n, [1]) },
    ],
    nodes: [
      { op: 'NonZero', inputs: ['x'], outputs: ['y'] },
      { op: 'Transpose', inputs: ['y'], outputs: ['t'], attrs: { perm: { ints: [1, 0] } } },
      { op: 'Shape', inputs: ['t'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'zero'], outputs: ['n'] },
      { op: 'Mul', inputs: ['n', 'two'], outputs: ['n2'] },
      { op: 'Unsqueeze', inputs: ['n2', 'axis'], outputs: ['target'] },
      { op: 'Reshape', inputs: ['t', 'target'], outputs: ['flat'] },
    ],
  });
  const model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
  try {
    expect(model.outputs[0].shape).toEqual([
      { name: 'NonZero_y*2', min: 0, max: 24, value: { c: 0, terms: [{ coef: 2, symbols: ['NonZero_y'] }] } },
    ]);
    for (const keep of [0, 0.5, 1.01]) {
      const x = sparse([3, 4], keep, 5);
      expect(await ortMismatches(bytes, model, { x })).toEqual([]);
    }
  } finally {
    model.dispose();
  }
});

describe('Reshape with its target fed at run time (0 and -1 resolved in the run), then a Transpose', () => {
  const bytes = (allowzero: number) =>
    buildModel({
      opset: 14,
      inputs: [
        { name: 'x', dtype: 'float32', shape: [2, 3, 4] },
        { name: 'shape', dtype: 'int64', shape: [2] },
      ],
      outputs: [{ name: 'yt', dtype: 'float32' }],
      nodes: [
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'], attrs: { allowzero: { i: allowzero } } },
        { op: 'Transpose', inputs: ['y'], outputs: ['yt'], attrs: { perm: { ints: [1, 0] } } },
      ],
    });
  const target = (...dims: number[]): HostTensor => ({
    dtype: 'int64',
    dims: [dims.length],
    data: BigInt64Array.from(dims.map(BigInt)),
  });
  const x = randomTensor([2, 3, 4], seededRandom(11));
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await compileModel(bytes(0), { relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model?.dispose());

  test('lists each dim as fed, bounded by the element count', () => {
    expect(model.outputs[0].shape).toEqual([
      { name: 'shape_1', min: 0, max: 24 },
      { name: 'shape_0', min: 0, max: 24 },
    ]);
  });

  test.each([
    [6, 4],
    [24, 1],
    [-1, 8],
    [2, -1],
    [0, -1],
  ])('matches onnxruntime at shape [%i, %i], run after run', async (a, b) => {
    expect(await ortMismatches(bytes(0), model, { x, shape: target(a, b) })).toEqual([]);
  });

  test('loads with a warm-up, as kiln serve does, though zeros are no target of 24 elements', async () => {
    const warmed = await loadedForServing(bytes(0));
    try {
      expect(await ortMismatches(bytes(0), warmed, { x, shape: target(6, -1) })).toEqual([]);
    } finally {
      warmed.dispose();
    }
  });

  test('refuses a target of another element count, naming the input, and answers the next call', async () => {
    await expect(model.run({ x, shape: target(5, 5) } as Record<string, Feed>)).rejects.toThrow(
      'input "shape" is [5,5], which cannot reshape [2,3,4]: 25 elements, not 24',
    );
    await expect(model.run({ x, shape: target(2, 0) } as Record<string, Feed>)).rejects.toThrow(
      'input "shape" is [2,0], which cannot reshape [2,3,4]: 6 elements, not 24',
    );
    await expect(model.run({ x, shape: target(-1, -1) } as Record<string, Feed>)).rejects.toThrow(
      'more than one -1',
    );
    await expect(model.run({ x, shape: target(-1, 5) } as Record<string, Feed>)).rejects.toThrow(
      '24 elements do not divide by 5',
    );
    expect(await ortMismatches(bytes(0), model, { x, shape: target(3, 8) })).toEqual([]);
  });

  test('a bundle whose fed.reshape is malformed is refused at load', async () => {
    const files = await compileModel(bytes(0), { relaxed: false });
    const dims = files.manifest.dims!;
    const symbols = dims.symbols.map((x) => ({ ...x, fed: { ...x.fed!, reshape: { from: 'x' } } }));
    const tampered = { ...files, manifest: { ...files.manifest, dims: { ...dims, symbols } } };
    await expect(loadModel(await sealBundle(tampered as unknown as BundleFiles))).rejects.toThrow(
      'dims block symbol "shape_0": fed.reshape must have dims (from) and allowzero',
    );
  });

  test('with allowzero a 0 is a 0-size dim', async () => {
    const zero = await loadModel(await compileModel(bytes(1), { relaxed: false }), { backend: 'wasm' });
    try {
      await expect(zero.run({ x, shape: target(2, 0) } as Record<string, Feed>)).rejects.toThrow(
        '0 elements, not 24',
      );
      expect(await ortMismatches(bytes(1), zero, { x, shape: target(4, 6) })).toEqual([]);
    } finally {
      zero.dispose();
    }
  });
});

test('a Reshape target computed at run time from an input still names that input for --const', async () => {
  const bytes = buildModel({
    opset: 14,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [2, 3] },
      { name: 'shape', dtype: 'int64', shape: [2] },
    ],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: [
      { op: 'Abs', inputs: ['shape'], outputs: ['target'] },
      { op: 'Reshape', inputs: ['x', 'target'], outputs: ['y'], name: 'flat' },
    ],
  });
  await expect(compileModel(bytes)).rejects.toThrow(
    /Reshape node "flat" \(opset 14\): shape \(input 1, "target"\) is computed at run time; model input \(input 1, "shape"\) must be known at compile time/,
  );
});

describe('Split with its sizes fed at run time, then an Add of a part', () => {
  const bytes = buildModel({
    opset: 13,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [2, 6, 3] },
      { name: 'split', dtype: 'int64', shape: [3] },
    ],
    outputs: [
      { name: 'a', dtype: 'float32' },
      { name: 'b', dtype: 'float32' },
      { name: 'c2', dtype: 'float32' },
    ],
    nodes: [
      { op: 'Split', inputs: ['x', 'split'], outputs: ['a', 'b', 'c'], attrs: { axis: { i: 1 } } },
      { op: 'Add', inputs: ['c', 'c'], outputs: ['c2'] },
    ],
  });
  const parts = (...sizes: number[]): HostTensor => ({
    dtype: 'int64',
    dims: [sizes.length],
    data: BigInt64Array.from(sizes.map(BigInt)),
  });
  const x = randomTensor([2, 6, 3], seededRandom(21));
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model?.dispose());

  test('lists each part size as fed, bounded by the axis length', () => {
    expect(model.outputs.map((o) => o.shape[1])).toEqual([
      { name: 'split_0', min: 0, max: 6 },
      { name: 'split_1', min: 0, max: 6 },
      { name: 'split_2', min: 0, max: 6 },
    ]);
  });

  test.each([
    [1, 2, 3],
    [0, 6, 0],
    [4, 0, 2],
    [0, 0, 6],
  ])('matches onnxruntime at split [%i, %i, %i], run after run', async (...sizes) => {
    expect(await ortMismatches(bytes, model, { x, split: parts(...sizes) })).toEqual([]);
  });

  test('refuses sizes that do not sum to the axis, naming the input, and answers the next call', async () => {
    await expect(model.run({ x, split: parts(1, 1, 1) } as Record<string, Feed>)).rejects.toThrow(
      'input "split" is [1,1,1], not sizes ≥ 0 that sum to 6',
    );
    await expect(model.run({ x, split: parts(-1, 4, 3) } as Record<string, Feed>)).rejects.toThrow(
      'input "split" is [-1,4,3], not sizes ≥ 0 that sum to 6',
    );
    expect(await ortMismatches(bytes, model, { x, split: parts(3, 2, 1) })).toEqual([]);
  });
});

describe.each([
  {
    op: 'Unsqueeze',
    x: [3, 1, 4],
    good: [
      [0, 4],
      [-1, 1],
      [3, 2],
    ],
    shapes: [{ name: 'axes_0', min: 0, max: 3 }],
    bad: [
      [[5, 0], 'input "axes" is [5,0], which cannot unsqueeze [3,1,4]: axis 5 is outside -5..4'],
      [[1, -4], 'input "axes" is [1,-4], which cannot unsqueeze [3,1,4]: an axis repeats'],
    ],
  },
  {
    op: 'Squeeze',
    x: [1, 3, 1, 1],
    good: [
      [0, 2],
      [-1, 0],
      [3, 2],
    ],
    shapes: [{ name: 'axes_0', min: 0, max: 3 }],
    bad: [
      [[0, 1], 'input "axes" is [0,1], which cannot squeeze [1,3,1,1]: dim 1 is 3, not 1'],
      [[0, -5], 'input "axes" is [0,-5], which cannot squeeze [1,3,1,1]: axis -5 is outside -4..3'],
    ],
  },
])('$op with its axes fed at run time, then an Add of its output', ({ op, x: dims, good, shapes, bad }) => {
  const bytes = buildModel({
    opset: 13,
    inputs: [
      { name: 'x', dtype: 'float32', shape: dims },
      { name: 'axes', dtype: 'int64', shape: [2] },
    ],
    outputs: [{ name: 'y2', dtype: 'float32' }],
    nodes: [
      { op, inputs: ['x', 'axes'], outputs: ['y'] },
      { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
    ],
  });
  const axes = (...a: number[]): HostTensor => ({
    dtype: 'int64',
    dims: [2],
    data: BigInt64Array.from(a.map(BigInt)),
  });
  const x = randomTensor(dims, seededRandom(31));
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model?.dispose());

  test('lists each output dim as fed, the rank fixed by the number of axes', () => {
    expect(model.outputs[0].shape.length).toBe(dims.length + (op === 'Unsqueeze' ? 2 : -2));
    expect(model.outputs[0].shape.slice(0, 1)).toEqual(shapes);
  });

  test.each(good)('matches onnxruntime at axes [%i, %i], run after run', async (a, b) => {
    expect(await ortMismatches(bytes, model, { x, axes: axes(a, b) })).toEqual([]);
  });

  test('refuses axes out of range, repeated or (Squeeze) on a dim not 1, naming the input, and answers the next call', async () => {
    for (const [values, message] of bad)
      await expect(
        model.run({ x, axes: axes(...(values as number[])) } as Record<string, Feed>),
      ).rejects.toThrow(message as string);
    expect(await ortMismatches(bytes, model, { x, axes: axes(...good[0]) })).toEqual([]);
  });
});

describe.each([
  { op: 'ReduceSum', opset: 13, keepdims: 1 },
  { op: 'ReduceSum', opset: 13, keepdims: 0 },
  { op: 'ReduceMean', opset: 18, keepdims: 1 },
  { op: 'ReduceLogSumExp', opset: 18, keepdims: 0 },
])(
  '$op (keepdims $keepdims) with its axes fed at run time, then an Add of its output',
  ({ op, opset, keepdims }) => {
    const dims = [2, 3, 4];
    const bytes = buildModel({
      opset,
      inputs: [
        { name: 'x', dtype: 'float32', shape: dims },
        { name: 'axes', dtype: 'int64', shape: [2] },
      ],
      outputs: [{ name: 'y2', dtype: 'float32' }],
      nodes: [
        { op, inputs: ['x', 'axes'], outputs: ['y'], attrs: { keepdims: { i: keepdims } } },
        { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
      ],
    });
    const axes = (...a: number[]): HostTensor => ({
      dtype: 'int64',
      dims: [2],
      data: BigInt64Array.from(a.map(BigInt)),
    });
    const x = randomTensor(dims, seededRandom(37));
    let model: Model;
    beforeAll(async () => {
      model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
    });
    afterAll(() => model?.dispose());

    test('lists each output dim as fed, its rank the input rank (keepdims) or fixed by the number of axes', () => {
      expect(model.outputs[0].shape).toEqual(
        keepdims
          ? dims.map((d, i) => ({ name: `axes_${i}`, min: 0, max: d }))
          : [{ name: 'axes_0', min: 0, max: 4 }],
      );
    });

    test.each([
      [0, 2],
      [-1, 1],
      [2, 0],
      [1, -3],
    ])('matches onnxruntime at axes [%i, %i], run after run', async (a, b) => {
      expect(await ortMismatches(bytes, model, { x, axes: axes(a, b) })).toEqual([]);
    });

    test('refuses axes out of range or repeated, naming the input, and answers the next call', async () => {
      await expect(model.run({ x, axes: axes(3, 0) } as Record<string, Feed>)).rejects.toThrow(
        'input "axes" is [3,0], which cannot reduce [2,3,4]: axis 3 is outside -3..2',
      );
      await expect(model.run({ x, axes: axes(1, -2) } as Record<string, Feed>)).rejects.toThrow(
        'input "axes" is [1,-2], which cannot reduce [2,3,4]: an axis repeats',
      );
      expect(await ortMismatches(bytes, model, { x, axes: axes(0, 1) })).toEqual([]);
    });
  },
);

describe('Slice with starts, ends, axes and steps fed at run time, then an Add of its output', () => {
  const bytes = buildModel({
    opset: 13,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [4, 5, 3] },
      { name: 'starts', dtype: 'int64', shape: [2] },
      { name: 'ends', dtype: 'int64', shape: [2] },
      { name: 'axes', dtype: 'int64', shape: [2] },
      { name: 'steps', dtype: 'int64', shape: [2] },
    ],
    outputs: [{ name: 'y2', dtype: 'float32' }],
    nodes: [
      { op: 'Slice', inputs: ['x', 'starts', 'ends', 'axes', 'steps'], outputs: ['y'] },
      { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
    ],
  });
  const ints = (...a: number[]): HostTensor => ({
    dtype: 'int64',
    dims: [a.length],
    data: BigInt64Array.from(a.map(BigInt)),
  });
  const x = randomTensor([4, 5, 3], seededRandom(41));
  const feeds = (starts: number[], ends: number[], axes: number[], steps: number[]) => ({
    x,
    starts: ints(...starts),
    ends: ints(...ends),
    axes: ints(...axes),
    steps: ints(...steps),
  });
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model?.dispose());

  test('lists each output dim as fed, bounded by the input dim', () => {
    expect(model.outputs[0].shape).toEqual([
      { name: 'starts_count_0', min: 0, max: 4 },
      { name: 'starts_count_1', min: 0, max: 5 },
      { name: 'starts_count_2', min: 0, max: 3 },
    ]);
  });

  test.each([
    [
      [0, 1],
      [4, 4],
      [0, 1],
      [1, 2],
    ],
    [
      [-1, 0],
      [-5, 1000],
      [1, -1],
      [-2, 1],
    ],
    [
      [3, 1],
      [0, -1],
      [0, 2],
      [-1, 1],
    ],
    [
      [1000, -1000],
      [-1000, 1000],
      [0, 1],
      [1, 7],
    ],
    [
      [2, 0],
      [2, 3],
      [2, 0],
      [1, 1],
    ],
  ])('matches onnxruntime at starts %j, ends %j, axes %j, steps %j, run after run', async (...plan) => {
    expect(await ortMismatches(bytes, model, feeds(...plan))).toEqual([]);
  });

  test('refuses a step of 0 or an axis out of range or repeated, naming the input, and answers the next call', async () => {
    const run = (...plan: number[][]) =>
      model.run(feeds(...(plan as [number[], number[], number[], number[]])) as Record<string, Feed>);
    await expect(run([0, 0], [2, 2], [0, 1], [1, 0])).rejects.toThrow(
      'input "steps" is [1,0], which cannot slice [4,5,3]: step 1 is 0',
    );
    await expect(run([0, 0], [2, 2], [0, 3], [1, 1])).rejects.toThrow(
      'input "axes" is [0,3], which cannot slice [4,5,3]: axis 3 is outside -3..2',
    );
    await expect(run([0, 0], [2, 2], [1, -2], [1, 1])).rejects.toThrow(
      'input "axes" is [1,-2], which cannot slice [4,5,3]: axis 1 repeats',
    );
    expect(await ortMismatches(bytes, model, feeds([1, 0], [3, 2], [0, 2], [1, 1]))).toEqual([]);
  });

  test('a bundle whose fed.slice or fed.axes is malformed is refused at load', async () => {
    const files = await compileModel(bytes, { relaxed: false });
    const dims = files.manifest.dims!;
    const tamper = async (fed: object, message: string) => {
      const symbols = dims.symbols.map((x) => ({ ...x, fed: { ...x.fed!, ...fed } }));
      const tampered = { ...files, manifest: { ...files.manifest, dims: { ...dims, symbols } } };
      await expect(loadModel(await sealBundle(tampered as unknown as BundleFiles))).rejects.toThrow(message);
    };
    await tamper(
      { slice: { ...dims.symbols[0].fed!.slice!, ends: 'nothing' } },
      'fed.slice must have dims (from), starts, ends, optional axes and steps (integer inputs or values) and a part',
    );
    const axesMessage =
      'fed.axes must have an op (unsqueeze, squeeze or reduce), dims (from) and an optional keepdims';
    await tamper({ axes: { op: 'flip', from: [4, 5, 3] } }, axesMessage);
    await tamper({ axes: { op: 'reduce', from: [4, 5, 3], keepdims: 'yes' } }, axesMessage);
  });
});

describe.each([
  {
    what: 'sizes, linear',
    op: 'Resize',
    fed: 'sizes',
    mode: 'linear',
    x: [1, 2, 3, 4],
    good: [
      [1, 2, 5, 7],
      [1, 2, 2, 2],
      [1, 2, 12, 1],
    ],
    bad: [[[1, 2, 13, 4], 'input "sizes" element 2 is 13, outside the bounds of "sizes_2" (0..12)']],
  },
  {
    what: 'scales, cubic',
    op: 'Resize',
    fed: 'scales',
    mode: 'cubic',
    x: [1, 1, 4, 4],
    good: [
      [1, 1, 0.6, 0.6],
      [1, 1, 2, 2],
      [1, 1, 1.7, 0.8],
    ],
    bad: [
      [[1, 1, -1, 2], 'input "scales" is [1,1,-1,2], whose element 2 is no positive scale'],
      [
        [1, 1, 3.5, 1],
        'input "scales" element 2 is 3.5, giving 14, outside the bounds of "scales_2" (0..12)',
      ],
    ],
  },
  {
    what: 'scales (Upsample-9, its input 1), linear',
    op: 'Upsample',
    fed: 'scales',
    mode: 'linear',
    x: [1, 2, 3, 4],
    good: [
      [1, 1, 2, 1.5],
      [1, 1, 1, 1],
      [1, 1, 4, 3],
    ],
    bad: [
      [[1, 1, 0, 2], 'input "scales" is [1,1,0,2], whose element 2 is no positive scale'],
      [
        [1, 1, 4.5, 1],
        'input "scales" element 2 is 4.5, giving 13, outside the bounds of "scales_2" (0..12)',
      ],
    ],
  },
])(
  '$op with its $what fed at run time, then an Add of its output',
  ({ op, fed, mode, x: dims, good, bad }) => {
    const bytes = buildModel({
      opset: op === 'Upsample' ? 9 : 13,
      inputs: [
        { name: 'x', dtype: 'float32', shape: dims },
        { name: fed, dtype: fed === 'sizes' ? 'int64' : 'float32', shape: [4] },
      ],
      outputs: [{ name: 'y2', dtype: 'float32' }],
      nodes: [
        {
          op,
          inputs:
            op === 'Upsample'
              ? ['x', 'scales']
              : fed === 'sizes'
                ? ['x', '', '', 'sizes']
                : ['x', '', 'scales'],
          outputs: ['y'],
          attrs: { mode: { s: mode } },
        },
        { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
      ],
    });
    const given = (...v: number[]): HostTensor =>
      fed === 'sizes'
        ? { dtype: 'int64', dims: [4], data: BigInt64Array.from(v.map(BigInt)) }
        : { dtype: 'float32', dims: [4], data: Float32Array.from(v) };
    const x = randomTensor(dims, seededRandom(51));
    let model: Model;
    beforeAll(async () => {
      const files = await compileModel(bytes, { relaxed: false, dims: { [fed]: { min: 0, max: 12 } } });
      model = await loadModel(files, { backend: 'wasm' });
    });
    afterAll(() => model?.dispose());

    test('lists each output dim as fed, bounded by --dim', () => {
      expect(model.outputs[0].shape[2]).toEqual({ name: `${fed}_2`, min: 0, max: 12 });
    });

    test.each(good)(`matches onnxruntime at ${fed} [%d, %d, %d, %d], run after run`, async (...v) => {
      expect(await ortMismatches(bytes, model, { x, [fed]: given(...v) })).toEqual([]);
    });

    test('refuses a value out of its bounds (or a scale ≤ 0), naming the input, and answers the next call', async () => {
      for (const [v, message] of bad)
        await expect(
          model.run({ x, [fed]: given(...(v as number[])) } as Record<string, Feed>),
        ).rejects.toThrow(message as string);
      expect(await ortMismatches(bytes, model, { x, [fed]: given(...good[0]) })).toEqual([]);
    });
  },
);

describe('OneHot with a float depth fed at run time (bounded by --dim depth=1..10), then an Add', () => {
  const bytes = buildModel({
    opset: 11,
    inputs: [
      { name: 'indices', dtype: 'int64', shape: [2, 3] },
      { name: 'depth', dtype: 'float32', shape: [] },
      { name: 'values', dtype: 'float32', shape: [2] },
    ],
    outputs: [{ name: 'y2', dtype: 'float32' }],
    nodes: [
      { op: 'OneHot', inputs: ['indices', 'depth', 'values'], outputs: ['y'], attrs: { axis: { i: 1 } } },
      { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
    ],
  });
  const indices: HostTensor = {
    dtype: 'int64',
    dims: [2, 3],
    data: BigInt64Array.of(0n, 2n, -1n, 9n, 3n, -3n),
  };
  const values: HostTensor = { dtype: 'float32', dims: [2], data: Float32Array.of(-1, 5) };
  const depth = (d: number): HostTensor => ({ dtype: 'float32', dims: [], data: Float32Array.of(d) });
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, { relaxed: false, dims: { depth: { min: 1, max: 10 } } });
    model = await loadModel(files, { backend: 'wasm' });
  });
  afterAll(() => model?.dispose());

  test('lists the depth as a fed dim on the axis', () => {
    expect(model.outputs[0].shape).toEqual([2, { name: 'depth', min: 1, max: 10 }, 3]);
  });

  test.each([1, 4, 10, 3.7])('matches onnxruntime at depth %d, run after run', async (d) => {
    expect(await ortMismatches(bytes, model, { indices, depth: depth(d), values })).toEqual([]);
  });

  test('refuses a depth outside its bounds, naming the input, and answers the next call', async () => {
    await expect(model.run({ indices, depth: depth(11), values } as Record<string, Feed>)).rejects.toThrow(
      'input "depth" element 0 is 11, outside the bounds of "depth" (1..10)',
    );
    await expect(model.run({ indices, depth: depth(0.5), values } as Record<string, Feed>)).rejects.toThrow(
      'input "depth" element 0 is 0.5, giving 0, outside the bounds of "depth" (1..10)',
    );
    expect(await ortMismatches(bytes, model, { indices, depth: depth(6), values })).toEqual([]);
  });
});

describe.each([
  {
    op: 'Expand',
    input: 'shape',
    x: [3, 1],
    length: 3,
    dims: [
      { name: 'shape_0', min: 0, max: 8 },
      { name: 'shape_1', min: 3, max: 3 },
      { name: 'shape_2', min: 0, max: 8 },
    ],
    good: [
      [2, 3, 4],
      [1, 1, 1],
      [2, 1, 0],
    ],
    bad: [
      [[2, 2, 4], 'input "shape" is [2,2,4], which cannot expand [3,1]: dim 1 is 2'],
      [[1, 3, 9], 'input "shape" element 2 is 9, outside the bounds of "shape_2" (0..8)'],
    ],
  },
  {
    op: 'Tile',
    input: 'repeats',
    x: [2, 3],
    length: 2,
    dims: [
      { name: 'repeats_0', min: 0, max: 8 },
      { name: 'repeats_1', min: 0, max: 8 },
    ],
    good: [
      [1, 1],
      [4, 2],
      [0, 2],
    ],
    bad: [
      [[-1, 1], 'input "repeats" is [-1,1], whose element 0 is no count ≥ 0'],
      [[5, 1], 'input "repeats" element 0 is 5, giving 10, outside the bounds of "repeats_0" (0..8)'],
    ],
  },
])(
  '$op with its $input fed at run time (output dims bounded by --dim), then an Add',
  ({ op, input, x: xDims, length, dims, good, bad }) => {
    const bytes = buildModel({
      opset: 13,
      inputs: [
        { name: 'x', dtype: 'float32', shape: xDims },
        { name: input, dtype: 'int64', shape: [length] },
      ],
      outputs: [{ name: 'y2', dtype: 'float32' }],
      nodes: [
        { op, inputs: ['x', input], outputs: ['y'] },
        { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
      ],
    });
    const ints = (...v: number[]): HostTensor => ({
      dtype: 'int64',
      dims: [length],
      data: BigInt64Array.from(v.map(BigInt)),
    });
    const x = randomTensor(xDims, seededRandom(61));
    let model: Model;
    beforeAll(async () => {
      const files = await compileModel(bytes, { relaxed: false, dims: { [input]: { min: 0, max: 8 } } });
      model = await loadModel(files, { backend: 'wasm' });
    });
    afterAll(() => model?.dispose());

    test('lists each output dim as fed', () => {
      expect(model.outputs[0].shape).toEqual(dims);
    });

    test.each(good)(`matches onnxruntime at ${input} %j, run after run`, async (...v) => {
      expect(await ortMismatches(bytes, model, { x, [input]: ints(...v) })).toEqual([]);
    });

    test('refuses values it cannot take, naming the input, and answers the next call', async () => {
      for (const [v, message] of bad)
        await expect(
          model.run({ x, [input]: ints(...(v as number[])) } as Record<string, Feed>),
        ).rejects.toThrow(message as string);
      expect(await ortMismatches(bytes, model, { x, [input]: ints(...good[1]) })).toEqual([]);
    });
  },
);

describe('Range with start, limit and delta fed at run time (the count bounded by --dim limit=0..20), then an Add', () => {
  const bytes = buildModel({
    opset: 11,
    inputs: ['start', 'limit', 'delta'].map((name) => ({ name, dtype: 'float32', shape: [] })),
    outputs: [{ name: 'y2', dtype: 'float32' }],
    nodes: [
      { op: 'Range', inputs: ['start', 'limit', 'delta'], outputs: ['y'] },
      { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
    ],
  });
  const scalar = (v: number): HostTensor => ({ dtype: 'float32', dims: [], data: Float32Array.of(v) });
  const feeds = (start: number, limit: number, delta: number) => ({
    start: scalar(start),
    limit: scalar(limit),
    delta: scalar(delta),
  });
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, { relaxed: false, dims: { limit: { min: 0, max: 20 } } });
    model = await loadModel(files, { backend: 'wasm' });
  });
  afterAll(() => model?.dispose());

  test('lists the count as a fed dim named after the limit', () => {
    expect(model.outputs[0].shape).toEqual([{ name: 'limit_count', min: 0, max: 20 }]);
  });

  test.each([
    [0, 5, 1],
    [1, 2.5, 0.3],
    [10, -3, -1.5],
    [4, 1, 1],
  ])('matches onnxruntime at start %d, limit %d, delta %d, run after run', async (...v) => {
    expect(await ortMismatches(bytes, model, feeds(...v))).toEqual([]);
  });

  test('refuses a delta of 0 or a count past its bound, naming the input, and answers the next call', async () => {
    await expect(model.run(feeds(0, 5, 0) as Record<string, Feed>)).rejects.toThrow(
      'input "delta" is 0, which no Range may step by',
    );
    await expect(model.run(feeds(0, 21, 1) as Record<string, Feed>)).rejects.toThrow(
      'input "limit" element 0 is 21, outside the bounds of "limit_count" (0..20)',
    );
    expect(await ortMismatches(bytes, model, feeds(2, 9, 2))).toEqual([]);
  });
});

describe('Range whose limit is a Cast of a fed int32 input (as the expanded windows build it), then a Cos', () => {
  const bytes = buildModel({
    opset: 17,
    inputs: [{ name: 'n', dtype: 'int32', shape: [] }],
    initializers: [
      { name: 'zero', tensor: { dtype: 'float32', dims: [], data: Float32Array.of(0) } },
      { name: 'one', tensor: { dtype: 'float32', dims: [], data: Float32Array.of(1) } },
    ],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: [
      { op: 'Cast', inputs: ['n'], outputs: ['limit'], attrs: { to: { i: 1 } } },
      { op: 'Range', inputs: ['zero', 'limit', 'one'], outputs: ['r'] },
      { op: 'Cos', inputs: ['r'], outputs: ['y'] },
    ],
  });
  const n = (v: number): HostTensor => ({ dtype: 'int32', dims: [], data: Int32Array.of(v) });
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, { relaxed: false, dims: { n: { min: 0, max: 20 } } });
    model = await loadModel(files, { backend: 'wasm' });
  });
  afterAll(() => model?.dispose());

  test('lists the count as a fed dim named after the input', () => {
    expect(model.outputs[0].shape).toEqual([{ name: 'n_count', min: 0, max: 20 }]);
  });

  test.each([0, 7, 20])('matches onnxruntime at n = %i, run after run', async (v) => {
    expect(await ortMismatches(bytes, model, { n: n(v) })).toEqual([]);
  });

  test('refuses a count past its bound, naming the input, and answers the next call', async () => {
    await expect(model.run({ n: n(21) } as Record<string, Feed>)).rejects.toThrow(
      'input "n" element 0 is 21, outside the bounds of "n_count" (0..20)',
    );
    expect(await ortMismatches(bytes, model, { n: n(3) })).toEqual([]);
  });
});

describe('Range as its ONNX function expands it: a Loop whose trip count is computed from the fed inputs', () => {
  // Cast(Relu(Ceil(Div(Cast(Sub(limit, start)), Cast(delta))))) iterations of prev → prev + delta, scanning prev
  const expandedRange = (finalIsOutput: boolean) =>
    buildModel({
      opset: 13,
      inputs: ['start', 'limit', 'delta'].map((name) => ({ name, dtype: 'int32', shape: [] })),
      outputs: [
        { name: 'y2', dtype: 'int32' },
        ...(finalIsOutput ? [{ name: 'last', dtype: 'int32' as const }] : []),
      ],
      nodes: [
        { op: 'Sub', inputs: ['limit', 'start'], outputs: ['span'] },
        { op: 'Cast', inputs: ['span'], outputs: ['span_f'], attrs: { to: { i: 1 } } },
        { op: 'Cast', inputs: ['delta'], outputs: ['delta_f'], attrs: { to: { i: 1 } } },
        { op: 'Div', inputs: ['span_f', 'delta_f'], outputs: ['steps'] },
        { op: 'Ceil', inputs: ['steps'], outputs: ['steps_up'] },
        { op: 'Relu', inputs: ['steps_up'], outputs: ['count'] },
        { op: 'Cast', inputs: ['count'], outputs: ['trip'], attrs: { to: { i: 7 } } },
        { op: 'Cast', inputs: ['count'], outputs: ['go'], attrs: { to: { i: 9 } } },
        {
          op: 'Loop',
          inputs: ['trip', 'go', 'start'],
          outputs: ['last', 'y'],
          attrs: {
            body: {
              g: {
                inputs: [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'cond' }, { name: 'prev' }],
                outputs: [{ name: 'cond_out' }, { name: 'current' }, { name: 'value' }],
                nodes: [
                  { op: 'Identity', inputs: ['cond'], outputs: ['cond_out'] },
                  { op: 'Add', inputs: ['prev', 'delta'], outputs: ['current'] },
                  { op: 'Identity', inputs: ['prev'], outputs: ['value'] },
                ],
              },
            },
          },
        },
        { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
      ],
    });
  const bytes = expandedRange(false);
  const scalar = (v: number): HostTensor => ({ dtype: 'int32', dims: [], data: Int32Array.of(v) });
  const feeds = (start: number, limit: number, delta: number) => ({
    start: scalar(start),
    limit: scalar(limit),
    delta: scalar(delta),
  });
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, { relaxed: false, dims: { limit: { min: 0, max: 20 } } });
    model = await loadModel(files, { backend: 'wasm' });
  });
  afterAll(() => model?.dispose());

  test('runs as one Range: its count a fed dim named after the limit', () => {
    expect(model.outputs[0].shape).toEqual([{ name: 'limit_count', min: 0, max: 20 }]);
  });

  test.each([
    [0, 5, 1],
    [10, -3, -2],
    [4, 1, 1],
  ])('matches onnxruntime at start %d, limit %d, delta %d, run after run', async (...v) => {
    expect(await ortMismatches(bytes, model, feeds(...v))).toEqual([]);
  });

  test('refuses a delta of 0, naming the input, and answers the next call', async () => {
    await expect(model.run(feeds(0, 5, 0) as Record<string, Feed>)).rejects.toThrow(
      'input "delta" is 0, which no Range may step by',
    );
    expect(await ortMismatches(bytes, model, feeds(2, 9, 2))).toEqual([]);
  });

  test('a Loop whose final carried value is used (Range has no such output) still needs its trip count', async () => {
    await expect(compileModel(expandedRange(true), { relaxed: false })).rejects.toThrow(
      /Loop node .* the trip count \(input 0, "trip"\) is computed at run time; model input \(input 0, "start"\) must be known at compile time/,
    );
  });
});

describe.each(['constant', 'edge', 'reflect'])(
  'Pad (%s) with its pads fed at run time, then an Add',
  (mode) => {
    const bytes = buildModel({
      opset: 13,
      inputs: [
        { name: 'x', dtype: 'float32', shape: [3, 4] },
        { name: 'pads', dtype: 'int64', shape: [4] },
      ],
      outputs: [{ name: 'y2', dtype: 'float32' }],
      nodes: [
        { op: 'Pad', inputs: ['x', 'pads'], outputs: ['y'], attrs: { mode: { s: mode } } },
        { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
      ],
    });
    const pads = (...v: number[]): HostTensor => ({
      dtype: 'int64',
      dims: [4],
      data: BigInt64Array.from(v.map(BigInt)),
    });
    const x = randomTensor([3, 4], seededRandom(71));
    let model: Model;
    beforeAll(async () => {
      const files = await compileModel(bytes, { relaxed: false, dims: { pads: { min: 0, max: 8 } } });
      model = await loadModel(files, { backend: 'wasm' });
    });
    afterAll(() => model?.dispose());

    test('lists each output dim as fed, bounded by --dim pads', () => {
      expect(model.outputs[0].shape).toEqual([
        { name: 'pads_size_0', min: 0, max: 8 },
        { name: 'pads_size_1', min: 0, max: 8 },
      ]);
    });

    test.each([
      [1, 2, 0, 1],
      [0, 0, 0, 0],
      [-1, 1, 1, -2],
    ])('matches onnxruntime at pads [%i, %i, %i, %i], run after run', async (...v) => {
      expect(await ortMismatches(bytes, model, { x, pads: pads(...v) })).toEqual([]);
    });

    test('refuses pads that crop below 0 or pad past the bound, naming the input, and answers the next call', async () => {
      await expect(model.run({ x, pads: pads(-2, 0, -2, 0) } as Record<string, Feed>)).rejects.toThrow(
        'input "pads" is [-2,0,-2,0], which crops axis 0 of [3,4] below size 0',
      );
      await expect(model.run({ x, pads: pads(3, 0, 3, 0) } as Record<string, Feed>)).rejects.toThrow(
        'input "pads" element 0 is 3, giving 9, outside the bounds of "pads_size_0" (0..8)',
      );
      expect(await ortMismatches(bytes, model, { x, pads: pads(0, 1, 1, 0) })).toEqual([]);
    });
  },
);

describe('MaxUnpool with its output_shape fed at run time (bounded by --dim output_shape=0..6), then an Add', () => {
  // MaxPool 2×2 of x [1,1,4,4] → values and indices [1,1,2,2] into the 4×4 image, unpooled into output_shape
  const bytes = buildModel({
    opset: 11,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [1, 1, 4, 4] },
      { name: 'output_shape', dtype: 'int64', shape: [4] },
    ],
    outputs: [{ name: 'y2', dtype: 'float32' }],
    nodes: [
      {
        op: 'MaxPool',
        inputs: ['x'],
        outputs: ['pooled', 'indices'],
        attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
      {
        op: 'MaxUnpool',
        inputs: ['pooled', 'indices', 'output_shape'],
        outputs: ['y'],
        attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
      { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
    ],
  });
  const shape = (...d: number[]): HostTensor => ({
    dtype: 'int64',
    dims: [4],
    data: BigInt64Array.from(d.map(BigInt)),
  });
  const x = randomTensor([1, 1, 4, 4], seededRandom(43));
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, { relaxed: false, dims: { output_shape: { min: 0, max: 6 } } });
    model = await loadModel(files, { backend: 'wasm' });
  });
  afterAll(() => model?.dispose());
  const run = async (...d: number[]) =>
    (await model.run({ x, output_shape: shape(...d) } as Record<string, Feed>)).y2 as HostTensor;

  test('lists each output dim as fed, bounded by --dim', () => {
    expect(model.outputs[0].shape[3]).toEqual({ name: 'output_shape_3', min: 0, max: 6 });
  });

  test('matches onnxruntime at the pooled input shape [1, 1, 4, 4]', async () => {
    expect(await ortMismatches(bytes, model, { x, output_shape: shape(1, 1, 4, 4) })).toEqual([]);
  });

  // onnxruntime reads the indices as flat positions in the output, the ONNX reference (and Kiln) as
  // coordinates in the pooled input: a larger output_shape pads with zeros, a smaller one crops
  test.each([
    [6, 5],
    [3, 2],
  ])('keeps each value at its coordinates in output_shape [1, 1, %i, %i], run after run', async (h, w) => {
    const square = Array.from((await run(1, 1, 4, 4)).data as Float32Array);
    const y = await run(1, 1, h, w);
    expect(y.dims).toEqual([1, 1, h, w]);
    const want = Array.from({ length: h * w }, (_, i) => {
      const [r, c] = [Math.floor(i / w), i % w];
      return r < 4 && c < 4 ? square[r * 4 + c] : 0;
    });
    expect(Array.from(y.data as Float32Array)).toEqual(want);
  });

  test('refuses a dim outside its bounds, naming the input, and answers the next call', async () => {
    await expect(run(1, 1, 7, 5)).rejects.toThrow(
      'input "output_shape" element 2 is 7, outside the bounds of "output_shape_2" (0..6)',
    );
    expect(await ortMismatches(bytes, model, { x, output_shape: shape(1, 1, 4, 4) })).toEqual([]);
  });
});

describe('MelWeightMatrix with num_mel_bins and dft_length fed at run time (bounded by --dim), then an Add', () => {
  const bytes = buildModel({
    opset: 17,
    inputs: [
      { name: 'num_mel_bins', dtype: 'int32', shape: [] },
      { name: 'dft_length', dtype: 'int32', shape: [] },
      { name: 'sample_rate', dtype: 'int32', shape: [] },
      { name: 'lower_edge_hertz', dtype: 'float32', shape: [] },
      { name: 'upper_edge_hertz', dtype: 'float32', shape: [] },
    ],
    outputs: [{ name: 'y2', dtype: 'float32' }],
    nodes: [
      {
        op: 'MelWeightMatrix',
        inputs: ['num_mel_bins', 'dft_length', 'sample_rate', 'lower_edge_hertz', 'upper_edge_hertz'],
        outputs: ['y'],
      },
      { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
    ],
  });
  const int32 = (n: number): HostTensor => ({ dtype: 'int32', dims: [], data: Int32Array.of(n) });
  const float32 = (x: number): HostTensor => ({ dtype: 'float32', dims: [], data: Float32Array.of(x) });
  const feeds = (mels: number, dft: number) => ({
    num_mel_bins: int32(mels),
    dft_length: int32(dft),
    sample_rate: int32(8000),
    lower_edge_hertz: float32(0),
    upper_edge_hertz: float32(3000),
  });
  let model: Model;
  beforeAll(async () => {
    const dims = { num_mel_bins: { min: 1, max: 16 }, dft_length: { min: 1, max: 64 } };
    model = await loadModel(await compileModel(bytes, { relaxed: false, dims }), { backend: 'wasm' });
  });
  afterAll(() => model?.dispose());

  test('lists the output dims as the fed sizes, within their bounds', () => {
    expect(model.outputs[0].shape[0]).toMatchObject({ name: 'floor(dft_length / 2) + 1', min: 1, max: 33 });
    expect(model.outputs[0].shape[1]).toEqual({ name: 'num_mel_bins', min: 1, max: 16 });
  });

  test.each([
    [8, 16],
    [3, 64],
    [16, 7],
    [1, 1],
  ])('matches onnxruntime with num_mel_bins %i and dft_length %i, run after run', async (mels, dft) => {
    expect(await ortMismatches(bytes, model, feeds(mels, dft))).toEqual([]);
  });

  test('refuses a size outside its bounds or of the wrong type, naming the input, and answers the next call', async () => {
    await expect(model.run(feeds(17, 16) as Record<string, Feed>)).rejects.toThrow(
      'input "num_mel_bins" element 0 is 17, outside the bounds of "num_mel_bins" (1..16)',
    );
    await expect(
      model.run({ ...feeds(8, 16), dft_length: float32(16) } as Record<string, Feed>),
    ).rejects.toThrow(/"dft_length".*int32/);
    expect(await ortMismatches(bytes, model, feeds(5, 32))).toEqual([]);
  });
});

describe('STFT with frame_step and frame_length fed at run time (bounded by --dim), then an Add', () => {
  const stft = (window: boolean) =>
    buildModel({
      opset: 17,
      inputs: [
        { name: 'signal', dtype: 'float32', shape: [2, 64, 1] },
        { name: 'frame_step', dtype: 'int64', shape: [] },
        window
          ? { name: 'window', dtype: 'float32', shape: [12] }
          : { name: 'frame_length', dtype: 'int64', shape: [] },
      ],
      outputs: [{ name: 'y2', dtype: 'float32' }],
      nodes: [
        {
          op: 'STFT',
          inputs: window ? ['signal', 'frame_step', 'window'] : ['signal', 'frame_step', '', 'frame_length'],
          outputs: ['y'],
        },
        { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
      ],
    });
  const int64 = (n: number): HostTensor => ({ dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(n)) });
  const signal = randomTensor([2, 64, 1], seededRandom(61));
  const bytes = stft(false);
  let model: Model;
  beforeAll(async () => {
    const dims = { frame_step: { min: 1, max: 16 }, frame_length: { min: 2, max: 100 } };
    model = await loadModel(await compileModel(bytes, { relaxed: false, dims }), { backend: 'wasm' });
  });
  afterAll(() => model?.dispose());
  const feeds = (step: number, length: number) => ({
    signal,
    frame_step: int64(step),
    frame_length: int64(length),
  });

  test('lists the frame count and the bins as fed sizes, the frame length bounded by the signal', () => {
    expect(model.outputs[0].shape[1]).toEqual({ name: 'frame_step_frames', min: 1, max: 63 });
    expect(model.outputs[0].shape[2]).toMatchObject({ name: 'floor(frame_length / 2) + 1', min: 2, max: 33 });
  });

  test.each([
    [8, 16],
    [1, 64],
    [5, 7],
    [16, 2],
  ])('matches onnxruntime with frame_step %i and frame_length %i, run after run', async (step, length) => {
    expect(await ortMismatches(bytes, model, feeds(step, length))).toEqual([]);
  });

  test('refuses a step or length out of range or of the wrong type, naming the input, and answers the next call', async () => {
    await expect(model.run(feeds(0, 16) as Record<string, Feed>)).rejects.toThrow(
      'input "frame_step" is 0; a frame step must be at least 1',
    );
    await expect(model.run(feeds(4, 65) as Record<string, Feed>)).rejects.toThrow(
      'input "frame_length" element 0 is 65, outside the bounds of "frame_length" (2..64)',
    );
    await expect(
      model.run({
        ...feeds(4, 16),
        frame_step: { dtype: 'float32', dims: [], data: Float32Array.of(4) },
      } as Record<string, Feed>),
    ).rejects.toThrow(/"frame_step".*int64/);
    expect(await ortMismatches(bytes, model, feeds(3, 10))).toEqual([]);
  });

  test('with a window: the step fed, 0..64 by default with a warning, matching onnxruntime', async () => {
    const windowed = stft(true);
    const warnings: string[] = [];
    const files = await compileModel(windowed, { relaxed: false, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([
      'input "frame_step" is a size fed at run time with no bound; bounded 0..64 (bound it with --dim frame_step=MIN..MAX, or fix it with --const frame_step=...)',
    ]);
    const windowedModel = await loadModel(files, { backend: 'wasm' });
    try {
      const window = randomTensor([12], seededRandom(62));
      for (const step of [4, 1, 64])
        expect(
          await ortMismatches(windowed, windowedModel, { signal, frame_step: int64(step), window }),
        ).toEqual([]);
    } finally {
      windowedModel.dispose();
    }
  });
});

describe('sizes fed at run time that no data bounds: declared with --dim INPUT=MIN..MAX, or 0..64 with a warning', () => {
  const fill = buildModel({
    opset: 17,
    inputs: [{ name: 'shape', dtype: 'int64', shape: [2] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: [{ op: 'ConstantOfShape', inputs: ['shape'], outputs: ['y'] }],
  });
  const window = buildModel({
    opset: 17,
    inputs: [{ name: 'size', dtype: 'int64', shape: [] }],
    outputs: [{ name: 'w', dtype: 'float32' }],
    nodes: [{ op: 'HannWindow', inputs: ['size'], outputs: ['w'], attrs: { periodic: { i: 0 } } }],
  });
  const ints = (...values: number[]): HostTensor => ({
    dtype: 'int64',
    dims: [values.length],
    data: BigInt64Array.from(values.map(BigInt)),
  });

  test('ConstantOfShape: each dim fed, 0..64 by default with a warning naming --dim, matching onnxruntime', async () => {
    const warnings: string[] = [];
    const files = await compileModel(fill, { relaxed: false, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([
      'input "shape" is a size fed at run time with no bound; bounded 0..64 (bound it with --dim shape=MIN..MAX, or fix it with --const shape=...)',
    ]);
    const model = await loadModel(files, { backend: 'wasm' });
    try {
      expect(model.outputs[0].shape).toEqual([
        { name: 'shape_0', min: 0, max: 64 },
        { name: 'shape_1', min: 0, max: 64 },
      ]);
      for (const dims of [
        [3, 4],
        [0, 5],
        [64, 1],
      ])
        expect(await ortMismatches(fill, model, { shape: ints(...dims) })).toEqual([]);
      await expect(model.run({ shape: ints(2, 65) } as Record<string, Feed>)).rejects.toThrow(
        'input "shape" element 1 is 65, outside the bounds of "shape_1" (0..64)',
      );
      expect(await ortMismatches(fill, model, { shape: ints(2, 2) })).toEqual([]);
    } finally {
      model.dispose();
    }
  });

  test('HannWindow: the size bounded by --dim size=1..300, matching onnxruntime', async () => {
    const warnings: string[] = [];
    const files = await compileModel(window, {
      relaxed: false,
      dims: { size: { min: 1, max: 300 } },
      onWarning: (w) => warnings.push(w),
    });
    expect(warnings).toEqual([]);
    const model = await loadModel(files, { backend: 'wasm' });
    try {
      expect(model.outputs[0].shape).toEqual([{ name: 'size', min: 1, max: 300 }]);
      for (const n of [2, 10, 300]) {
        const size: HostTensor = { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(n)) };
        expect(await ortMismatches(window, model, { size })).toEqual([]);
      }
      const zero: HostTensor = { dtype: 'int64', dims: [], data: BigInt64Array.of(0n) };
      await expect(model.run({ size: zero } as Record<string, Feed>)).rejects.toThrow(
        'input "size" element 0 is 0, outside the bounds of "size" (1..300)',
      );
    } finally {
      model.dispose();
    }
  });

  test('--dim naming an input that no fed size reads is refused', async () => {
    await expect(
      compileModel(fill, { dims: { shape: { min: 0, max: 8 }, other: { min: 0, max: 1 } } }),
    ).rejects.toThrow('--dim names "other", which is no symbolic dimension');
    const topk = buildModel({
      opset: 11,
      inputs: [
        { name: 'x', dtype: 'float32', shape: [3] },
        { name: 'k', dtype: 'int64', shape: [1] },
      ],
      outputs: [
        { name: 'v', dtype: 'float32' },
        { name: 'i', dtype: 'int64' },
      ],
      nodes: [{ op: 'TopK', inputs: ['x', 'k'], outputs: ['v', 'i'] }],
    });
    await expect(compileModel(topk, { dims: { x: { min: 0, max: 8 } } })).rejects.toThrow(
      '--dim names input "x", which is neither a symbolic dimension nor a size fed at run time that needs a bound',
    );
  });
});
