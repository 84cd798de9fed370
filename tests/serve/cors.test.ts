/** The CORS option: off by default; when on, preflights pass without auth and every answer carries it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import { compileMlp, type CompiledBundle } from './fixture.js';
import { postJson } from './requests.js';

let mlp: CompiledBundle;
beforeAll(async () => {
  mlp = await compileMlp();
});
afterAll(() => mlp?.cleanup());

const good = { inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: new Array(64).fill(0.5) }] };
const ORIGIN = 'https://app.example';
const preflight = {
  method: 'OPTIONS',
  headers: {
    Origin: ORIGIN,
    'Access-Control-Request-Method': 'POST',
    'Access-Control-Request-Headers': 'authorization, content-type',
  },
};

describe('CORS', () => {
  it('is off by default', async () => {
    const app = createApp({ models: [{ name: 'mlp', model: mlp.model }], log: false });
    const response = await postJson(app, '/v2/models/mlp/infer', good, { Origin: ORIGIN });
    expect(response.status).toBe(200);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBeNull();
    expect(
      (await app.request('/v2/models/mlp/infer', preflight)).headers.get('Access-Control-Allow-Origin'),
    ).toBeNull();
  });

  it('answers preflights without auth and marks answers and errors for an allowed origin only', async () => {
    const app = createApp({
      models: [{ name: 'mlp', model: mlp.model }],
      log: false,
      apiKey: 'k',
      cors: ORIGIN,
    });
    const pre = await app.request('/v2/models/mlp/infer', preflight);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
    expect(pre.headers.get('Access-Control-Allow-Methods')).toContain('POST');
    expect(pre.headers.get('Access-Control-Allow-Headers')).toBe('authorization,content-type');

    const ok = await postJson(app, '/v2/models/mlp/infer', good, {
      Origin: ORIGIN,
      Authorization: 'Bearer k',
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
    expect(ok.headers.get('Access-Control-Expose-Headers')).toContain('X-Request-Id');
    expect(ok.headers.get('Vary')).toContain('Origin');

    // a browser can read the error only if the error response carries the header too
    const unauthorized = await postJson(app, '/v2/models/mlp/infer', good, { Origin: ORIGIN });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);

    const other = await postJson(app, '/v2/models/mlp/infer', good, {
      Origin: 'https://evil.example',
      Authorization: 'Bearer k',
    });
    expect(other.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('allows any origin with "*" given alone or in a list', async () => {
    for (const cors of ['*', ['https://a.example', '*']]) {
      const app = createApp({ models: [{ name: 'mlp', model: mlp.model }], log: false, cors });
      const response = await app.request('/v2/health/live', { headers: { Origin: 'https://any.example' } });
      expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
    }
  });
});
