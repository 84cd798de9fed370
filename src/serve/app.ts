/**
 * The serving app (DESIGN.md §3.4): the Open Inference Protocol v2 REST over loaded Kiln models,
 * as one Hono app used unchanged by every target. It touches no Node-only API.
 */
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import type { Tensor } from '../runtime/index.js';
import type { TextEncoding, TextTokenizer } from '../runtime/text-tokenizer.js';
import { checkBearer } from './auth.js';
import { Batcher, batchedTensors, DEFAULT_BATCH_DELAY_MS, runRows } from './batching.js';
import { HEADER_LENGTH, readBody, splitBody } from './body.js';
import { consolePage } from './console.js';
import {
  embeddingOutput,
  encodeItems,
  formatEmbedding,
  packFeeds,
  parseEmbeddingsRequest,
  textInput,
} from './embeddings.js';
import { HttpError } from './http-error.js';
import {
  buildInferResponse,
  parseInferRequest,
  servedTensor,
  type ParsedInfer,
  type ServedSignature,
} from './infer.js';
import { isTextInfer, parseTextInfer } from './text-infer.js';
import { jsonLineLogger, type RequestLogger } from './log.js';
import { Metrics, type ModelMetrics } from './metrics.js';
import { DEFAULT_MAX_QUEUE, QueueFullError, RunQueue } from './queue.js';
import { ModelRegistry, type ServedModel } from './registry.js';
import { SERVER_VERSION } from './version.js';
import { fixedDim } from '../bundle/manifest.js';
import { upperBounds } from '../bundle/shape-dims.js';

export type { BatchingOptions } from './batching.js';
export type { ServedModel } from './registry.js';

export interface AppOptions {
  models: readonly ServedModel[];
  /** when set, every endpoint but /v2/health/* needs `Authorization: Bearer <apiKey>` */
  apiKey?: string;
  /** largest accepted request body; default 64 MiB */
  maxBodyBytes?: number;
  /** why the server should not take work now (e.g. it is draining), or undefined when ready */
  notReady?: () => string | undefined;
  /** per-request log sink; default one JSON line on stderr; false for none */
  log?: RequestLogger | false;
  /**
   * how many inference requests may wait per model while one runs (with batching: requests whose batch
   * has not started); default 64; beyond it 503
   */
  maxQueue?: number;
  /** origins allowed to call the API from a browser ('*' for any); CORS is off when unset */
  cors?: string | string[];
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

const REQUEST_ID = 'X-Request-Id';
const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/;

type Env = { Variables: { requestId: string; served?: ServedModel } };

/** What the app keeps per served model. */
interface Entry {
  signature: ServedSignature;
  metrics: ModelMetrics;
  /** runs a parsed request through the model's queue (and batcher) */
  run(request: ParsedInfer): Promise<Record<string, Tensor>>;
  /** the bundle's tokenizer (text models), made on the first request that needs it */
  tokenizer(): Promise<TextTokenizer>;
}

export function createApp(options: AppOptions): Hono<Env> {
  const registry = new ModelRegistry(options.models);
  const metrics = new Metrics();
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
  const entries = new Map(registry.all.map((served) => [served, entryOf(served, metrics, maxQueue)]));
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = options.log === undefined ? jsonLineLogger : options.log;
  const notReady = options.notReady ?? (() => undefined);
  const ensureReady = () => {
    const reason = notReady();
    if (reason !== undefined) throw new HttpError(503, `not ready: ${reason}`);
  };

  const app = new Hono<Env>();
  // first, so that preflights skip auth and every response, errors included, carries the CORS headers
  if (options.cors !== undefined)
    app.use(
      cors({
        origin: [options.cors].flat().includes('*') ? '*' : options.cors,
        exposeHeaders: [REQUEST_ID, HEADER_LENGTH, 'Retry-After', 'WWW-Authenticate'],
      }),
    );

  app.use(async (c, next) => {
    const started = performance.now();
    const given = c.req.header(REQUEST_ID);
    const requestId = given !== undefined && SAFE_REQUEST_ID.test(given) ? given : crypto.randomUUID();
    c.set('requestId', requestId);
    await next();
    // on the response itself: c.header() after next() would rebuild it, and @hono/node-server then
    // streams the rebuilt body instead of writing it in one go
    c.res.headers.set(REQUEST_ID, requestId);
    if (!log) return;
    const served = c.get('served');
    log({
      time: new Date().toISOString(),
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      ...(served ? { model: served.name } : {}),
      ...(served?.version !== undefined ? { model_version: served.version } : {}),
      ...(c.error ? { error: c.error.message } : {}),
    });
  });

  app.get('/', () => consolePage(registry.all)); // before auth: the page holds no data; its API calls send the key

  const { apiKey } = options;
  if (apiKey !== undefined)
    app.use(async (c, next) => {
      if (!c.req.path.startsWith('/v2/health/')) checkBearer(c.req.header('Authorization'), apiKey);
      await next();
    });

  app.get('/v2/health/live', (c) => c.json({ live: true }));
  app.get('/v2/health/ready', (c) => {
    ensureReady();
    return c.json({ ready: true });
  });

  const serverMetadata = (c: Context<Env>) =>
    c.json({ name: 'kiln', version: SERVER_VERSION, extensions: ['binary_tensor_data'] });
  app.get('/v2', serverMetadata);
  app.get('/v2/', serverMetadata);

  const resolve = (c: Context<Env>) => {
    const served = registry.resolve(c.req.param('name') ?? '', c.req.param('version'));
    c.set('served', served);
    return served;
  };

  for (const base of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(base, (c) => {
      const served = resolve(c);
      return c.json(registry.metadata(served, entries.get(served)!.signature));
    });
    app.get(`${base}/ready`, (c) => {
      const served = resolve(c);
      ensureReady();
      return c.json({ name: served.name, ready: true });
    });
    app.post(`${base}/infer`, async (c) => {
      const served = resolve(c);
      const entry = entries.get(served)!;
      const started = performance.now();
      let failed = true;
      try {
        const response = await infer(c, served, entry);
        failed = false;
        return response;
      } finally {
        entry.metrics.observe(failed, (performance.now() - started) / 1000);
      }
    });
  }

  const infer = async (c: Context<Env>, served: ServedModel, entry: Entry): Promise<Response> => {
    ensureReady();
    const body = await readBody(c.req.raw, maxBodyBytes);
    const { json, binary } = splitBody(body, c.req.header(HEADER_LENGTH) ?? null);
    if (isTextInfer(served.model, json)) return inferText(c, served, entry, json as Record<string, unknown>);
    const request = parseInferRequest(entry.signature, json, binary);
    const results = await entry.run(request);
    const response = buildInferResponse(served, request.id ?? c.get('requestId'), request.outputs, results);
    if (response.binary.length === 0) return c.json(response.header);
    const header = new TextEncoder().encode(JSON.stringify(response.header));
    return c.body(concat([header, ...response.binary]), 200, {
      'Content-Type': 'application/octet-stream',
      [HEADER_LENGTH]: String(header.byteLength),
    });
  };

  app.post('/v1/embeddings', async (c) => {
    ensureReady();
    const { json } = splitBody(await readBody(c.req.raw, maxBodyBytes), null);
    const request = parseEmbeddingsRequest(json);
    const served = registry.resolve(request.model, undefined);
    c.set('served', served);
    const entry = entries.get(served)!;
    const started = performance.now();
    let failed = true;
    try {
      const output = embeddingOutput(served.model);
      const width = fixedDim(
        served.model.outputs.find((o) => o.name === output.name)!.shape,
        1,
        `output "${output.name}"`,
      );
      if (request.dimensions !== undefined && request.dimensions > width)
        throw new HttpError(
          400,
          `"dimensions" is ${request.dimensions}, but model "${served.name}" gives vectors of ${width}`,
        );
      const encodings = encodeItems(await entry.tokenizer(), request);
      const vectors = await embed(served, entry, encodings, output.name);
      const tokens = encodings.reduce((n, e) => n + e.ids.length, 0);
      failed = false;
      return c.json({
        object: 'list',
        data: vectors.map((v, index) => ({
          object: 'embedding',
          index,
          embedding: formatEmbedding(v, request, output.normalized),
        })),
        model: served.name,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
    } finally {
      entry.metrics.observe(failed, (performance.now() - started) / 1000);
    }
  });

  const inferText = async (
    c: Context<Env>,
    served: ServedModel,
    entry: Entry,
    json: Record<string, unknown>,
  ) => {
    const { id, request, output } = parseTextInfer(served.model, json);
    const encodings = encodeItems(await entry.tokenizer(), request);
    const vectors = await embed(served, entry, encodings, output);
    const width = vectors[0].length;
    const data = new Float32Array(vectors.length * width);
    vectors.forEach((v, i) => data.set(v, i * width));
    const results = { [output]: { dtype: 'float32' as const, dims: [vectors.length, width], data } };
    const response = buildInferResponse(
      served,
      id ?? c.get('requestId'),
      [{ name: output, binary: false }],
      results,
    );
    return c.json(response.header);
  };

  app.get('/metrics', (c) => c.text(metrics.render(), 200, { 'Content-Type': 'text/plain; version=0.0.4' }));

  app.notFound((c) => c.json({ error: `no endpoint ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    const status = err instanceof HttpError ? err.status : 500;
    if (status === 401) c.header('WWW-Authenticate', 'Bearer');
    if (err instanceof QueueFullError) c.header('Retry-After', String(err.retryAfterSeconds));
    return c.json(
      { error: err instanceof HttpError ? err.message : `internal error: ${err.message}` },
      status,
    );
  });
  return app;
}

/**
 * Runs the encodings in chunks of the model's (largest) batch, each padded to the rows its run takes (with
 * batching, each chunk goes through the batcher as its own rows), and returns one vector per encoding.
 */
async function embed(
  served: ServedModel,
  entry: Entry,
  encodings: TextEncoding[],
  output: string,
): Promise<Float32Array[]> {
  const tokenizer = await entry.tokenizer();
  const batch = textInput(served.model, tokenizer).shape[0];
  const perRun = served.batching?.maxBatch ?? upperBounds([batch])[0];
  const chunks = Array.from({ length: Math.ceil(encodings.length / perRun) }, (_, i) =>
    encodings.slice(i * perRun, (i + 1) * perRun),
  );
  const results = await Promise.all(
    chunks.map(async (chunk) => {
      const rows = served.batching ? chunk.length : runRows(batch, chunk.length);
      const feeds = packFeeds(served.model, tokenizer, chunk, rows);
      const out = (await entry.run({ id: undefined, feeds, rows, outputs: [] }))[output];
      const width = out.dims[1];
      const data = out.data as Float32Array;
      return chunk.map((_, r) => data.slice(r * width, (r + 1) * width));
    }),
  );
  return results.flat();
}

/** The model's served signature, metrics and runner: straight through its queue, or through a batcher. */
function entryOf(served: ServedModel, metrics: Metrics, maxQueue: number): Entry {
  const { name, version, model, batching } = served;
  const label = `model "${name}"${version === undefined ? '' : ` version "${version}"`}`;
  const series = metrics.register(name, version, batching !== undefined, {
    backend: model.backend,
    variant: model.variant,
  });
  const onStart = (seconds: number) => series.observeQueue(seconds);
  let tokenizer: Promise<TextTokenizer> | undefined;
  // loaded on the first text request: a server of other models never evaluates the tokenizer library
  const loadTokenizer = () =>
    (tokenizer ??= import('../runtime/text-tokenizer.js').then(
      ({ TextTokenizer }) => new TextTokenizer(model.tokenizer!, model.manifest.tokenizer!),
    ));
  const timedRun = async (feeds: Record<string, Tensor>) => {
    const started = performance.now();
    try {
      return await runModel(served, feeds);
    } finally {
      series.observeInference((performance.now() - started) / 1000);
    }
  };
  if (!batching) {
    const queue = new RunQueue({ label, maxQueue, onStart });
    return {
      signature: {
        name: model.name,
        inputs: model.inputs.map(servedTensor),
        outputs: model.outputs.map(servedTensor),
      },
      metrics: series,
      tokenizer: loadTokenizer,
      run: (request) =>
        queue.run(() => {
          series.observeRun(1);
          return timedRun(request.feeds);
        }),
    };
  }
  const { maxBatch, delayMs = DEFAULT_BATCH_DELAY_MS } = batching;
  const signature = { name: model.name, ...batchedTensors(model, maxBatch), maxBatch };
  const batcher = new Batcher({
    model,
    maxBatch,
    delayMs,
    // a batch starts as one task; the batcher bounds the requests waiting, so this queue never refuses
    queue: new RunQueue({ label, maxQueue }),
    maxQueue,
    label,
    run: timedRun,
    onStart,
    onRun: (rows) => series.observeRun(rows),
  });
  return {
    signature,
    metrics: series,
    tokenizer: loadTokenizer,
    run: (request) => batcher.run(request.feeds, request.rows!),
  };
}

/** The runtime re-checks feeds: its refusals are the client's fault (400); a trap in the model is ours (500). */
async function runModel(served: ServedModel, feeds: Record<string, Tensor>) {
  try {
    return await served.model.run(feeds);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const trapped = err instanceof Error && err.cause instanceof WebAssembly.RuntimeError;
    throw new HttpError(trapped ? 500 : 400, trapped ? `inference failed: ${message}` : message);
  }
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
