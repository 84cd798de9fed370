/**
 * A text bundle's `POST /v1/embeddings` on each deploy target, as `npm run bench:embeddings` times it
 * (and tests/embedding-targets.test.ts checks its vectors):
 *
 * - `kiln serve`: the CLI in its own process (bin/kiln.js), asked over HTTP on loopback, one kept-alive
 *   connection;
 * - Lambda: the handler of the Lambda adapter (src/serve/lambda.ts) in this process, the bundle loaded
 *   as a deployment package loads it (optimized code, warm-up), invoked with API Gateway HTTP API
 *   (payload 2.0) events (tests/serve-lambda/events); request logs off;
 * - Workers: the Worker that `kiln deploy --target cloudflare --dry-run` builds (weights in the script or
 *   in R2, as deploy places them), run in workerd through miniflare. workerd's clocks stand still while a
 *   request computes, so the Worker is timed from here: the wall time of each dispatchFetch, which also
 *   counts the loopback hop into workerd. A bundle the Workers limits refuse is not run: the target
 *   reports deploy's reason instead.
 *
 * `startTarget` resolves once the target can take a request. `loadMs`: from spawning `kiln serve` to its
 * listening (Node's start and the model's load), from loading the bundle to the handler built, from
 * starting workerd on the built Worker to its taking requests (a Worker loads its model on its first
 * request, as on Cloudflare, so that load is in its first request).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { deployCloudflare } from '../../src/deploy/cloudflare.js';
import { readServedBundles } from '../../src/deploy/bundles.js';
import { DeployError } from '../../src/deploy/types.js';
import { WEIGHTS_BINDING } from '../../src/deploy/worker-build.js';
import { loadModel } from '../../src/runtime/index.js';
import { NODE_SERVING_LOAD } from '../../src/runtime-node/v8-tiers.js';
import { createLambdaHandler } from '../../src/serve/lambda.js';
import { eventFor, readEvent, responseOf } from '../../tests/serve-lambda/events.js';
import { runWorkerDir } from '../../tests/serve-workerd/miniflare.js';
import { startServeProcess } from '../../tests/serve/serve-process.js';
import { childPid } from './child-pid.js';

export const TARGETS = ['kiln serve', 'lambda', 'workers'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface EmbeddingTarget {
  name: TargetName;
  /** ms from starting the target to its taking requests */
  loadMs: number;
  /** the process whose main thread serves the requests (this one for Lambda), where it can be found */
  cpuPid?: number;
  /** one `POST /v1/embeddings` with this JSON body */
  post(body: string): Promise<Response>;
  stop(): Promise<void>;
}

/** A target that cannot take the bundle, and deploy's reason. */
export interface RefusedTarget {
  name: TargetName;
  refused: string;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

export async function startTarget(name: TargetName, dir: string): Promise<EmbeddingTarget | RefusedTarget> {
  const started = performance.now();
  const ready = (
    cpuPid: number | undefined,
    post: EmbeddingTarget['post'],
    stop: EmbeddingTarget['stop'],
  ): EmbeddingTarget => ({ name, loadMs: performance.now() - started, cpuPid, post, stop });
  if (name === 'kiln serve') {
    // its kept-alive connection sits idle while the bench times the other engines: past the default 5 s
    // the server closes it, and a request that the client sends on it meanwhile fails
    const served = await startServeProcess([dir, '--port', '0', '--idle-timeout-ms', '600000']);
    served.child.stderr!.resume(); // its request log
    const kill = () => served.child.kill();
    process.once('exit', kill); // a bench that fails leaves no server behind
    return ready(
      served.child.pid,
      (body) => fetch(`${served.url}/v1/embeddings`, { method: 'POST', body, headers: JSON_HEADERS }),
      async () => {
        process.off('exit', kill);
        kill();
        await served.exited;
      },
    );
  }
  if (name === 'lambda') {
    const [{ name: model }] = await readServedBundles([dir]);
    const handler = createLambdaHandler({
      models: [{ name: model, model: await loadModel(dir, NODE_SERVING_LOAD) }],
      log: false,
    });
    const template = readEvent('api-gateway-v2');
    return ready(
      process.pid,
      async (body) =>
        responseOf(
          await handler(
            eventFor(template, '/v1/embeddings', { method: 'POST', body, headers: JSON_HEADERS }),
          ),
        ),
      async () => {},
    );
  }
  return startWorker(dir);
}

/** Deploy's dry run builds the Worker (not counted in loadMs), then workerd starts it. */
async function startWorker(dir: string): Promise<EmbeddingTarget | RefusedTarget> {
  const outDir = await mkdtemp(join(tmpdir(), 'kiln-bench-worker-'));
  try {
    await deployCloudflare({
      bundleDirs: [dir],
      outDir,
      dryRun: true,
      // no Cloudflare login is read: HOME is an empty folder
      env: { PATH: process.env.PATH, HOME: outDir },
      step: () => {},
      log: () => {},
      warn: () => {},
    });
  } catch (err) {
    await rm(outDir, { recursive: true, force: true });
    if (err instanceof DeployError) return { name: 'workers', refused: err.message };
    throw err;
  }
  // deploy leaves weights too large for the script in outDir/r2/<key>, the objects it would upload
  const r2Dir = join(outDir, 'r2');
  const objects: Record<string, Uint8Array> = {};
  const entries = existsSync(r2Dir) ? await readdir(r2Dir, { recursive: true, withFileTypes: true }) : [];
  for (const entry of entries)
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      objects[relative(r2Dir, path)] = await readFile(path);
    }
  const started = performance.now();
  const worker = await runWorkerDir(join(outDir, 'worker'), { r2: { [WEIGHTS_BINDING]: objects } });
  return {
    name: 'workers',
    loadMs: performance.now() - started,
    cpuPid: childPid('workerd'),
    post: (body) => worker.send('/v1/embeddings', { method: 'POST', body, headers: JSON_HEADERS }),
    stop: async () => {
      await worker.stop();
      await rm(outDir, { recursive: true, force: true });
    },
  };
}

/** The body of a request for `texts`' embeddings from `model`. */
export function embeddingsBody(
  model: string,
  texts: string[],
  encoding_format: 'float' | 'base64' = 'float',
): string {
  return JSON.stringify({ model, input: texts, encoding_format });
}

/** One request's vectors (float); an answer other than 200 is an error that quotes it. */
export async function embed(target: EmbeddingTarget, model: string, texts: string[]): Promise<number[][]> {
  const response = await target.post(embeddingsBody(model, texts));
  if (response.status !== 200)
    throw new Error(`${target.name}: HTTP ${response.status}: ${await response.text()}`);
  const { data } = (await response.json()) as { data: { embedding: number[] }[] };
  return data.map((d) => d.embedding);
}
