/** Every bad request answers the right status with {"error": ...} saying what was wrong, and leaves the model serving. */
import type { ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { buildFixtureBundle } from '../runtime/fixture.js';
import { compileMlp, protocolValidators, schemaErrors, type CompiledBundle } from './fixture.js';
import { binaryBody, postBinary, postJson } from './requests.js';

let mlp: CompiledBundle;
let schemas: Record<string, ValidateFunction>;
let app: ReturnType<typeof createApp>;

const X = Array.from({ length: 64 }, (_, i) => i / 64);
const input = (extra: object = {}) => ({ name: 'x', shape: [1, 64], datatype: 'FP32', data: X, ...extra });
const binaryInput = { name: 'x', shape: [1, 64], datatype: 'FP32', parameters: { binary_data_size: 256 } };
const INFER = '/v2/models/mlp/infer';

beforeAll(async () => {
  [mlp, schemas] = await Promise.all([compileMlp(), protocolValidators()]);
  app = createApp({
    models: [{ name: 'mlp', version: '1', model: mlp.model }],
    log: false,
    maxBodyBytes: 4096,
  });
});
afterAll(() => mlp?.cleanup());

async function expectError(response: Response, status: number, message: RegExp) {
  const body = await response.json();
  expect(response.status, JSON.stringify(body)).toBe(status);
  expect(schemaErrors(schemas.inference_error_response, body)).toBe('');
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatch(message);
}

async function expectServing() {
  const response = await postJson(app, INFER, { inputs: [input()] });
  expect(response.status).toBe(200);
  const expected = await mlp.model.run({
    x: { dtype: 'float32', dims: [1, 64], data: Float32Array.from(X) },
  });
  expect((await response.json()).outputs[0].data).toEqual(Array.from(expected.probs.data as Float32Array));
}

const jsonCases: [string, unknown, RegExp][] = [
  ['malformed JSON', '{"inputs": [', /request body is not valid JSON/],
  ['a JSON array', '[1, 2]', /must be a JSON object, got an array/],
  ['no inputs', {}, /"inputs" must be an array of tensors, got a undefined/],
  ['a non-string id', { id: 7, inputs: [input()] }, /"id" must be a string/],
  ['a missing input', { inputs: [] }, /input "x" is missing \(expected x \(FP32\[1,64\]\)\)/],
  [
    'an extra input',
    { inputs: [input(), input({ name: 'y' })] },
    /model "mlp" has no input "y" \(its inputs: x \(FP32\[1,64\]\)\)/,
  ],
  ['a misnamed input', { inputs: [input({ name: 'X' })] }, /has no input "X"/],
  ['an input given twice', { inputs: [input(), input()] }, /input "x" is given twice/],
  [
    'a wrong shape',
    { inputs: [input({ shape: [64] })] },
    /input "x" has shape \[64\] but the model expects \[1,64\]/,
  ],
  [
    'a bad shape',
    { inputs: [input({ shape: [1, -64] })] },
    /"shape" must be an array of non-negative integers/,
  ],
  [
    'a wrong datatype',
    { inputs: [input({ datatype: 'FP64' })] },
    /input "x" has datatype FP64 but the model expects FP32/,
  ],
  [
    'an unknown datatype',
    { inputs: [input({ datatype: 'FLOAT' })] },
    /"datatype" must be one of BOOL, .*, got "FLOAT"/,
  ],
  [
    'BYTES',
    { inputs: [input({ datatype: 'BYTES' })] },
    /BYTES tensors are not supported \(the model expects FP32\)/,
  ],
  [
    'too few elements',
    { inputs: [input({ data: X.slice(1) })] },
    /input "x" has 63 elements but shape \[1,64\] needs 64/,
  ],
  ['no data', { inputs: [input({ data: undefined })] }, /input "x" has no "data"/],
  ['data not an array', { inputs: [input({ data: 3 })] }, /"data" must be an array, got a number/],
  [
    'a string element',
    { inputs: [input({ data: [...X.slice(0, 5), 'abc', ...X.slice(6)] })] },
    /element 5 is "abc", expected a number/,
  ],
  [
    'an unknown output',
    { inputs: [input()], outputs: [{ name: 'nope' }] },
    /has no output "nope" \(its outputs: probs \(FP32\[1,10\]\)\)/,
  ],
  [
    'an output twice',
    { inputs: [input()], outputs: [{ name: 'probs' }, { name: 'probs' }] },
    /output "probs" is requested twice/,
  ],
  [
    'a non-boolean binary_data',
    { inputs: [input()], outputs: [{ name: 'probs', parameters: { binary_data: 1 } }] },
    /binary_data must be true or false/,
  ],
  [
    'binary_data_size without a binary section',
    { inputs: [binaryInput] },
    /binary_data_size 256 but only 0 bytes follow/,
  ],
  [
    'both data and binary_data_size',
    { inputs: [{ ...binaryInput, data: X }] },
    /has both "data" and binary_data_size/,
  ],
];

describe('bad requests: 400', () => {
  it.each(jsonCases)('%s', async (_, body, message) => {
    await expectError(await postJson(app, INFER, body), 400, message);
    await expectServing();
  });

  const binaryCases: [string, object, ArrayBufferView[], RegExp][] = [
    [
      'binary_data_size that disagrees with the shape',
      { inputs: [{ ...binaryInput, parameters: { binary_data_size: 252 } }] },
      [new Float32Array(63)],
      /binary_data_size 252 but FP32\[1,64\] is 256 bytes/,
    ],
    [
      'fewer bytes than binary_data_size',
      { inputs: [binaryInput] },
      [new Float32Array(60)],
      /only 240 bytes follow/,
    ],
    [
      'bytes after the last input',
      { inputs: [binaryInput] },
      [new Float32Array(65)],
      /binary section has 260 bytes but the inputs' binary_data_size add up to 256/,
    ],
    [
      'a negative binary_data_size',
      { inputs: [{ ...binaryInput, parameters: { binary_data_size: -1 } }] },
      [],
      /binary_data_size must be a non-negative integer/,
    ],
  ];
  it.each(binaryCases)('binary: %s', async (_, header, parts, message) => {
    await expectError(await postBinary(app, INFER, header, parts), 400, message);
    await expectServing();
  });

  it.each([
    [
      'longer than the body',
      (n: number) => String(n + 1000),
      /Inference-Header-Content-Length is "\d+" but must be a whole number of bytes no larger than the body/,
    ],
    ['not a number', () => 'lots', /Inference-Header-Content-Length is "lots"/],
    [
      'cutting the JSON short',
      (n: number) => String(n - 2),
      /the first \d+ bytes, per Inference-Header-Content-Length\) is not valid JSON/,
    ],
  ])('binary: an Inference-Header-Content-Length %s', async (_, length, message) => {
    const { body, headerLength } = binaryBody({ inputs: [binaryInput] }, [new Float32Array(64)]);
    const response = await app.request(INFER, {
      method: 'POST',
      body,
      headers: { 'Inference-Header-Content-Length': length(headerLength) },
    });
    await expectError(response, 400, message);
    await expectServing();
  });

  it("the runtime's own refusals map to 400", async () => {
    const refusing: Model = {
      ...mlp.model,
      run: () => Promise.reject(new Error('model "mlp": input "x" is odd')),
    };
    const strict = createApp({ models: [{ name: 'mlp', model: refusing }], log: false });
    await expectError(
      await postJson(strict, INFER, { inputs: [input()] }),
      400,
      /^model "mlp": input "x" is odd$/,
    );
  });
});

describe('unknown models and endpoints: 404', () => {
  it.each([
    ['GET', '/v2/models/nope', /unknown model "nope" \(served models: "mlp"\)/],
    ['GET', '/v2/models/nope/ready', /unknown model "nope"/],
    ['POST', '/v2/models/nope/infer', /unknown model "nope"/],
    ['GET', '/v2/models/mlp/versions/7', /model "mlp" has no version "7" \(versions: 1\)/],
    ['POST', '/v2/models/mlp/versions/7/infer', /model "mlp" has no version "7"/],
    ['GET', '/v3/health', /no endpoint GET \/v3\/health/],
  ])('%s %s', async (method, path, message) => {
    const response = await app.request(path, {
      method,
      body: method === 'POST' ? JSON.stringify({ inputs: [input()] }) : undefined,
    });
    await expectError(response, 404, message);
  });
});

describe('bodies over the limit: 413', () => {
  const big = JSON.stringify({ inputs: [input({ data: new Array(1000).fill(0.123456789) })] });

  it('a declared Content-Length over the limit is refused before reading', async () => {
    const response = await app.request(INFER, {
      method: 'POST',
      body: big,
      headers: { 'Content-Length': String(big.length) },
    });
    await expectError(response, 413, /request body \(\d+ bytes\) exceeds the limit of 4096 bytes/);
    await expectServing();
  });

  it('a streamed body without Content-Length is cut off at the limit', async () => {
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 1000) controller.enqueue(bytes.slice(at, at + 1000));
        controller.close();
      },
    });
    const request = new Request(`http://localhost${INFER}`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(request.headers.get('Content-Length')).toBeNull();
    await expectError(await app.request(request), 413, /request body exceeds the limit of 4096 bytes/);
    await expectServing();
  });

  it('a body exactly at the limit is read; one byte less is refused', async () => {
    const header = { inputs: [binaryInput] };
    const parts = [new Float32Array(64)];
    const size = binaryBody(header, parts).body.byteLength;
    const atLimit = createApp({
      models: [{ name: 'mlp', model: mlp.model }],
      log: false,
      maxBodyBytes: size,
    });
    expect((await postBinary(atLimit, INFER, header, parts)).status).toBe(200);
    const under = createApp({
      models: [{ name: 'mlp', model: mlp.model }],
      log: false,
      maxBodyBytes: size - 1,
    });
    await expectError(await postBinary(under, INFER, header, parts), 413, /exceeds the limit of \d+ bytes/);
  });
});

describe('a trap inside the model: 500, and the model keeps serving', () => {
  it('answers 500 and then serves the next request', async () => {
    const fixture = await loadModel(await buildFixtureBundle());
    const trapApp = createApp({ models: [{ name: 'fixture', model: fixture }], log: false });
    const request = (i: number) => ({
      inputs: [
        { name: 'x', shape: [2, 3], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] },
        { name: 'i', shape: [1], datatype: 'INT32', data: [i] },
      ],
    });
    await expectError(
      await postJson(trapApp, '/v2/models/fixture/infer', request(100_000_000)),
      500,
      /inference failed: model "fixture": run\(\) trapped/,
    );
    const ok = await postJson(trapApp, '/v2/models/fixture/infer', request(2));
    expect(ok.status).toBe(200);
    const outputs = (await ok.json()).outputs;
    expect(outputs.map((o: { name: string; data: number[] }) => [o.name, o.data])).toEqual([
      ['out/y', [2, 5, 10, 17, 26, 37]],
      ['picked', [3]],
    ]);
  });
});

describe('bearer-token auth: 401', () => {
  let secured: ReturnType<typeof createApp>;
  beforeAll(() => {
    secured = createApp({ models: [{ name: 'mlp', model: mlp.model }], log: false, apiKey: 's3cret' });
  });

  it.each([
    ['no Authorization header', undefined, /missing Authorization header/],
    ['a wrong key', 'Bearer nope', /wrong API key/],
    ['a key that only starts right', 'Bearer s3cret!', /wrong API key/],
    ['another scheme', 'Basic czNjcmV0', /must be "Bearer <API key>"/],
  ])('%s', async (_, authorization, message) => {
    const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
    for (const [method, path] of [
      ['POST', INFER],
      ['GET', '/v2'],
      ['GET', '/v2/models/mlp'],
      ['GET', '/metrics'],
    ]) {
      const body = method === 'POST' ? JSON.stringify({ inputs: [input()] }) : undefined;
      const response = await secured.request(path, { method, body, headers });
      expect(response.headers.get('WWW-Authenticate')).toBe('Bearer');
      await expectError(response, 401, message);
    }
  });

  it('the right key is served; health stays open without one', async () => {
    const ok = await postJson(secured, INFER, { inputs: [input()] }, { Authorization: 'Bearer s3cret' });
    expect(ok.status).toBe(200);
    expect((await secured.request('/v2/health/live')).status).toBe(200);
    expect((await secured.request('/v2/health/ready')).status).toBe(200);
  });
});

describe('not ready: 503', () => {
  it('ready endpoints and infer answer 503 with the reason; live stays 200', async () => {
    let reason: string | undefined = 'shutting down';
    const draining = createApp({
      models: [{ name: 'mlp', model: mlp.model }],
      log: false,
      notReady: () => reason,
    });
    expect((await draining.request('/v2/health/live')).status).toBe(200);
    await expectError(await draining.request('/v2/health/ready'), 503, /^not ready: shutting down$/);
    await expectError(await draining.request('/v2/models/mlp/ready'), 503, /not ready: shutting down/);
    await expectError(await postJson(draining, INFER, { inputs: [input()] }), 503, /not ready/);
    reason = undefined;
    expect((await postJson(draining, INFER, { inputs: [input()] })).status).toBe(200);
  });
});
