/**
 * `npm run bench:serve`: what serving costs on top of the runtime. Compiles a ~1 ms real model (Silero
 * VAD), times `model.run` in a loop, then drives the real Node server (`kiln serve` on a free port on
 * 127.0.0.1, its own process) with JSON and with binary-extension requests: one keep-alive connection
 * timed here for latency (autocannon rounds latencies to whole milliseconds; the p50 overhead is
 * against the loop's p50), and autocannon with 16 connections for throughput. Loopback only; every
 * run is a fixed request count.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadModel, type Feed, type Model } from '../src/runtime/index.js';
import { DATATYPE_OF } from '../src/serve/datatypes.js';
import { binaryBody } from '../tests/serve/requests.js';
import { voiceActivity } from './sample-models.js';

const ROOT = resolve(import.meta.dirname, '..');
const KILN = resolve(ROOT, 'bin/kiln.js');
const DIRECT_RUNS = 3000;
const HTTP_REQUESTS = 3000;
const WARMUP = 300;
const CONNECTIONS = 16;

interface Row {
  what: string;
  reqPerSec: number;
  p50: number;
  p99: number;
}

/** One request's body and headers, in JSON or with the binary tensor extension both ways. */
interface Payload {
  kind: 'JSON' | 'binary';
  body: Uint8Array;
  headers: Record<string, string>;
}

/** Deterministic, speech-like inputs: a chirp, scaled down. */
function inputsOf(model: Model): Record<string, Feed> {
  return Object.fromEntries(
    model.inputs.map((t) => {
      const count = t.shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: count }, (_, k) => 0.3 * Math.sin(k * (0.02 + k * 1e-4)));
      return [t.name, { dtype: t.dtype, dims: t.shape, data }];
    }),
  );
}

function payloads(feeds: Record<string, Feed>): Payload[] {
  const tensors = Object.entries(feeds).map(([name, feed]) => ({
    name,
    shape: feed.dims,
    datatype: DATATYPE_OF[feed.dtype],
  }));
  const data = Object.values(feeds).map((feed) => feed.data as Float32Array);
  const json = { inputs: tensors.map((t, i) => ({ ...t, data: Array.from(data[i]) })) };
  const binary = binaryBody(
    {
      inputs: tensors.map((t, i) => ({ ...t, parameters: { binary_data_size: data[i].byteLength } })),
      parameters: { binary_data_output: true },
    },
    data,
  );
  return [
    {
      kind: 'JSON',
      body: new TextEncoder().encode(JSON.stringify(json)),
      headers: { 'Content-Type': 'application/json' },
    },
    {
      kind: 'binary',
      body: binary.body,
      headers: {
        'Content-Type': 'application/octet-stream',
        'Inference-Header-Content-Length': String(binary.headerLength),
      },
    },
  ];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** `count` timed calls after a warm-up, one at a time. */
async function timeLoop(what: string, count: number, call: () => Promise<unknown>): Promise<Row> {
  for (let i = 0; i < WARMUP; i++) await call();
  const times: number[] = [];
  const began = performance.now();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
  }
  const seconds = (performance.now() - began) / 1000;
  times.sort((a, b) => a - b);
  return { what, reqPerSec: count / seconds, p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** POSTs on one kept-alive connection, each resolving with the whole answer; non-200s are errors. */
function poster(url: string, payload: Payload) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const headers = { ...payload.headers, 'Content-Length': String(payload.body.byteLength) };
  const post = () =>
    new Promise<void>((done, fail) => {
      const req = request(url, { method: 'POST', agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          res.statusCode === 200
            ? done()
            : fail(new Error(`${payload.kind} request: ${res.statusCode} ${Buffer.concat(chunks)}`)),
        );
      });
      req.on('error', fail);
      req.end(payload.body);
    });
  return { post, close: () => agent.destroy() };
}

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}

/** autocannon's programmatic API (its CLI reads a body file as UTF-8, which breaks binary bodies). */
const runAutocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string;
  method: 'POST';
  connections: number;
  amount: number;
  headers: Record<string, string>;
  body: Buffer;
}) => Promise<AutocannonResult>;

async function autocannon(url: string, payload: Payload): Promise<AutocannonResult> {
  const result = await runAutocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    amount: HTTP_REQUESTS,
    headers: payload.headers,
    body: Buffer.from(payload.body),
  });
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0 || result['2xx'] !== HTTP_REQUESTS)
    throw new Error(
      `autocannon ${payload.kind}: ${failed} of ${HTTP_REQUESTS} failed (${result['2xx']} 2xx)`,
    );
  return result;
}

/** Starts `kiln serve DIR --port 0` in its own process and resolves its URL once it listens. */
function startServer(dir: string) {
  const child = spawn(process.execPath, [KILN, 'serve', dir, '--port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'ignore'], // stderr carries a JSON log line per request
  });
  const url = new Promise<string>((done, fail) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) done(match[1]);
    });
    child.once('exit', (code) => fail(new Error(`kiln serve exited (${code}) before listening:\n${out}`)));
  });
  return { child, url };
}

const ms = (x: number) => x.toFixed(3).padStart(8);

async function main() {
  const sample = voiceActivity();
  const work = mkdtempSync(join(tmpdir(), 'kiln-bench-serve-'));
  try {
    const dir = join(work, 'bundle');
    const compileArgs = [
      KILN,
      'compile',
      sample.file,
      '-o',
      dir,
      '--name',
      sample.name,
      ...sample.compileFlags,
    ];
    execFileSync(process.execPath, compileArgs, { stdio: 'inherit' });
    const model = await loadModel(dir);
    const feeds = inputsOf(model);
    const direct = await timeLoop('runtime, direct loop', DIRECT_RUNS, () => model.run(feeds));
    model.dispose();

    const server = startServer(dir);
    const rows: Row[] = [direct];
    const overheads: string[] = [];
    try {
      const endpoint = `${await server.url}/v2/models/${sample.name}/infer`;
      for (const payload of payloads(feeds)) {
        const client = poster(endpoint, payload);
        const single = await timeLoop(`serve ${payload.kind}, 1 conn`, HTTP_REQUESTS, client.post);
        client.close();
        rows.push(single);
        overheads.push(`${payload.kind} ${(((single.p50 - direct.p50) / direct.p50) * 100).toFixed(1)} %`);
        const loaded = await autocannon(endpoint, payload);
        rows.push({
          what: `serve ${payload.kind}, ${CONNECTIONS} conn *`,
          reqPerSec: loaded.requests.average,
          p50: loaded.latency.p50,
          p99: loaded.latency.p99,
        });
      }
    } finally {
      server.child.kill('SIGTERM');
    }

    console.log(`\n${sample.about}; ${DIRECT_RUNS} direct runs, ${HTTP_REQUESTS} requests per HTTP row`);
    console.log(`${'what'.padEnd(26)}${'req/s'.padStart(8)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`);
    for (const row of rows)
      console.log(
        `${row.what.padEnd(26)}${row.reqPerSec.toFixed(0).padStart(8)}  ${ms(row.p50)}  ${ms(row.p99)}`,
      );
    console.log('* autocannon (whole-ms latencies); other rows timed here with performance.now()');
    console.log(`serving overhead at p50, 1 connection vs the direct loop: ${overheads.join(', ')}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
