/**
 * Data-dependent sizes on the webgpu backend (#11 item 2), on Dawn (lavapipe in CI): a size fed as an
 * input's value (TopK's K) is written into the dims block by the runtime like any run-time dim; Compress's
 * kept count, computed during the run, is read back before the dispatches after it are sized; the other
 * sizes computed during the run (NonZero, NonMaxSuppression) are refused at compile, naming the op; a value
 * that only changes arithmetic (Trilu's k) is read by the kernel from its buffer, and a Reshape target,
 * Split's sizes, ConstantOfShape's shape and a window's size fed at run time are read and checked by the
 * runtime like TopK's K. Indices fed at run time (Gather's) are checked by the runtime before the run, as
 * on wasm: the shaders clamp an index out of range (a GPU cannot trap), so the feed is refused first.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import type { Feed } from '../../src/runtime/types.js';
import { buildModel, randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { ortMismatches } from '../helpers/ort-oracle.js';
import { embeddingModel } from '../helpers/data-shape-models.js';
import { nodeGpu } from './fixture.js';

describe('TopK with K fed at run time, --targets wasm,webgpu', () => {
  const bytes = buildModel({
    opset: 11,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [3, 6] },
      { name: 'k', dtype: 'int64', shape: [1] },
    ],
    outputs: [
      { name: 'values', dtype: 'float32' },
      { name: 'indices', dtype: 'int64' },
    ],
    nodes: [{ op: 'TopK', inputs: ['x', 'k'], outputs: ['values', 'indices'] }],
  });
  const k = (n: number): HostTensor => ({ dtype: 'int64', dims: [1], data: BigInt64Array.of(BigInt(n)) });
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'], relaxed: false });
    model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  });
  afterAll(() => model?.dispose());

  test.each([0, 2, 6])('matches onnxruntime at K = %i', async (n) => {
    expect(model.backend).toBe('webgpu');
    const x = randomTensor([3, 6], seededRandom(n));
    expect(await ortMismatches(bytes, model, { x, k: k(n) })).toEqual([]);
  });
});

describe('Trilu with k fed at run time (read by the kernel), --targets wasm,webgpu', () => {
  const bytes = buildModel({
    opset: 14,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [4, 5] },
      { name: 'k', dtype: 'int64', shape: [] },
    ],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: [{ op: 'Trilu', inputs: ['x', 'k'], outputs: ['y'], attrs: { upper: { i: 0 } } }],
  });
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'], relaxed: false });
    model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  });
  afterAll(() => model?.dispose());

  test.each([-(2n ** 40n), -2n, 0n, 3n, 2n ** 40n])('matches onnxruntime at k = %s', async (n) => {
    expect(model.backend).toBe('webgpu');
    const x = randomTensor([4, 5], seededRandom(Number(n % 89n) + 20));
    const k: HostTensor = { dtype: 'int64', dims: [], data: BigInt64Array.of(n) };
    expect(await ortMismatches(bytes, model, { x, k })).toEqual([]);
  });
});

describe('Reshape with its target fed at run time, then a Transpose, --targets wasm,webgpu', () => {
  const bytes = buildModel({
    opset: 14,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [2, 3, 4] },
      { name: 'shape', dtype: 'int64', shape: [2] },
    ],
    outputs: [{ name: 'yt', dtype: 'float32' }],
    nodes: [
      { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
      { op: 'Transpose', inputs: ['y'], outputs: ['yt'], attrs: { perm: { ints: [1, 0] } } },
    ],
  });
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'], relaxed: false });
    model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  });
  afterAll(() => model?.dispose());

  test.each([
    [6, 4],
    [-1, 3],
    [0, 12],
  ])('matches onnxruntime at shape [%i, %i]', async (a, b) => {
    expect(model.backend).toBe('webgpu');
    const x = randomTensor([2, 3, 4], seededRandom(a + 30));
    const shape: HostTensor = { dtype: 'int64', dims: [2], data: BigInt64Array.of(BigInt(a), BigInt(b)) };
    expect(await ortMismatches(bytes, model, { x, shape })).toEqual([]);
  });
});

describe('Split with its sizes fed at run time, --targets wasm,webgpu', () => {
  const bytes = buildModel({
    opset: 13,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [2, 6, 3] },
      { name: 'split', dtype: 'int64', shape: [2] },
    ],
    outputs: [
      { name: 'a', dtype: 'float32' },
      { name: 'b', dtype: 'float32' },
    ],
    nodes: [{ op: 'Split', inputs: ['x', 'split'], outputs: ['a', 'b'], attrs: { axis: { i: 1 } } }],
  });
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'], relaxed: false });
    model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  });
  afterAll(() => model?.dispose());

  test.each([
    [2, 4],
    [0, 6],
    [5, 1],
  ])('matches onnxruntime at split [%i, %i]', async (a, b) => {
    expect(model.backend).toBe('webgpu');
    const x = randomTensor([2, 6, 3], seededRandom(a + 40));
    const split: HostTensor = { dtype: 'int64', dims: [2], data: BigInt64Array.of(BigInt(a), BigInt(b)) };
    expect(await ortMismatches(bytes, model, { x, split })).toEqual([]);
  });
});

describe('ConstantOfShape and BlackmanWindow sized by inputs fed at run time, --targets wasm,webgpu', () => {
  const bytes = buildModel({
    opset: 17,
    inputs: [
      { name: 'shape', dtype: 'int64', shape: [2] },
      { name: 'size', dtype: 'int32', shape: [] },
    ],
    outputs: [
      { name: 'y', dtype: 'float32' },
      { name: 'w', dtype: 'float32' },
    ],
    nodes: [
      { op: 'ConstantOfShape', inputs: ['shape'], outputs: ['y'] },
      { op: 'BlackmanWindow', inputs: ['size'], outputs: ['w'] },
    ],
  });
  let model: Model;
  beforeAll(async () => {
    const dims = { shape: { min: 0, max: 8 }, size: { min: 1, max: 40 } };
    const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'], relaxed: false, dims });
    model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  });
  afterAll(() => model?.dispose());

  test.each([
    [3, 5, 7],
    [0, 8, 40],
    [8, 8, 1],
  ])('matches onnxruntime at shape [%i, %i], size %i', async (a, b, n) => {
    expect(model.backend).toBe('webgpu');
    const shape: HostTensor = { dtype: 'int64', dims: [2], data: BigInt64Array.of(BigInt(a), BigInt(b)) };
    const size: HostTensor = { dtype: 'int32', dims: [], data: Int32Array.of(n) };
    expect(await ortMismatches(bytes, model, { shape, size })).toEqual([]);
  });
});

describe('Compress by conditions fed at run time (two counted sizes), then Adds, --targets wasm,webgpu', () => {
  const bytes = buildModel({
    opset: 11,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [2, 5, 3] },
      { name: 'rows', dtype: 'bool', shape: [5] },
      { name: 'columns', dtype: 'bool', shape: [3] },
    ],
    outputs: [
      { name: 'y2', dtype: 'float32' },
      { name: 'z2', dtype: 'float32' },
    ],
    nodes: [
      { op: 'Compress', inputs: ['x', 'rows'], outputs: ['y'], attrs: { axis: { i: 1 } } },
      { op: 'Compress', inputs: ['x', 'columns'], outputs: ['z'], attrs: { axis: { i: 2 } } },
      { op: 'Add', inputs: ['y', 'y'], outputs: ['y2'] },
      { op: 'Add', inputs: ['z', 'z'], outputs: ['z2'] },
    ],
  });
  const x = randomTensor([2, 5, 3], seededRandom(41));
  const kept = (bits: number[]): HostTensor => ({
    dtype: 'bool',
    dims: [bits.length],
    data: Uint8Array.from(bits),
  });
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'], relaxed: false });
    model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  });
  afterAll(() => model?.dispose());

  test.each([
    [
      [1, 0, 1, 1, 0],
      [0, 1, 1],
    ],
    [
      [0, 0, 0, 0, 0],
      [1, 1, 1],
    ],
    [
      [1, 1, 1, 1, 1],
      [1, 0, 0],
    ],
    [
      [0, 1, 0, 0, 0],
      [0, 0, 0],
    ],
  ])('matches onnxruntime with rows %j and columns %j kept, run after run', async (rows, columns) => {
    expect(model.backend).toBe('webgpu');
    expect(await ortMismatches(bytes, model, { x, rows: kept(rows), columns: kept(columns) })).toEqual([]);
  });

  test('refuses a condition of another length, naming the input, and answers the next call', async () => {
    const wrong = { x, rows: kept([1, 0, 1, 1, 0, 1]), columns: kept([1, 1, 1]) };
    await expect(model.run(wrong as Record<string, Feed>)).rejects.toThrow(
      'input "rows" has dims [6] but the model expects [5]',
    );
    expect(
      await ortMismatches(bytes, model, { x, rows: kept([0, 1, 1, 0, 1]), columns: kept([1, 0, 1]) }),
    ).toEqual([]);
  });
});

test('a size computed during the run is refused for webgpu at compile, naming the op', async () => {
  const bytes = buildModel({
    inputs: [{ name: 'x', dtype: 'float32', shape: [4] }],
    outputs: [{ name: 'y', dtype: 'int64' }],
    nodes: [{ op: 'NonZero', inputs: ['x'], outputs: ['y'], name: 'hits' }],
  });
  await expect(compileModel(bytes, { targets: ['wasm', 'webgpu'] })).rejects.toThrow(
    /NonZero node "hits".*counting its output at run time is not supported on the webgpu target yet/,
  );
});

describe('Gather with its indices fed at run time, --targets wasm,webgpu', () => {
  const bytes = embeddingModel();
  const ids = (...v: number[]): HostTensor => ({
    dtype: 'int64',
    dims: [3],
    data: BigInt64Array.from(v.map(BigInt)),
  });
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'], relaxed: false });
    model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  });
  afterAll(() => model?.dispose());

  test('refuses an id out of range as on wasm, then matches onnxruntime with negative ids', async () => {
    expect(model.backend).toBe('webgpu');
    await expect(model.run({ ids: ids(0, 7, 1) } as Record<string, Feed>)).rejects.toThrow(
      'input "ids" element 1 is 7, outside -5..4: Gather node "embed" reads it as an index into axis 0 (size 5)',
    );
    expect(await ortMismatches(bytes, model, { ids: ids(4, -5, -1) })).toEqual([]);
  });
});
