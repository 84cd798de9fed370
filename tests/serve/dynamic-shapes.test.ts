/** Serving a bundle with a dim known only at run time (#11): metadata shows -1, /infer takes any in-bounds shape. */
import type { ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import type { Model } from '../../src/runtime/index.js';
import { compileMlpBatches, protocolValidators, schemaErrors, type CompiledBundle } from './fixture.js';
import { postJson } from './requests.js';

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
