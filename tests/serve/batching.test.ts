/**
 * Dynamic batching through the app: requests of different row counts share one run of a model compiled
 * at the max batch, and each gets exactly the rows it would get alone — checked against the same bundle
 * run directly on a zero-padded batch, and against a batch-1 compile of the same ONNX model.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { createApp, type AppOptions } from '../../src/serve/app.js';
import { buildModel } from '../helpers/onnx-builder.js';
import { compileMlp, compileMlpBatches, gatedModel, type CompiledBundle } from './fixture.js';
import { binaryBody, postJson } from './requests.js';

const MAX_BATCH = 8;
let mlp8: CompiledBundle;
let mlp1: CompiledBundle;
/** two inputs and two outputs of different datatypes, all leading with the batch */
let pair: Model;

beforeAll(async () => {
  [mlp8, mlp1] = await Promise.all([compileMlp(MAX_BATCH), compileMlp()]);
  pair = await loadModel(
    await compileModel(
      buildModel({
        name: 'pair',
        inputs: [
          { name: 'a', dtype: 'float32', shape: [MAX_BATCH, 4] },
          { name: 'b', dtype: 'int32', shape: [MAX_BATCH, 3] },
        ],
        outputs: [
          { name: 'a_sq', dtype: 'float32', shape: [MAX_BATCH, 4] },
          { name: 'neg_b', dtype: 'int32', shape: [MAX_BATCH, 3] },
        ],
        nodes: [
          { op: 'Mul', inputs: ['a', 'a'], outputs: ['a_sq'] },
          { op: 'Neg', inputs: ['b'], outputs: ['neg_b'] },
        ],
      }),
      { name: 'pair' },
    ),
  );
});
afterAll(async () => {
  await mlp8?.cleanup();
  await mlp1?.cleanup();
});
afterEach(() => vi.useRealTimers());

/** Distinct rows per request, so rows handed to the wrong request cannot pass. */
const rowsOf = (request: number, rows: number) =>
  Float32Array.from({ length: rows * 64 }, (_, k) => Math.sin(request * 1.7 + k * 0.31));
const inferBody = (data: Float32Array) => ({
  inputs: [{ name: 'x', shape: [data.length / 64, 64], datatype: 'FP32', data: Array.from(data) }],
});

/** Counts the model's runs, so a test can see whether a batch has run yet. */
function counted(model: Model): { model: Model; runs: () => number } {
  let runs = 0;
  return {
    model: { ...model, run: (feeds) => (runs++, model.run(feeds)) },
    runs: () => runs,
  };
}

function batchedApp(model: Model, delayMs: number, options: Partial<AppOptions> = {}) {
  return createApp({
    models: [{ name: model.name, model, batching: { maxBatch: MAX_BATCH, delayMs } }],
    log: false,
    ...options,
  });
}

/** The value of one sample line of a /metrics scrape. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no sample ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

/** The batch-8 bundle run directly on `data` at the top of an otherwise zero batch: the rows it gives. */
async function directPadded(data: Float32Array): Promise<Float32Array> {
  const padded = new Float32Array(MAX_BATCH * 64);
  padded.set(data);
  const { probs } = await mlp8.model.run({ x: { dtype: 'float32', dims: [MAX_BATCH, 64], data: padded } });
  return (probs.data as Float32Array).slice(0, (data.length / 64) * 10);
}

/** The batch-1 compile run once per row. */
async function rowByRow(data: Float32Array): Promise<Float32Array> {
  const out = new Float32Array((data.length / 64) * 10);
  for (let r = 0; r < data.length / 64; r++) {
    const row = data.slice(r * 64, (r + 1) * 64);
    const { probs } = await mlp1.model.run({ x: { dtype: 'float32', dims: [1, 64], data: row } });
    out.set(probs.data as Float32Array, r * 10);
  }
  return out;
}

describe('dynamic batching of a model whose batch is known only at run time', () => {
  let mlp: CompiledBundle;
  beforeAll(async () => {
    mlp = await compileMlpBatches(1, MAX_BATCH);
  });
  afterAll(() => mlp?.cleanup());

  it('concatenates concurrent requests of 2 and 3 rows into one run of 5 rows; each gets its own rows back', async () => {
    const batches: (readonly number[])[] = [];
    const model: Model = { ...mlp.model, run: (feeds) => (batches.push(feeds.x.dims), mlp.model.run(feeds)) };
    const app = batchedApp(model, 100);
    const metadata = await (await app.request('/v2/models/mlp')).json();
    expect(metadata.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 64] }]);
    const sizes = [2, 3];
    const inputs = sizes.map((rows, i) => rowsOf(i, rows));
    const responses = await Promise.all(
      inputs.map((data) => postJson(app, '/v2/models/mlp/infer', inferBody(data))),
    );
    expect(batches).toEqual([[5, 64]]);
    for (const [i, response] of responses.entries()) {
      expect(response.status).toBe(200);
      const [output] = (await response.json()).outputs;
      expect(output.shape).toEqual([sizes[i], 10]);
      const alone = await mlp.model.run({ x: { dtype: 'float32', dims: [sizes[i], 64], data: inputs[i] } });
      const want = alone.probs.data as Float32Array;
      output.data.forEach((x: number, k: number) => expect(x).toBeCloseTo(want[k], 6));
    }
    const metrics = await (await app.request('/metrics')).text();
    expect(sample(metrics, 'kiln_batch_size_sum{model="mlp",version=""}')).toBe(5);
  });

  it("refuses at start a max batch above the batch dim's bound", () => {
    expect(() =>
      createApp({ models: [{ name: 'mlp', model: mlp.model, batching: { maxBatch: 9 } }], log: false }),
    ).toThrow(
      'model "mlp": input "x" has shape [batch(1..8),64], whose batch "batch" takes at most 8 rows, fewer than the max batch 9; serve it with --max-batch 8 or less',
    );
  });
});

describe('dynamic batching', () => {
  it('advertises the batch dimension as -1 in model metadata', async () => {
    const app = batchedApp(pair, 2);
    const metadata = await (await app.request('/v2/models/pair')).json();
    expect(metadata.inputs).toEqual([
      { name: 'a', datatype: 'FP32', shape: [-1, 4] },
      { name: 'b', datatype: 'INT32', shape: [-1, 3] },
    ]);
    expect(metadata.outputs).toEqual([
      { name: 'a_sq', datatype: 'FP32', shape: [-1, 4] },
      { name: 'neg_b', datatype: 'INT32', shape: [-1, 3] },
    ]);
  });

  it('runs concurrent requests of 3, 1 and 4 rows as one batch; each gets exactly its own rows', async () => {
    const { model, runs } = counted(mlp8.model);
    // a delay no test waits out: only the rows filling the batch can start it
    const app = batchedApp(model, 600_000);
    const sizes = [3, 1, 4];
    const inputs = sizes.map((rows, i) => rowsOf(i, rows));
    const responses = await Promise.all(
      inputs.map((data) => postJson(app, '/v2/models/mlp/infer', inferBody(data))),
    );
    expect(runs()).toBe(1);
    for (const [i, response] of responses.entries()) {
      expect(response.status).toBe(200);
      const [output] = (await response.json()).outputs;
      expect(output.shape).toEqual([sizes[i], 10]);
      const got = Float32Array.from(output.data);
      expect(got).toEqual(await directPadded(inputs[i]));
      const alone = await rowByRow(inputs[i]);
      for (let k = 0; k < got.length; k++) expect(got[k]).toBeCloseTo(alone[k], 6);
    }
    const metrics = await (await app.request('/metrics')).text();
    const labels = 'model="mlp",version=""';
    expect(sample(metrics, `kiln_model_runs_total{${labels}}`)).toBe(1);
    expect(sample(metrics, `kiln_batch_size_count{${labels}}`)).toBe(1);
    expect(sample(metrics, `kiln_batch_size_sum{${labels}}`)).toBe(8);
    expect(sample(metrics, `kiln_batch_size_bucket{${labels},le="4"}`)).toBe(0);
    expect(sample(metrics, `kiln_batch_size_bucket{${labels},le="8"}`)).toBe(1);
    expect(sample(metrics, `kiln_inference_requests_total{${labels}}`)).toBe(3);
    expect(sample(metrics, `kiln_queue_seconds_count{${labels}}`)).toBe(3);
  });

  it('concatenates and splits every input and output, binary and JSON alike', async () => {
    const app = batchedApp(pair, 600_000);
    const a = [Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), Float32Array.from({ length: 24 }, (_, k) => k / 4)];
    const b = [Int32Array.of(1, -2, 3, 4, 5, 6), Int32Array.from({ length: 18 }, (_, k) => k * 1000 - 7)];
    const [binary, json] = await Promise.all([
      (() => {
        const { body, headerLength } = binaryBody(
          {
            inputs: [
              { name: 'a', shape: [2, 4], datatype: 'FP32', parameters: { binary_data_size: 32 } },
              { name: 'b', shape: [2, 3], datatype: 'INT32', parameters: { binary_data_size: 24 } },
            ],
            parameters: { binary_data_output: true },
          },
          [a[0], b[0]],
        );
        return app.request('/v2/models/pair/infer', {
          method: 'POST',
          body,
          headers: { 'Inference-Header-Content-Length': String(headerLength) },
        });
      })(),
      postJson(app, '/v2/models/pair/infer', {
        inputs: [
          { name: 'a', shape: [6, 4], datatype: 'FP32', data: Array.from(a[1]) },
          { name: 'b', shape: [6, 3], datatype: 'INT32', data: Array.from(b[1]) },
        ],
      }),
    ]);
    expect(binary.status).toBe(200);
    const headerLength = Number(binary.headers.get('Inference-Header-Content-Length'));
    const bytes = new Uint8Array(await binary.arrayBuffer());
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(0, headerLength)));
    expect(header.outputs.map((o: { shape: number[] }) => o.shape)).toEqual([
      [2, 4],
      [2, 3],
    ]);
    const tail = bytes.slice(headerLength).buffer;
    expect(new Float32Array(tail, 0, 8)).toEqual(a[0].map((v) => v * v));
    expect(new Int32Array(tail, 32, 6)).toEqual(b[0].map((v) => -v));

    expect(json.status).toBe(200);
    const [aSq, negB] = (await json.json()).outputs;
    expect(aSq.shape).toEqual([6, 4]);
    expect(aSq.data).toEqual(Array.from(a[1].map((v) => v * v)));
    expect(negB.shape).toEqual([6, 3]);
    expect(negB.data).toEqual(Array.from(b[1].map((v) => -v)));
  });

  it('serves a lone request once the delay has passed, not before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { model, runs } = counted(mlp8.model);
    const app = batchedApp(model, 1000);
    const data = rowsOf(7, 2);
    let answered = false;
    const pending = Promise.resolve(postJson(app, '/v2/models/mlp/infer', inferBody(data))).then((r) => {
      answered = true;
      return r;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(runs()).toBe(0);
    expect(answered).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const response = await pending;
    expect(runs()).toBe(1);
    expect(response.status).toBe(200);
    expect(Float32Array.from((await response.json()).outputs[0].data)).toEqual(await directPadded(data));
  });

  it('leaves no timer behind once a batch fills before its delay', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { model, runs } = counted(mlp8.model);
    const app = batchedApp(model, 30_000);
    const inputs = [rowsOf(1, 3), rowsOf(2, 5)];
    const responses = await Promise.all(
      inputs.map((data) => postJson(app, '/v2/models/mlp/infer', inferBody(data))),
    );
    expect(runs()).toBe(1);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    // a pending 30 s timer would keep a stopping `kiln serve` alive that long
    expect(vi.getTimerCount()).toBe(0);
  });

  it('starts a new batch when a request does not fit in the rows left', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { model, runs } = counted(mlp8.model);
    const app = batchedApp(model, 1000);
    const inputs = [rowsOf(1, 5), rowsOf(2, 4)];
    const pending = inputs.map((data) => postJson(app, '/v2/models/mlp/infer', inferBody(data)));
    await vi.advanceTimersByTimeAsync(0);
    expect(runs()).toBe(1); // 5 + 4 > 8: the 5-row batch ran when the 4-row request came
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs()).toBe(2);
    for (const [i, response] of (await Promise.all(pending)).entries()) {
      expect(response.status).toBe(200);
      expect(Float32Array.from((await response.json()).outputs[0].data)).toEqual(
        await directPadded(inputs[i]),
      );
    }
    const metrics = await (await app.request('/metrics')).text();
    expect(sample(metrics, 'kiln_batch_size_sum{model="mlp",version=""}')).toBe(9);
    expect(sample(metrics, 'kiln_batch_size_count{model="mlp",version=""}')).toBe(2);
  });

  it('keeps a batch whose delay passed while the model was busy taking requests until it starts', async () => {
    const { model: gated, started, release } = gatedModel(mlp8.model);
    const { model, runs } = counted(gated);
    const app = batchedApp(model, 1);
    const rows = [MAX_BATCH, 2, 3, 2, 4];
    const inputs = rows.map((n, i) => rowsOf(i, n));
    const post = (i: number) => postJson(app, '/v2/models/mlp/infer', inferBody(inputs[i]));
    const running = post(0); // full: starts at once and holds the model
    await started;
    const first = post(1);
    await new Promise((r) => setTimeout(r, 20)); // its delay has passed: queued behind the running batch
    const joined = [post(2), post(3)]; // fit into the queued batch: 2 + 3 + 2 rows
    const next = post(4); // 7 + 4 > 8: a batch of its own
    await new Promise((r) => setTimeout(r, 20));
    expect(runs()).toBe(1);
    release();
    const responses = await Promise.all([running, first, ...joined, next]);
    expect(runs()).toBe(3);
    for (const [i, response] of responses.entries()) {
      expect(response.status).toBe(200);
      expect(Float32Array.from((await response.json()).outputs[0].data)).toEqual(
        await directPadded(inputs[i]),
      );
    }
    const metrics = await (await app.request('/metrics')).text();
    expect(sample(metrics, 'kiln_batch_size_sum{model="mlp",version=""}')).toBe(MAX_BATCH + 2 + 3 + 2 + 4);
    expect(sample(metrics, 'kiln_batch_size_count{model="mlp",version=""}')).toBe(3);
  });

  it('refuses requests it cannot batch with a 400 that says why, and stays healthy', async () => {
    const app = batchedApp(pair, 0);
    const tensor = (name: string, shape: number[], datatype = name === 'a' ? 'FP32' : 'INT32') => ({
      name,
      shape,
      datatype,
      data: new Array(shape.reduce((n, d) => n * d, 1)).fill(1),
    });
    const cases: [unknown[], RegExp][] = [
      [
        [tensor('a', [9, 4]), tensor('b', [9, 3])],
        /input "a" has 9 rows but model "pair" takes 1 to 8 rows per request \(its max batch\); split the request/,
      ],
      [[tensor('a', [0, 4]), tensor('b', [0, 3])], /input "a" has 0 rows but model "pair" takes 1 to 8 rows/],
      [
        [tensor('a', [2, 4]), tensor('b', [3, 3])],
        /the inputs disagree on the batch size: "a" has 2 rows but "b" has 3/,
      ],
      [
        [tensor('a', [2, 5]), tensor('b', [2, 3])],
        /input "a" has shape \[2,5\] but the model expects \[-1,4\]/,
      ],
    ];
    for (const [inputs, message] of cases) {
      const response = await postJson(app, '/v2/models/pair/infer', { inputs });
      expect(response.status).toBe(400);
      expect((await response.json()).error).toMatch(message);
    }
    const fine = await postJson(app, '/v2/models/pair/infer', {
      inputs: [tensor('a', [8, 4]), tensor('b', [8, 3])],
    });
    expect(fine.status).toBe(200);
  });

  it('answers 503 with Retry-After once the requests waiting for batches fill the queue', async () => {
    const { model: slow, started, release } = gatedModel(mlp8.model);
    const app = batchedApp(slow, 0, { maxQueue: MAX_BATCH });
    const post = (i: number) => postJson(app, '/v2/models/mlp/infer', inferBody(rowsOf(i, MAX_BATCH)));
    const running = post(0); // a full batch: starts at once, and holds the model
    await started;
    const queued = Array.from({ length: MAX_BATCH }, (_, i) => post(i + 1)); // a full batch each, all waiting
    const refused = await post(99);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
    expect((await refused.json()).error).toMatch(
      /model "mlp" is busy: 8 requests wait for a batch \(the queue holds 8\); retry later/,
    );
    release();
    for (const response of await Promise.all([running, ...queued])) expect(response.status).toBe(200);
    expect((await post(100)).status).toBe(200);
  });

  it('refuses at start a model whose tensors do not lead with the max batch, or a queue smaller than a batch', () => {
    expect(() => batchedApp(mlp1.model, 2)).toThrow(
      'model "mlp": input "x" has shape [1,64], but batching with max batch 8 needs every input and output to lead with 8; compile it with --shape NAME=8,... or --dim, or serve it without --max-batch',
    );
    expect(() => batchedApp(mlp8.model, 2, { maxQueue: 4 })).toThrow(
      /the queue holds 4 requests but a batch 8 rows; .* \(kiln serve: --max-queue ≥ --max-batch\)/,
    );
  });
});
