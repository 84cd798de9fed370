/**
 * Serving a bundle with a dim known only at run time (#11): metadata shows -1, /infer takes any in-bounds
 * shape (on the step, for a dim bounded with one).
 */
import type { ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import type { Model } from '../../src/runtime/index.js';
import { compileMlpBatches, protocolValidators, schemaErrors, type CompiledBundle } from './fixture.js';
import { postJson } from './requests.js';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { buildModel } from '../helpers/onnx-builder.js';

let mlp: CompiledBundle;
let model: Model;
let schemas: Record<string, ValidateFunction>;
let app: ReturnType<typeof createApp>;

const rows = (n: number) => Array.from({ length: n * 64 }, (_, i) => Math.sin(i * 0.37));

beforeAll(async () => {
  [mlp, schemas] = await Promise.all([compileMlpBatches(1, 8), protocolValidators()]);
  model = mlp.model;
  app = createApp({ models: [{ name: 'mlp', model }], log: false });
});
afterAll(() => mlp?.cleanup());

describe('a model compiled with --dim batch=1..8', () => {
  it('reports the bounded dim as -1 in its metadata', async () => {
    const response = await app.request('/v2/models/mlp');
    const body = await response.json();
    expect(schemaErrors(schemas.metadata_model_response, body)).toBe('');
    expect(body.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 64] }]);
    expect(body.outputs).toEqual([{ name: 'probs', datatype: 'FP32', shape: [-1, 10] }]);
  });

  it('answers requests of two batch sizes in one process, each with its own shape and values', async () => {
    for (const n of [1, 3]) {
      const response = await postJson(app, '/v2/models/mlp/infer', {
        inputs: [{ name: 'x', shape: [n, 64], datatype: 'FP32', data: rows(n) }],
      });
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(schemaErrors(schemas.inference_response, body)).toBe('');
      const direct = await model.run({
        x: { dtype: 'float32', dims: [n, 64], data: Float32Array.from(rows(n)) },
      });
      expect(body.outputs[0].shape).toEqual([n, 10]);
      expect(body.outputs[0].data).toEqual(Array.from(direct.probs.data as Float32Array));
    }
  });

  it('refuses a batch outside the bounds with 400 naming input, axis and range', async () => {
    const response = await postJson(app, '/v2/models/mlp/infer', {
      inputs: [{ name: 'x', shape: [9, 64], datatype: 'FP32', data: rows(9) }],
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toContain(
      'input "x" axis 0 is 9, outside the bounds of "batch" (1..8)',
    );
  });
});

describe('a model whose dims are bounded with a step (--dim h=2..16:2 --dim w=2..16:2)', () => {
  // x + upsample(maxpool(x)): the two sizes are equal only for even h and w
  const bytes = buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1, 'h', 'w'] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: [
      {
        op: 'MaxPool',
        inputs: ['x'],
        outputs: ['p'],
        attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
      { op: 'Resize', inputs: ['p', '', 'by2'], outputs: ['up'], attrs: { mode: { s: 'nearest' } } },
      { op: 'Add', inputs: ['x', 'up'], outputs: ['y'] },
    ],
    initializers: [
      { name: 'by2', tensor: { dtype: 'float32', dims: [4], data: Float32Array.from([1, 1, 2, 2]) } },
    ],
  });
  let stepped: Model;
  let steppedApp: ReturnType<typeof createApp>;
  beforeAll(async () => {
    const even = { min: 2, max: 16, step: 2 };
    stepped = await loadModel(await compileModel(bytes, { dims: { h: even, w: even }, relaxed: false }), {
      backend: 'wasm',
    });
    steppedApp = createApp({ models: [{ name: 'stepped', model: stepped }], log: false });
  });
  afterAll(() => stepped.dispose());
  const infer = (h: number, w: number) =>
    postJson(steppedApp, '/v2/models/stepped/infer', {
      inputs: [{ name: 'x', shape: [1, 1, h, w], datatype: 'FP32', data: rows(1).slice(0, h * w) }],
    });

  it('reports the stepped dims as -1 and answers a size on the step', async () => {
    const meta = await (await steppedApp.request('/v2/models/stepped')).json();
    expect(meta.inputs[0].shape).toEqual([1, 1, -1, -1]);
    const response = await infer(4, 6);
    expect(response.status).toBe(200);
    expect((await response.json()).outputs[0].shape).toEqual([1, 1, 4, 6]);
  });

  it('refuses a size off the step with 400 naming input, axis and bounds, then answers the next request', async () => {
    const response = await infer(4, 5);
    expect(response.status).toBe(400);
    expect((await response.json()).error).toContain(
      'input "x" axis 3 is 5, not a multiple of 2 as "w" must be (2..16:2)',
    );
    expect((await infer(8, 2)).status).toBe(200);
  });
});
