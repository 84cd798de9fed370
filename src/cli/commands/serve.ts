/** `kiln serve DIR...`: serve bundles over the Open Inference Protocol until SIGTERM or SIGINT. */
import { readBundleDir } from '../../bundle/node.js';
import { loadModel, type Backend, type Model } from '../../runtime/index.js';
import type { BundleFiles } from '../../bundle/files.js';
import { DATATYPE_OF } from '../../serve/datatypes.js';
import { apiKeyFromEnv } from '../../serve/env.js';
import { DEFAULT_CONNECTION_LIMITS, startNodeServer, type ConnectionLimits } from '../../serve/node.js';
import { DEFAULT_MAX_QUEUE } from '../../serve/queue.js';
import { batchingOf, parseChoice, parseCommandArgs, parseCount } from '../args.js';
import { print, warn, type Command } from '../command.js';
import { UsageError } from '../errors.js';
import { nodeGpu } from '../gpu.js';
import { variantNote } from '../variant.js';
import { upperBounds } from '../../bundle/shape-dims.js';
import { NODE_SERVING_LOAD } from '../../runtime-node/v8-tiers.js';

const usage =
  'kiln serve DIR... [--port 8080] [--host 127.0.0.1] [--backend auto|wasm|webgpu] [--max-body-mb 64] [--max-queue 64] [--max-batch N [--batch-delay-ms 2]] [--cors ORIGIN]... [--header-timeout-ms 10000] [--request-timeout-ms 60000] [--idle-timeout-ms 5000] [--max-connections 1000]';

/** 'auto' (the default): webgpu for bundles built with it when this machine has a WebGPU adapter, else wasm. */
const BACKENDS: readonly Backend[] = ['auto', 'wasm', 'webgpu'];

export const serveCommand: Command = {
  name: 'serve',
  usage,
  summary: 'serve bundles over HTTP (Open Inference Protocol v2; KILN_API_KEY sets a bearer token)',
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        port: { type: 'string' },
        host: { type: 'string' },
        'max-body-mb': { type: 'string' },
        'max-queue': { type: 'string' },
        'max-batch': { type: 'string' },
        'batch-delay-ms': { type: 'string' },
        backend: { type: 'string' },
        cors: { type: 'string', multiple: true },
        'header-timeout-ms': { type: 'string' },
        'request-timeout-ms': { type: 'string' },
        'idle-timeout-ms': { type: 'string' },
        'max-connections': { type: 'string' },
      },
      usage,
    );
    if (positionals.length === 0) throw new UsageError('missing bundle DIR', usage);
    const port = parseCount('--port', values.port, 8080, 0, usage);
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got "${values.port}"`, usage);
    const maxBodyMb = parseCount('--max-body-mb', values['max-body-mb'], 64, 1, usage);
    const maxQueue = parseCount('--max-queue', values['max-queue'], DEFAULT_MAX_QUEUE, 0, usage);
    const backend = parseChoice('--backend', values.backend ?? 'auto', BACKENDS, usage);
    const batching = batchingOf(values['max-batch'], values['batch-delay-ms'], usage);
    const limits = connectionLimitsOf(values, usage);
    const host = values.host ?? '127.0.0.1';
    const apiKey = apiKeyFromEnv(process.env.KILN_API_KEY);

    const models = await loadAll(positionals, backend);
    const server = await startNodeServer({
      models: models.map((model) => ({ name: model.name, model, batching })),
      port,
      host,
      apiKey,
      maxBodyBytes: maxBodyMb * 1024 * 1024,
      maxQueue,
      cors: values.cors,
      ...limits,
    });
    for (const [i, model] of models.entries())
      print(
        `kiln: serving ${model.name} from ${positionals[i]} (${model.backend}): ${signature(model)}${variantNote(model)}`,
      );
    if (batching)
      print(
        `kiln: batching up to ${batching.maxBatch} rows, waiting up to ${batching.delayMs} ms for a batch to fill`,
      );
    print(`kiln: listening on ${server.url} (Open Inference Protocol v2; Ctrl-C to stop)`);
    print('try:');
    print(`  ${curlExample(server.url, models[0], apiKey !== undefined)}`);
    const text = models.find((m) => m.manifest.tokenizer);
    if (text) print(`  ${embeddingsCurlExample(server.url, text, apiKey !== undefined)}`);

    const signal = await new Promise<string>((resolve) => {
      const stop = (name: string) => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve(name);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    print(`kiln: ${signal}: finishing in-flight requests and stopping`);
    await server.close();
    for (const model of models) model.dispose();
    print('kiln: stopped');
  },
};

function connectionLimitsOf(values: Record<string, unknown>, usage: string): ConnectionLimits {
  const count = (flag: keyof ConnectionLimits, name: string) =>
    parseCount(`--${name}`, values[name] as string | undefined, DEFAULT_CONNECTION_LIMITS[flag], 1, usage);
  const limits = {
    headerTimeoutMs: count('headerTimeoutMs', 'header-timeout-ms'),
    requestTimeoutMs: count('requestTimeoutMs', 'request-timeout-ms'),
    idleTimeoutMs: count('idleTimeoutMs', 'idle-timeout-ms'),
    maxConnections: count('maxConnections', 'max-connections'),
  };
  if (limits.headerTimeoutMs > limits.requestTimeoutMs)
    throw new UsageError(
      `--header-timeout-ms (${limits.headerTimeoutMs}) must not exceed --request-timeout-ms (${limits.requestTimeoutMs}): the request's head is part of the request`,
      usage,
    );
  return limits;
}

async function loadAll(dirs: string[], backend: Backend): Promise<Model[]> {
  const models: Model[] = [];
  for (const dir of dirs) {
    // read here (loadModel verifies it) so that Dawn is started only for bundles that have WGSL
    const model = await loadOn(await readBundleDir(dir), dir, backend);
    const clash = models.findIndex((m) => m.name === model.name);
    if (clash !== -1)
      throw new Error(
        `two bundles are both named "${model.name}" (${dirs[clash]} and ${dir}); compile one with --name`,
      );
    models.push(model);
  }
  return models;
}

/**
 * --backend webgpu needs the GPU. 'auto' takes it for bundles with WGSL, and falls back to wasm, saying
 * why, when there is no Dawn or adapter or the model fails to load on it: a server on the CPU is better
 * than one that never starts (systemd would restart it forever on a GPU instance with a broken driver).
 */
async function loadOn(files: BundleFiles, dir: string, backend: Backend): Promise<Model> {
  if (backend === 'webgpu') return loadModel(files, { backend, gpu: await nodeGpu() });
  // optimized up front and warmed up at load: the first request runs optimized code, not V8's baseline
  // tier (runtime-node/v8-tiers.ts, runtime/warmup.ts)
  if (backend === 'wasm' || !files.manifest.targets.includes('webgpu'))
    return loadModel(files, { backend, ...NODE_SERVING_LOAD });
  try {
    return await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  } catch (err) {
    warn(`serving ${dir} on wasm: ${(err as Error).message}`);
    return loadModel(files, { backend: 'wasm', ...NODE_SERVING_LOAD });
  }
}

function signature(model: Model): string {
  const tensors = (ts: Model['inputs']) =>
    ts.map((t) => `${t.name} ${DATATYPE_OF[t.dtype]}[${t.shape.join(',')}]`).join(', ');
  return `${tensors(model.inputs)} → ${tensors(model.outputs)}`;
}

/**
 * A command that infers on zeros: node writes the request (inputs can be thousands of numbers long)
 * and curl posts it. Only for datatypes whose zero is the JSON number 0 or false.
 */
export function curlExample(url: string, model: Model, withKey: boolean): string {
  const inputs = model.inputs.map((t) => {
    const shape = upperBounds(t.shape);
    const count = shape.reduce((a, b) => a * b, 1);
    const zero = t.dtype === 'bool' ? 'false' : '0';
    return `{name:${JSON.stringify(t.name)},shape:${JSON.stringify(shape)},datatype:"${DATATYPE_OF[t.dtype]}",data:Array(${count}).fill(${zero})}`;
  });
  const script = `process.stdout.write(JSON.stringify({inputs:[${inputs.join(',')}]}))`;
  const auth = withKey ? ` -H "Authorization: Bearer $KILN_API_KEY"` : '';
  const endpoint = `${url}/v2/models/${encodeURIComponent(model.name)}/infer`;
  return `node -e ${shellQuoted(script)} | curl -s ${shellQuoted(endpoint)} -H 'Content-Type: application/json'${auth} --data-binary @-`;
}

/** A command that asks a text model for the embedding of one sentence (POST /v1/embeddings). */
export function embeddingsCurlExample(url: string, model: Model, withKey: boolean): string {
  const auth = withKey ? ` -H "Authorization: Bearer $KILN_API_KEY"` : '';
  const body = JSON.stringify({ model: model.name, input: 'hello world' });
  return `curl -s ${shellQuoted(`${url}/v1/embeddings`)} -H 'Content-Type: application/json'${auth} -d ${shellQuoted(body)}`;
}

/** `text` as one single-quoted shell word: input and model names come from the model and may hold quotes. */
function shellQuoted(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
