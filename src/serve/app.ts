/**
 * The serving app (DESIGN.md §3.4): the Open Inference Protocol v2 REST over loaded Kiln models,
 * as one Hono app used unchanged by every target. It touches no Node-only API.
 */
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import type { Feed } from '../runtime/index.js';
import { checkBearer } from './auth.js';
import { HEADER_LENGTH, readBody, splitBody } from './body.js';
import { consolePage } from './console.js';
import { HttpError } from './http-error.js';
import { buildInferResponse, parseInferRequest } from './infer.js';
import { jsonLineLogger, type RequestLogger } from './log.js';
import { Metrics } from './metrics.js';
import { DEFAULT_MAX_QUEUE, QueueFullError, RunQueue } from './queue.js';
import { ModelRegistry, type ServedModel } from './registry.js';
import { SERVER_VERSION } from './version.js';

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
  /** how many inference requests may wait per model while one runs; default 64; beyond it 503 */
  maxQueue?: number;
  /** origins allowed to call the API from a browser ('*' for any); CORS is off when unset */
  cors?: string | string[];
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

const REQUEST_ID = 'X-Request-Id';
const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/;

type Env = { Variables: { requestId: string; served?: ServedModel } };

export function createApp(options: AppOptions): Hono<Env> {
  const registry = new ModelRegistry(options.models);
  const metrics = new Metrics();
  for (const { name, version } of registry.all) metrics.register(name, version);
  const queues = new Map(
    registry.all.map((served) => {
      const label = `model "${served.name}"${served.version === undefined ? '' : ` version "${served.version}"`}`;
      const onStart = (seconds: number) => metrics.observeQueue(served.name, served.version, seconds);
      return [served, new RunQueue({ label, maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE, onStart })];
    }),
  );
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
    c.header(REQUEST_ID, requestId);
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

  app.use(async (c, next) => {
    if (options.apiKey !== undefined && !c.req.path.startsWith('/v2/health/'))
      checkBearer(c.req.header('Authorization'), options.apiKey);
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
    app.get(base, (c) => c.json(registry.metadata(resolve(c))));
    app.get(`${base}/ready`, (c) => {
      const served = resolve(c);
      ensureReady();
      return c.json({ name: served.name, ready: true });
    });
    app.post(`${base}/infer`, async (c) => {
      const served = resolve(c);
      const started = performance.now();
      let failed = true;
      try {
        const response = await infer(c, served);
        failed = false;
        return response;
      } finally {
        metrics.observe(served.name, served.version, failed, (performance.now() - started) / 1000);
      }
    });
  }

  const infer = async (c: Context<Env>, served: ServedModel): Promise<Response> => {
    ensureReady();
    const body = await readBody(c.req.raw, maxBodyBytes);
    const { json, binary } = splitBody(body, c.req.header(HEADER_LENGTH) ?? null);
    const request = parseInferRequest(served.model, json, binary);
    const results = await queues.get(served)!.run(() => runModel(served, request.feeds));
    const response = buildInferResponse(served, request.id ?? c.get('requestId'), request.outputs, results);
    if (response.binary.length === 0) return c.json(response.header);
    const header = new TextEncoder().encode(JSON.stringify(response.header));
    return c.body(concat([header, ...response.binary]), 200, {
      'Content-Type': 'application/octet-stream',
      [HEADER_LENGTH]: String(header.byteLength),
    });
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

/** The runtime re-checks feeds: its refusals are the client's fault (400); a trap in the model is ours (500). */
async function runModel(served: ServedModel, feeds: Record<string, Feed>) {
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
