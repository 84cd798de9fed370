/** Serving a model whose output size is a value (#11 item 2): metadata -1, real sizes, 400 beyond the bound. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { embeddingModel, topKNonZeroModel } from '../helpers/data-shape-models.js';
import { buildModel } from '../helpers/onnx-builder.js';
import { postJson } from './requests.js';

// TopK's K fed as an input, and NonZero of its values: two data-dependent sizes in one model
const bytes = topKNonZeroModel();
const x = [0, 3, 0, 5, 1, 0];
const infer = (k: number) =>
  postJson(app, '/v2/models/topk/infer', {
    inputs: [
      { name: 'x', shape: [1, 6], datatype: 'FP32', data: x },
      { name: 'k', shape: [1], datatype: 'INT64', data: [k] },
    ],
  });

let model: Model;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
  app = createApp({ models: [{ name: 'topk', model }], log: false });
});
afterAll(() => model.dispose());

describe('a model with data-dependent output sizes', () => {
  it('reports those sizes as -1 in its metadata', async () => {
    const body = await (await app.request('/v2/models/topk')).json();
    expect(body.outputs).toEqual([
      { name: 'values', datatype: 'FP32', shape: [1, -1] },
      { name: 'nonzero', datatype: 'INT64', shape: [2, -1] },
    ]);
  });

  it('answers each K with outputs of their real sizes', async () => {
    for (const [k, values, hits] of [
      [2, [5, 3], 2],
      [5, [5, 3, 1, 0, 0], 3],
      [0, [], 0],
    ] as const) {
      const response = await infer(k);
      expect(response.status).toBe(200);
      const [v, nz] = (await response.json()).outputs;
      expect(v.shape).toEqual([1, k]);
      expect(v.data).toEqual(values);
      expect(nz.shape).toEqual([2, hits]);
    }
  });

  it('refuses a K beyond its bound with 400 naming input, element and bounds, then answers the next', async () => {
    const response = await infer(7);
    expect(response.status).toBe(400);
    expect((await response.json()).error).toContain(
      'input "k" element 0 is 7, outside the bounds of "k" (0..6)',
    );
    expect((await infer(1)).status).toBe(200);
  });
});

describe('a model whose Reshape target is fed at run time', () => {
  const reshape = buildModel({
    opset: 14,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [2, 3] },
      { name: 'shape', dtype: 'int64', shape: [2] },
    ],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
  });
  let served: Model;
  let api: ReturnType<typeof createApp>;
  beforeAll(async () => {
    served = await loadModel(await compileModel(reshape, { relaxed: false }), { backend: 'wasm' });
    api = createApp({ models: [{ name: 'reshape', model: served }], log: false });
  });
  afterAll(() => served.dispose());
  const post = (target: number[]) =>
    postJson(api, '/v2/models/reshape/infer', {
      inputs: [
        { name: 'x', shape: [2, 3], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] },
        { name: 'shape', shape: [2], datatype: 'INT64', data: target },
      ],
    });

  it('answers with the resolved shape, refuses a target of another element count with 400, then answers the next', async () => {
    const ok = await post([-1, 2]);
    expect(ok.status).toBe(200);
    expect((await ok.json()).outputs[0]).toMatchObject({ shape: [3, 2], data: [1, 2, 3, 4, 5, 6] });
    const bad = await post([4, 2]);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toContain(
      'input "shape" is [4,2], which cannot reshape [2,3]: 8 elements, not 6',
    );
    expect((await post([6, 0])).status).toBe(400);
    expect((await post([1, 6])).status).toBe(200);
  });
});

describe('an embedding lookup whose token ids are fed', () => {
  let served: Model;
  let api: ReturnType<typeof createApp>;
  beforeAll(async () => {
    served = await loadModel(await compileModel(embeddingModel(), { relaxed: false }), { backend: 'wasm' });
    api = createApp({ models: [{ name: 'embed', model: served }], log: false });
  });
  afterAll(() => served.dispose());
  const post = (ids: number[]) =>
    postJson(api, '/v2/models/embed/infer', {
      inputs: [{ name: 'ids', shape: [3], datatype: 'INT64', data: ids }],
    });

  it('refuses an id beyond the table with 400 naming input, bounds and node, then answers the next', async () => {
    const response = await post([1, 5, 0]);
    expect(response.status).toBe(400);
    expect((await response.json()).error).toContain(
      'input "ids" element 1 is 5, outside -5..4: Gather node "embed" reads it as an index into axis 0 (size 5)',
    );
    const next = await post([4, -5, 1]);
    expect(next.status).toBe(200);
    expect((await next.json()).outputs[0].data).toEqual([12, 13, 14, 0, 1, 2, 3, 4, 5]);
  });
});
