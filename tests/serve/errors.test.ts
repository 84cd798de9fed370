/**
 * Bad requests only the in-process app can stage (streamed bodies, exact limits, a trapping model,
 * a draining server); the bad inputs every runtime must refuse are the shared contract (contract.ts).
 */
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

describe('bad requests: 400', () => {
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
