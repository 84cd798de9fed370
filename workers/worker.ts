/**
 * The Cloudflare Worker entry: the serving app over the bundles compiled into this Worker.
 * Workers cannot compile wasm from bytes, so each bundle's model.wasm (and model.relaxed.wasm) arrives as a
 * WebAssembly.Module (a CompiledWasm module) and its weights as an ArrayBuffer (a Data module) or
 * as the key of an R2 object, through the `kiln:bundles` module that src/deploy/worker-build.ts
 * generates. Wiring only.
 */
import bundles from 'kiln:bundles';
import { loadModel } from '../src/runtime/index.js';
import { createApp } from '../src/serve/app.js';
import { batchingFromEnv, optionsFromEnv, type ServeEnv } from '../src/serve/env.js';
import { readWeights } from './weights.js';

type WorkerEnv = ServeEnv & Record<string, unknown>;

interface WorkerEntry {
  fetch(request: Request, env: WorkerEnv): Promise<Response>;
}

// instantiated on the first request (the global scope may not do async work), then reused by the isolate
let app: Promise<ReturnType<typeof createApp>> | undefined;

async function start(env: WorkerEnv) {
  const options = optionsFromEnv(env);
  const batching = batchingFromEnv(env);
  const models = await Promise.all(
    bundles.map(async ({ name, manifest, wasm, relaxedWasm, tokenizer, weights }) => {
      const weightBytes = await readWeights(name, weights, env);
      // the runtime picks relaxedWasm where relaxed SIMD works (model.variant says which)
      const model = await loadModel({ manifest, wasm, relaxedWasm, tokenizer, weights: weightBytes });
      return { name: model.name, model, batching };
    }),
  );
  return createApp({ models, ...options });
}

export default {
  async fetch(request, env) {
    app ??= start(env);
    let started: Awaited<typeof app>;
    try {
      started = await app;
    } catch (err) {
      // the next request tries again: a re-uploaded R2 object or a passing R2 failure heals without a redeploy
      app = undefined;
      return notStarted(
        request,
        `the Worker could not start: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    return started.fetch(request);
  },
} satisfies WorkerEntry;

/** The isolate is alive but serves nothing: liveness says so, readiness and everything else give the reason. */
function notStarted(request: Request, error: string): Response {
  const path = new URL(request.url).pathname;
  if (request.method === 'GET' && path === '/v2/health/live') return Response.json({ live: true });
  if (request.method === 'GET' && path === '/v2/health/ready')
    return Response.json({ error: `not ready: ${error}` }, { status: 503 });
  return Response.json({ error }, { status: 500 });
}
