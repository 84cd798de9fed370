/**
 * The Cloudflare Worker entry: the serving app over the bundles compiled into this Worker.
 * Workers cannot compile wasm from bytes, so each bundle's model.wasm arrives as a
 * WebAssembly.Module (a CompiledWasm module) and its weights as an ArrayBuffer (a Data module),
 * through the `kiln:bundles` module that src/deploy/worker-build.ts generates. Wiring only.
 */
import bundles from 'kiln:bundles';
import { loadModel } from '../src/runtime/index.js';
import { createApp } from '../src/serve/app.js';
import { optionsFromEnv, type ServeEnv } from '../src/serve/env.js';

interface WorkerEntry {
  fetch(request: Request, env: ServeEnv): Promise<Response>;
}

// instantiated on the first request (the global scope may not do async work), then reused by the isolate
let app: Promise<ReturnType<typeof createApp>> | undefined;

async function start(env: ServeEnv) {
  const models = await Promise.all(
    bundles.map(async (bundle) => {
      const model = await loadModel(bundle);
      return { name: model.name, model };
    }),
  );
  return createApp({ models, ...optionsFromEnv(env) });
}

export default {
  async fetch(request, env) {
    app ??= start(env);
    let started: Awaited<typeof app>;
    try {
      started = await app;
    } catch (err) {
      const message = `the Worker could not start: ${err instanceof Error ? err.message : String(err)}`;
      return Response.json({ error: message }, { status: 500 });
    }
    return started.fetch(request);
  },
} satisfies WorkerEntry;
