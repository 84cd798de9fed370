/**
 * A real (not dry-run) `kiln deploy --target cloudflare` with weights in R2: the real wrangler
 * creates the bucket, uploads the weights object and the Worker, and Kiln reads the workers.dev URL
 * from its output. Cloudflare's API cannot be reached from here, so a local HTTP server stands in for
 * the few endpoints wrangler calls (CLOUDFLARE_API_BASE_URL points wrangler at it); it records what
 * was uploaded so the test can check it byte for byte.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deployToWorkers } from '../../src/deploy/cloudflare.js';
import { WORKERS_LIMITS } from '../../src/deploy/cloudflare-limits.js';
import type { DeployRequest } from '../../src/deploy/types.js';
import { compileMlp, type CompiledBundle } from '../serve/fixture.js';

interface Recorded {
  method: string;
  path: string;
  body: Buffer;
}

/** The stand-in API: Cloudflare's response envelope, an account with the workers.dev subdomain "acme". */
function cloudflareApi(options: { bucketExists: boolean }) {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname).replace(
        '/client/v4/accounts/acc',
        '',
      );
      requests.push({ method: req.method!, path, body: Buffer.concat(chunks) });
      const reply = (status: number, result: unknown, errors: { code: number; message: string }[] = []) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ success: errors.length === 0, errors, messages: [], result }));
      };
      const route = `${req.method} ${path}`;
      if (route === 'GET /workers/services/kiln-mlp')
        return reply(404, null, [{ code: 10090, message: 'workers.api.error.service_not_found' }]);
      if (route === 'POST /r2/buckets' && options.bucketExists)
        return reply(409, null, [
          { code: 10004, message: 'The bucket you tried to create already exists, and you own it.' },
        ]);
      if (route === 'GET /workers/scripts/kiln-mlp/settings')
        return reply(200, { bindings: [], compatibility_date: '2026-04-01', compatibility_flags: [] });
      if (route === 'GET /workers/scripts/kiln-mlp/deployments') return reply(200, { deployments: [] });
      if (route === 'GET /workers/subdomain') return reply(200, { subdomain: 'acme' });
      if (route === 'GET /workers/scripts/kiln-mlp/subdomain') return reply(200, { enabled: false });
      if (route === 'PUT /workers/scripts/kiln-mlp')
        return reply(200, { id: 'kiln-mlp', startup_time_ms: 5 });
      return reply(200, {});
    });
  });
  return { server, requests };
}

let mlp: CompiledBundle;
let scratch: string;
beforeAll(async () => {
  mlp = await compileMlp();
  scratch = await mkdtemp(join(tmpdir(), 'kiln-cf-real-'));
});
afterAll(async () => {
  await mlp.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

async function deployAgainst(api: Server, outDir: string) {
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  const { port } = api.address() as AddressInfo;
  const steps: string[] = [];
  const request: DeployRequest = {
    bundleDirs: [mlp.dir],
    outDir,
    dryRun: false,
    env: {
      PATH: process.env.PATH,
      HOME: scratch,
      CLOUDFLARE_API_TOKEN: 'test-token',
      CLOUDFLARE_ACCOUNT_ID: 'acc',
      CLOUDFLARE_API_BASE_URL: `http://127.0.0.1:${port}/client/v4`,
      KILN_CLOUDFLARE_WEIGHTS: 'r2',
    },
    step: (text) => steps.push(text),
    log: () => undefined,
    warn: () => undefined,
  };
  try {
    return { result: await deployToWorkers(request, WORKERS_LIMITS), steps };
  } finally {
    await new Promise((resolve) => api.close(resolve));
  }
}

it('creates the bucket, uploads the weights, then the Worker, and returns its workers.dev URL', async () => {
  const api = cloudflareApi({ bucketExists: false });
  const { result, steps } = await deployAgainst(api.server, join(scratch, 'new'));
  expect(result.endpoint).toBe('https://kiln-mlp.acme.workers.dev');
  expect(steps.slice(-3)).toEqual([
    'deploying with CLOUDFLARE_API_TOKEN',
    'R2 bucket "kiln-mlp-weights": uploading 1 weights file(s)',
    'wrangler deploy',
  ]);
  const sha256 = JSON.parse(await readFile(join(mlp.dir, 'manifest.json'), 'utf8')).files['weights.bin'];
  const writes = api.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);
  expect(writes.slice(0, 3)).toEqual([
    'POST /r2/buckets',
    `PUT /r2/buckets/kiln-mlp-weights/objects/mlp/${sha256}.weights.bin`,
    'PUT /workers/scripts/kiln-mlp',
  ]);
  expect(JSON.parse(api.requests.find((r) => r.path === '/r2/buckets')!.body.toString()).name).toBe(
    'kiln-mlp-weights',
  );
  const object = api.requests.find((r) => r.path.startsWith('/r2/buckets/kiln-mlp-weights/objects/'))!;
  expect(object.body).toEqual(await readFile(join(mlp.dir, 'weights.bin')));
  // the script upload is multipart: the built worker.js, model.wasm and model.relaxed.wasm, and the R2 binding
  const upload = api.requests.find((r) => r.method === 'PUT' && r.path === '/workers/scripts/kiln-mlp')!.body;
  expect(upload.includes(await readFile(join(scratch, 'new', 'worker', 'worker.js')))).toBe(true);
  expect(upload.includes(await readFile(join(mlp.dir, 'model.wasm')))).toBe(true);
  expect(upload.includes(await readFile(join(mlp.dir, 'model.relaxed.wasm')))).toBe(true);
  expect(upload.toString('latin1')).toContain('"bucket_name":"kiln-mlp-weights"');
  expect(upload.includes(await readFile(join(mlp.dir, 'weights.bin')))).toBe(false);
});

it('an existing bucket is reused', async () => {
  const api = cloudflareApi({ bucketExists: true });
  const { result } = await deployAgainst(api.server, join(scratch, 'again'));
  expect(result.endpoint).toBe('https://kiln-mlp.acme.workers.dev');
  expect(
    api.requests.some(
      (r) => r.method === 'PUT' && r.path.startsWith('/r2/buckets/kiln-mlp-weights/objects/'),
    ),
  ).toBe(true);
});
