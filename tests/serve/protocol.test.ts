/** The Open Inference Protocol endpoints, in-process, on real compiled bundles; responses checked against the published schema. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import type { Tensor } from '../../src/runtime/index.js';
import { floatToHalf, halfToFloat } from '../../src/ir/float16.js';
import {
  compileDtypes,
  compileMlp,
  protocolValidators,
  ROOT,
  schemaErrors,
  type CompiledBundle,
} from './fixture.js';
import { postBinary, postJson, readBinaryResponse } from './requests.js';

let mlp: CompiledBundle;
let dtypes: CompiledBundle;
let schemas: Record<string, ValidateFunction>;
let app: ReturnType<typeof createApp>;

const X = Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.37) * 2);
const xFeed = () => ({ x: { dtype: 'float32' as const, dims: [1, 64], data: Float32Array.from(X) } });
const mlpRequest = (extra: object = {}) => ({
  inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: X }],
  ...extra,
});
const numbers = (t: Tensor) => Array.from(t.data as ArrayLike<number | bigint>, Number);

beforeAll(async () => {
  [mlp, dtypes, schemas] = await Promise.all([compileMlp(), compileDtypes(), protocolValidators()]);
  app = createApp({
    models: [
      { name: 'mlp', model: mlp.model },
      { name: 'dtypes', model: dtypes.model },
    ],
    log: false,
  });
});
afterAll(async () => {
  await Promise.all([mlp?.cleanup(), dtypes?.cleanup()]);
});

describe('health and metadata', () => {
  it('live and ready answer 200', async () => {
    for (const path of ['/v2/health/live', '/v2/health/ready']) {
      const response = await app.request(path);
      expect(response.status, path).toBe(200);
    }
  });

  it('server metadata names kiln, its version and the binary extension', async () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    for (const path of ['/v2', '/v2/']) {
      const response = await app.request(path);
      const body = await response.json();
      expect(schemaErrors(schemas.metadata_server_response, body)).toBe('');
      expect(body).toEqual({ name: 'kiln', version, extensions: ['binary_tensor_data'] });
    }
  });

  it('model metadata lists the signature with protocol datatypes', async () => {
    const body = await (await app.request('/v2/models/mlp')).json();
    expect(schemaErrors(schemas.metadata_model_response, body)).toBe('');
    expect(body).toEqual({
      name: 'mlp',
      versions: [],
      platform: 'kiln-wasm',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 64] }],
      outputs: [{ name: 'probs', datatype: 'FP32', shape: [1, 10] }],
    });
    const types = await (await app.request('/v2/models/dtypes')).json();
    expect(types.inputs.map((t: { datatype: string }) => t.datatype)).toEqual([
      'BOOL',
      'UINT8',
      'INT8',
      'INT64',
      'FP16',
      'FP64',
    ]);
  });

  it('model ready answers 200', async () => {
    const response = await app.request('/v2/models/mlp/ready');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: 'mlp', ready: true });
  });

  it('serves several versions of a name; without a version, the highest', async () => {
    const versioned = createApp({
      models: [
        { name: 'mlp', version: '2', model: mlp.model },
        { name: 'mlp', version: '10', model: mlp.model },
      ],
      log: false,
    });
    const meta = await (await versioned.request('/v2/models/mlp/versions/2')).json();
    expect(schemaErrors(schemas.metadata_model_response, meta)).toBe('');
    expect(meta.versions).toEqual(['2', '10']);
    expect((await versioned.request('/v2/models/mlp/versions/10/ready')).status).toBe(200);
    const byVersion = await (
      await postJson(versioned, '/v2/models/mlp/versions/2/infer', mlpRequest())
    ).json();
    expect(byVersion.model_version).toBe('2');
    const latest = await (await postJson(versioned, '/v2/models/mlp/infer', mlpRequest())).json();
    expect(latest.model_version).toBe('10');
  });

  it('refuses to register one name and version twice', () => {
    expect(() =>
      createApp({
        models: [
          { name: 'm', model: mlp.model },
          { name: 'm', model: mlp.model },
        ],
      }),
    ).toThrow(/model "m" is registered twice/);
  });
});

describe('infer with JSON tensors', () => {
  it('returns exactly what the runtime computes, with the request id', async () => {
    const expected = await mlp.model.run(xFeed());
    const response = await postJson(app, '/v2/models/mlp/infer', mlpRequest({ id: 'req-7' }));
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(schemaErrors(schemas.inference_response, body)).toBe('');
    expect(body).toEqual({
      model_name: 'mlp',
      id: 'req-7',
      outputs: [{ name: 'probs', shape: [1, 10], datatype: 'FP32', data: numbers(expected.probs) }],
    });
  });

  it('takes nested data in row-major order', async () => {
    const expected = await mlp.model.run(xFeed());
    const nested = {
      inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: [X.slice(0, 32), [X.slice(32)]] }],
    };
    const body = await (await postJson(app, '/v2/models/mlp/infer', nested)).json();
    expect(body.outputs[0].data).toEqual(numbers(expected.probs));
  });

  it('round-trips every served datatype through a real model', async () => {
    const request = {
      inputs: [
        {
          name: 'flags',
          shape: [2, 2],
          datatype: 'BOOL',
          data: [
            [true, false],
            [false, true],
          ],
        },
        { name: 'bytes', shape: [3], datatype: 'UINT8', data: [1, 100, 200] },
        { name: 'small', shape: [2], datatype: 'INT8', data: [-128, 7] },
        { name: 'big', shape: [2], datatype: 'INT64', data: [2 ** 40, -3] },
        { name: 'half', shape: [2], datatype: 'FP16', data: [1.5, 0.1] },
        { name: 'wide', shape: [2], datatype: 'FP64', data: [1e-200, 3] },
      ],
    };
    const response = await postJson(app, '/v2/models/dtypes/infer', request);
    const body = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(schemaErrors(schemas.inference_response, body)).toBe('');
    const data = Object.fromEntries(
      body.outputs.map((o: { name: string; data: unknown[] }) => [o.name, o.data]),
    );
    expect(data).toEqual({
      not_flags: [false, true, true, false],
      bytes2: [2, 200, 144],
      neg_small: [-128, -7],
      neg_big: [-(2 ** 40), 3],
      half2: [3, halfToFloat(floatToHalf(0.1) + 0x400)],
      wide_sq: [0, 9],
    });
    expect(body.outputs.find((o: { name: string }) => o.name === 'half2').datatype).toBe('FP16');
  });

  it('returns only the requested outputs, in the requested order', async () => {
    const request = {
      inputs: [
        { name: 'flags', shape: [2, 2], datatype: 'BOOL', data: [true, true, true, true] },
        { name: 'bytes', shape: [3], datatype: 'UINT8', data: [1, 2, 3] },
        { name: 'small', shape: [2], datatype: 'INT8', data: [1, 2] },
        { name: 'big', shape: [2], datatype: 'INT64', data: [1, 2] },
        { name: 'half', shape: [2], datatype: 'FP16', data: [1, 2] },
        { name: 'wide', shape: [2], datatype: 'FP64', data: [1, 2] },
      ],
      outputs: [{ name: 'wide_sq' }, { name: 'neg_small' }],
    };
    const body = await (await postJson(app, '/v2/models/dtypes/infer', request)).json();
    expect(body.outputs.map((o: { name: string; data: unknown[] }) => [o.name, o.data])).toEqual([
      ['wide_sq', [1, 4]],
      ['neg_small', [-1, -2]],
    ]);
  });
});

describe('infer with the binary tensor extension', () => {
  it('binary inputs and outputs carry exactly the runtime bytes', async () => {
    const expected = await mlp.model.run(xFeed());
    const header = {
      inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', parameters: { binary_data_size: 256 } }],
      outputs: [{ name: 'probs', parameters: { binary_data: true } }],
    };
    const response = await postBinary(app, '/v2/models/mlp/infer', header, [Float32Array.from(X)]);
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('application/octet-stream');
    const { header: out, binary } = await readBinaryResponse(response);
    expect(schemaErrors(schemas.binary_inference_response, out)).toBe('');
    expect(out.outputs).toEqual([
      { name: 'probs', shape: [1, 10], datatype: 'FP32', parameters: { binary_data_size: 40 } },
    ]);
    expect(Array.from(new Float32Array(binary.probs.buffer))).toEqual(numbers(expected.probs));
  });

  it('binary_data_output applies to every output unless one says otherwise', async () => {
    const header = {
      parameters: { binary_data_output: true },
      inputs: [
        { name: 'flags', shape: [2, 2], datatype: 'BOOL', parameters: { binary_data_size: 4 } },
        { name: 'bytes', shape: [3], datatype: 'UINT8', data: [5, 6, 7] },
        { name: 'small', shape: [2], datatype: 'INT8', parameters: { binary_data_size: 2 } },
        { name: 'big', shape: [2], datatype: 'INT64', parameters: { binary_data_size: 16 } },
        { name: 'half', shape: [2], datatype: 'FP16', parameters: { binary_data_size: 4 } },
        { name: 'wide', shape: [2], datatype: 'FP64', parameters: { binary_data_size: 16 } },
      ],
      outputs: [
        { name: 'not_flags' },
        { name: 'bytes2', parameters: { binary_data: false } },
        { name: 'neg_small' },
        { name: 'neg_big' },
        { name: 'half2' },
        { name: 'wide_sq' },
      ],
    };
    const big = BigInt64Array.of(2n ** 60n + 1n, -5n);
    const half = Uint16Array.of(floatToHalf(0.5), floatToHalf(-2));
    const parts = [Uint8Array.of(1, 0, 0, 1), Int8Array.of(3, -4), big, half, Float64Array.of(0.5, -3)];
    const response = await postBinary(app, '/v2/models/dtypes/infer', header, parts);
    expect(response.status).toBe(200);
    const { header: out, binary } = await readBinaryResponse(response);
    expect(schemaErrors(schemas.binary_inference_response, out)).toBe('');
    expect(out.outputs.find((o) => o.name === 'bytes2')?.data).toEqual([10, 12, 14]);
    expect(Array.from(binary.not_flags)).toEqual([0, 1, 1, 0]);
    expect(Array.from(new Int8Array(binary.neg_small.buffer))).toEqual([-3, 4]);
    // beyond 2^53: only the binary extension carries such int64 values exactly
    expect(Array.from(new BigInt64Array(binary.neg_big.buffer))).toEqual([-(2n ** 60n) - 1n, 5n]);
    expect(Array.from(new Uint16Array(binary.half2.buffer), halfToFloat)).toEqual([1, -4]);
    expect(Array.from(new Float64Array(binary.wide_sq.buffer))).toEqual([0.25, 9]);
  });

  it('binary inputs with JSON outputs', async () => {
    const expected = await mlp.model.run(xFeed());
    const header = {
      inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', parameters: { binary_data_size: 256 } }],
    };
    const response = await postBinary(app, '/v2/models/mlp/infer', header, [Float32Array.from(X)]);
    const body = await response.json();
    expect(schemaErrors(schemas.inference_response, body)).toBe('');
    expect(body.outputs[0].data).toEqual(numbers(expected.probs));
  });
});
