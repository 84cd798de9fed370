/** /metrics counters and histograms, request ids and the per-request log. */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import type { RequestLog } from '../../src/serve/log.js';
import type { Model } from '../../src/runtime/index.js';
import { compileMlp, type CompiledBundle } from './fixture.js';
import { postJson } from './requests.js';

let mlp: CompiledBundle;
beforeAll(async () => {
  mlp = await compileMlp();
});
afterAll(() => mlp?.cleanup());

const good = { inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: new Array(64).fill(0.5) }] };
const bad = { inputs: [{ name: 'x', shape: [1, 63], datatype: 'FP32', data: new Array(63).fill(0.5) }] };

/** The value of one sample line, e.g. `kiln_inference_requests_total{model="mlp",version=""}`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no sample ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('counts requests and failures per model, with a latency histogram', async () => {
    const app = createApp({
      models: [
        { name: 'mlp', model: mlp.model },
        { name: 'other', version: '3', model: mlp.model },
      ],
      log: false,
    });
    const scrape = async () => {
      const response = await app.request('/metrics');
      expect(response.status).toBe(200);
      expect(response.headers.get('Content-Type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return response.text();
    };
    const mlpLabels = 'model="mlp",version=""';
    const before = await scrape();
    expect(sample(before, `kiln_inference_requests_total{${mlpLabels}}`)).toBe(0);
    expect(sample(before, 'kiln_inference_requests_total{model="other",version="3"}')).toBe(0);
    expect(before).toContain('# TYPE kiln_request_duration_seconds histogram');
    expect(before).toContain('# TYPE kiln_inference_duration_seconds histogram');

    await postJson(app, '/v2/models/mlp/infer', good);
    await postJson(app, '/v2/models/mlp/infer', good);
    await postJson(app, '/v2/models/mlp/infer', bad);
    await postJson(app, '/v2/models/nope/infer', good);

    const after = await scrape();
    expect(sample(after, `kiln_inference_requests_total{${mlpLabels}}`)).toBe(3);
    expect(sample(after, `kiln_inference_failures_total{${mlpLabels}}`)).toBe(1);
    expect(sample(after, `kiln_request_duration_seconds_count{${mlpLabels}}`)).toBe(3);
    expect(sample(after, `kiln_request_duration_seconds_bucket{${mlpLabels},le="+Inf"}`)).toBe(3);
    expect(sample(after, `kiln_request_duration_seconds_sum{${mlpLabels}}`)).toBeGreaterThan(0);
    // the bad request never ran the model
    expect(sample(after, `kiln_inference_duration_seconds_count{${mlpLabels}}`)).toBe(2);
    expect(sample(after, 'kiln_inference_requests_total{model="other",version="3"}')).toBe(0);
    // buckets are cumulative: never decreasing, ending at the count
    const buckets = after
      .split('\n')
      .filter((l) => l.startsWith(`kiln_request_duration_seconds_bucket{${mlpLabels},`))
      .map((l) => Number(l.split(' ')[1]));
    expect(buckets.length).toBeGreaterThan(5);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(after).not.toContain('nope');
  });
});

describe('request and model-run durations', () => {
  afterEach(() => vi.useRealTimers());

  it('a slow upload counts in the request duration, not in the inference duration', async () => {
    // the clock moves only when the test moves it: 3 s while the body uploads, 0.25 s in the model run
    vi.useFakeTimers({ toFake: ['performance'] });
    const timed: Model = {
      ...mlp.model,
      run: (feeds) => {
        vi.advanceTimersByTime(250);
        return mlp.model.run(feeds);
      },
    };
    const app = createApp({ models: [{ name: 'mlp', model: timed }], log: false });
    const bytes = new TextEncoder().encode(JSON.stringify(good));
    let sent = 0;
    // pulled only when the server reads (no high-water mark to fill ahead)
    const slowUpload = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (sent >= bytes.length) return controller.close();
          vi.advanceTimersByTime(1000);
          controller.enqueue(bytes.subarray(sent, (sent += Math.ceil(bytes.length / 3))));
        },
      },
      { highWaterMark: 0 },
    );
    const response = await app.request(
      new Request('http://localhost/v2/models/mlp/infer', {
        method: 'POST',
        body: slowUpload,
        duplex: 'half',
      } as RequestInit),
    );
    expect(response.status).toBe(200);
    const metrics = await (await app.request('/metrics')).text();
    const labels = 'model="mlp",version=""';
    expect(sample(metrics, `kiln_inference_duration_seconds_count{${labels}}`)).toBe(1);
    expect(sample(metrics, `kiln_inference_duration_seconds_sum{${labels}}`)).toBe(0.25);
    expect(sample(metrics, `kiln_request_duration_seconds_count{${labels}}`)).toBe(1);
    expect(sample(metrics, `kiln_request_duration_seconds_sum{${labels}}`)).toBe(3.25);
  });
});

describe('request ids and logs', () => {
  it('echoes a given X-Request-Id, generates one otherwise, and uses it as the response id', async () => {
    const app = createApp({ models: [{ name: 'mlp', model: mlp.model }], log: false });
    const echoed = await postJson(app, '/v2/models/mlp/infer', good, { 'X-Request-Id': 'abc-123' });
    expect(echoed.headers.get('X-Request-Id')).toBe('abc-123');
    expect((await echoed.json()).id).toBe('abc-123');
    const generated = await app.request('/v2/health/live');
    expect(generated.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await app.request('/v2/health/live', { headers: { 'X-Request-Id': 'a b\u0001' } });
    expect(unsafe.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
    const withBodyId = await postJson(
      app,
      '/v2/models/mlp/infer',
      { ...good, id: 'mine' },
      { 'X-Request-Id': 'x' },
    );
    expect((await withBodyId.json()).id).toBe('mine');
  });

  it('logs one structured entry per request, with the model and the error', async () => {
    const entries: RequestLog[] = [];
    const app = createApp({
      models: [{ name: 'mlp', version: '2', model: mlp.model }],
      log: (e) => entries.push(e),
    });
    await postJson(app, '/v2/models/mlp/infer', good, { 'X-Request-Id': 'r1' });
    await postJson(app, '/v2/models/mlp/infer', bad, { 'X-Request-Id': 'r2' });
    await app.request('/v2/health/live', { headers: { 'X-Request-Id': 'r3' } });
    expect(
      entries.map(({ request_id, method, path, status, model, model_version }) => ({
        request_id,
        method,
        path,
        status,
        model,
        model_version,
      })),
    ).toEqual([
      {
        request_id: 'r1',
        method: 'POST',
        path: '/v2/models/mlp/infer',
        status: 200,
        model: 'mlp',
        model_version: '2',
      },
      {
        request_id: 'r2',
        method: 'POST',
        path: '/v2/models/mlp/infer',
        status: 400,
        model: 'mlp',
        model_version: '2',
      },
      {
        request_id: 'r3',
        method: 'GET',
        path: '/v2/health/live',
        status: 200,
        model: undefined,
        model_version: undefined,
      },
    ]);
    expect(entries[1].error).toMatch(/shape \[1,63\] but the model expects \[1,64\]/);
    expect(entries[0].error).toBeUndefined();
    for (const e of entries) {
      expect(e.duration_ms).toBeGreaterThanOrEqual(0);
      expect(Date.parse(e.time)).not.toBeNaN();
    }
  });
});
