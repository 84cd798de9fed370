/**
 * `npm run bench:serve [-- --model melspectrogram|silero_vad] [--rounds 3]`: what serving costs on top
 * of the runtime. Compiles a real ~1 ms model (openWakeWord's melspectrogram by default), then, for
 * each round: times `model.run` in a loop, and drives the real Node server (`kiln serve` on a free port
 * on 127.0.0.1, its own process) with JSON and with binary-extension requests over one keep-alive
 * connection. The overhead is a row's p50 against the same round's direct p50; the printed figures
 * are medians over the rounds. Last, autocannon with 16 connections measures throughput.
 *
 * The one-connection client is a minimal HTTP/1.1 client on a raw socket, as wrk's is: Node's own
 * http client spends ~0.1 ms per request on this side of the socket, which would be counted as
 * serving overhead. Every response is checked (status 200, and the first one's outputs equal the
 * runtime's) so a fast wrong answer cannot pass.
 *
 * The "bare node:http" row is the floor any Node server pays on this machine: the same binary request
 * answered by a minimal node:http handler (`--bare DIR`, its own process) with no checks, routing,
 * metrics or logs. Below it, the "TCP, no HTTP" row is the machine's own floor: the input bytes sent
 * length-prefixed over a raw socket to a process (`--raw DIR`) that runs the model and sends the output
 * bytes back the same way — what a loopback round trip between two processes costs here, before any
 * HTTP. On a virtual machine that round trip alone can be a tenth of a millisecond.
 *
 * Each one-connection row also gives the CPU time per request of the process that answered (Linux),
 * and the summary says how much of the served overhead is above that TCP floor — Kiln's HTTP layer
 * (node:http, Hono, the protocol's checks) rather than the machine's transport.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ELEMENT_ARRAY } from '../src/bundle/elements.js';
import { loadModel, type Feed, type Model, type Tensor } from '../src/runtime/index.js';
import { DATATYPE_OF } from '../src/serve/datatypes.js';
import { binaryBody } from '../tests/serve/requests.js';
import { melSpectrogram, voiceActivity, type SampleModel } from './sample-models.js';
import { cpuClock, mainThreadCpuMs, PROCESS_CLOCK_NOTE } from '../src/cli/cpu-time.js';
import { upperBounds } from '../src/bundle/shape-dims.js';

const ROOT = resolve(import.meta.dirname, '..');
const KILN = resolve(ROOT, 'bin/kiln.js');
const SAMPLES: Record<string, () => SampleModel> = {
  melspectrogram: melSpectrogram,
  silero_vad: voiceActivity,
};
const TIMED = 3000;
const WARMUP = 300;
const CONNECTIONS = 16;

interface Row {
  what: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  /** CPU time the serving process's main thread spent per request, in ms (Linux only) */
  cpu?: number;
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
      const dims = upperBounds(t.shape);
      const count = dims.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: count }, (_, k) => 0.3 * Math.sin(k * (0.02 + k * 1e-4)));
      return [t.name, { dtype: t.dtype, dims, data }];
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

/** The outputs a response carries, as float32 arrays by name (JSON data or the binary section). */
function responseOutputs(payload: Payload, response: HttpResponse): Record<string, Float32Array> {
  const headerLength = Number(response.headers['inference-header-content-length'] ?? response.body.length);
  const header = JSON.parse(response.body.subarray(0, headerLength).toString('utf8'));
  let at = headerLength;
  const outputs: Record<string, Float32Array> = {};
  for (const o of header.outputs as {
    name: string;
    data?: number[];
    parameters?: Record<string, number>;
  }[]) {
    if (o.data) outputs[o.name] = Float32Array.from(o.data);
    else {
      const size = o.parameters!.binary_data_size;
      outputs[o.name] = new Float32Array(new Uint8Array(response.body.subarray(at, at + size)).buffer);
      at += size;
    }
  }
  if (payload.kind === 'binary' && at !== response.body.length)
    throw new Error(`binary response: ${response.body.length - at} bytes left after the outputs`);
  return outputs;
}

function checkAgrees(payload: Payload, response: HttpResponse, expected: Record<string, Tensor>): void {
  const got = responseOutputs(payload, response);
  for (const [name, tensor] of Object.entries(expected)) {
    const want = tensor.data as Float32Array;
    const have = got[name];
    if (!have || have.length !== want.length || have.some((v, i) => !Object.is(v, want[i])))
      throw new Error(`${payload.kind} response: output "${name}" differs from the runtime's`);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/** `TIMED` timed calls after a warm-up, one at a time; `pid` runs them (the server, or this process). */
async function timeLoop(what: string, pid: number, call: () => Promise<unknown>): Promise<Row> {
  for (let i = 0; i < WARMUP; i++) await call();
  const times: number[] = [];
  const cpuBefore = mainThreadCpuMs(pid);
  const began = performance.now();
  for (let i = 0; i < TIMED; i++) {
    const t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
  }
  const seconds = (performance.now() - began) / 1000;
  const cpuAfter = mainThreadCpuMs(pid);
  times.sort((a, b) => a - b);
  return {
    what,
    reqPerSec: TIMED / seconds,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    cpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / TIMED,
  };
}

interface HttpResponse {
  status: number;
  /** lower-cased names */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Requests one at a time on one kept-alive socket: writes the request bytes, reads the status line,
 * headers and a Content-Length body (the server always sends one), and resolves.
 */
async function rawClient(url: URL) {
  const socket: Socket = connect(Number(url.port), url.hostname);
  socket.setNoDelay(true);
  await new Promise<void>((done, fail) => socket.once('connect', done).once('error', fail));
  let pending: { done: (r: HttpResponse) => void; fail: (e: Error) => void } | undefined;
  let buffered: Buffer = Buffer.alloc(0);
  let closed: Error | undefined;
  const failAll = (err: Error) => pending?.fail(err);
  socket.on('error', failAll);
  socket.on('close', () => failAll((closed = new Error('the server closed the connection'))));
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf('\r\n\r\n');
    if (end === -1 || !pending) return;
    const [statusLine, ...lines] = buffered.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    if (headers['content-length'] === undefined)
      return pending.fail(new Error(`the response has no Content-Length: ${statusLine}`));
    const total = end + 4 + Number(headers['content-length']);
    if (buffered.length < total) return;
    const response = {
      status: Number(statusLine.split(' ')[1]),
      headers,
      body: buffered.subarray(end + 4, total),
    };
    buffered = buffered.subarray(total);
    const { done } = pending;
    pending = undefined;
    done(response);
  });
  const send = (payload: Payload) => {
    const head = Object.entries({ ...payload.headers, 'Content-Length': String(payload.body.byteLength) })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    const request = Buffer.concat([
      Buffer.from(`POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n${head}\r\n`, 'latin1'),
      payload.body,
    ]);
    return () =>
      new Promise<HttpResponse>((done, fail) => {
        if (closed) return fail(closed);
        pending = { done, fail };
        socket.write(request);
      }).then((response) => {
        if (response.status !== 200)
          throw new Error(`${payload.kind} request: ${response.status} ${response.body.toString()}`);
        return response;
      });
  };
  return { send, close: () => socket.destroy() };
}

/** Times `payload` on a fresh connection (one left idle meanwhile meets the server's keep-alive timeout). */
async function timeServed(what: string, pid: number, url: URL, payload: Payload): Promise<Row> {
  const client = await rawClient(url);
  try {
    return await timeLoop(what, pid, client.send(payload));
  } finally {
    client.close();
  }
}

async function sendOnce(url: URL, payload: Payload): Promise<HttpResponse> {
  const client = await rawClient(url);
  try {
    return await client.send(payload)();
  } finally {
    client.close();
  }
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
    amount: TIMED,
    headers: payload.headers,
    body: Buffer.from(payload.body),
  });
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0 || result['2xx'] !== TIMED)
    throw new Error(`autocannon ${payload.kind}: ${failed} of ${TIMED} failed (${result['2xx']} 2xx)`);
  return result;
}

/** Starts a server in its own process and resolves its URL once it prints that it listens. */
function startServer(args: string[]) {
  const child = spawn(process.execPath, args, {
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
    child.once('exit', (code) =>
      fail(new Error(`${args.join(' ')} exited (${code}) before listening:\n${out}`)),
    );
  });
  return { child, url };
}

/** `--bare DIR`: the floor server (see the top of this file); binary requests only, nothing checked. */
async function bareServer(dir: string) {
  const model = await loadModel(dir);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const headerLength = Number(req.headers['inference-header-content-length']);
      const header = JSON.parse(body.subarray(0, headerLength).toString());
      const feeds: Record<string, Feed> = {};
      let at = headerLength;
      for (const input of header.inputs) {
        const { dtype } = model.inputs.find((t) => t.name === input.name)!;
        const shape = upperBounds(model.inputs.find((t) => t.name === input.name)!.shape);
        // an aligned copy
        const bytes = new Uint8Array(body.subarray(at, (at += input.parameters.binary_data_size)));
        feeds[input.name] = {
          dtype,
          dims: shape,
          data: new ELEMENT_ARRAY[dtype](
            bytes.buffer,
            0,
            bytes.length / ELEMENT_ARRAY[dtype].BYTES_PER_ELEMENT,
          ),
        };
      }
      const outputs = Object.entries(await model.run(feeds));
      const json = Buffer.from(
        JSON.stringify({
          model_name: model.name,
          outputs: outputs.map(([name, t]) => ({
            name,
            shape: t.dims,
            datatype: DATATYPE_OF[t.dtype],
            parameters: { binary_data_size: t.data.byteLength },
          })),
        }),
      );
      const response = Buffer.concat([
        json,
        ...outputs.map(([, t]) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
      ]);
      res.writeHead(200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': response.length,
        'Inference-Header-Content-Length': json.length,
      });
      res.end(response);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    console.log(`listening on http://127.0.0.1:${port}`);
  });
}

/** Length-prefixed frames on a socket: a 4-byte little-endian byte count, then the bytes. */
function frameReader(socket: Socket, onFrame: (frame: Buffer) => void) {
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32LE(0)) {
      const end = 4 + buffered.readUInt32LE(0);
      onFrame(buffered.subarray(4, end));
      buffered = buffered.subarray(end);
    }
  });
}

function frame(parts: Uint8Array[]): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(parts.reduce((n, p) => n + p.byteLength, 0));
  return Buffer.concat([length, ...parts]);
}

/** `--raw DIR`: the machine's floor; a frame holds the inputs' bytes in order, the answer the outputs'. */
async function rawServer(dir: string) {
  const model = await loadModel(dir);
  const server = createTcpServer((socket) => {
    socket.setNoDelay(true);
    frameReader(socket, async (request) => {
      const feeds: Record<string, Feed> = {};
      let at = 0;
      for (const { name, dtype, shape: declared } of model.inputs) {
        const Array = ELEMENT_ARRAY[dtype];
        const shape = upperBounds(declared);
        const count = shape.reduce((a, b) => a * b, 1);
        const bytes = new Uint8Array(request.subarray(at, (at += count * Array.BYTES_PER_ELEMENT)));
        feeds[name] = { dtype, dims: shape, data: new Array(bytes.buffer, 0, count) };
      }
      const outputs = Object.values(await model.run(feeds));
      socket.write(
        frame(outputs.map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))),
      );
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    console.log(`listening on http://127.0.0.1:${port}`);
  });
}

/** One frame at a time to the `--raw` server; each answer must equal the runtime's outputs. */
async function timeRaw(
  what: string,
  pid: number,
  url: URL,
  feeds: Record<string, Feed>,
  expected: Record<string, Tensor>,
) {
  const socket = connect(Number(url.port), url.hostname);
  socket.setNoDelay(true);
  await new Promise<void>((done, fail) => socket.once('connect', done).once('error', fail));
  const want = Buffer.concat(
    Object.values(expected).map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
  );
  let answered: ((frame: Buffer) => void) | undefined;
  frameReader(socket, (answer) => answered?.(answer));
  const request = frame(
    Object.values(feeds).map((f) => {
      const data = f.data as ArrayBufferView;
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }),
  );
  try {
    return await timeLoop(what, pid, async () => {
      const answer = await new Promise<Buffer>((done) => {
        answered = done;
        socket.write(request);
      });
      if (!answer.equals(want)) throw new Error('the raw TCP server answered other outputs than the runtime');
    });
  } finally {
    socket.destroy();
  }
}

const ms = (x: number) => x.toFixed(3).padStart(8);
const percent = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`;

async function main() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'melspectrogram' },
      rounds: { type: 'string', default: '3' },
      bare: { type: 'string' },
      raw: { type: 'string' },
    },
  });
  if (values.bare !== undefined) return bareServer(values.bare);
  if (values.raw !== undefined) return rawServer(values.raw);
  const pick = SAMPLES[values.model!];
  if (!pick)
    throw new Error(`--model must be one of ${Object.keys(SAMPLES).join(', ')}, got "${values.model}"`);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number ≥ 1`);
  const sample = pick();
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
    const expected = await model.run(feeds);
    const kinds = payloads(feeds);

    const server = startServer([KILN, 'serve', dir, '--port', '0', '--host', '127.0.0.1']);
    const bare = startServer(['--import', 'tsx', import.meta.filename, '--bare', dir]);
    const raw = startServer(['--import', 'tsx', import.meta.filename, '--raw', dir]);
    const perRound: Row[][] = [];
    const loaded: Row[] = [];
    try {
      const path = `/v2/models/${sample.name}/infer`;
      const endpoint = `${await server.url}${path}`;
      const bareUrl = new URL(`${await bare.url}${path}`);
      const rawUrl = new URL(await raw.url);
      const binary = kinds.find((p) => p.kind === 'binary')!;
      for (const payload of kinds) checkAgrees(payload, await sendOnce(new URL(endpoint), payload), expected);
      checkAgrees(binary, await sendOnce(bareUrl, binary), expected);
      for (let round = 0; round < rounds; round++) {
        const rows = [await timeLoop('runtime, direct loop', process.pid, () => model.run(feeds))];
        for (const payload of kinds)
          rows.push(
            await timeServed(`serve ${payload.kind}, 1 conn`, server.child.pid!, new URL(endpoint), payload),
          );
        rows.push(await timeServed('bare node:http binary', bare.child.pid!, bareUrl, binary));
        rows.push(await timeRaw('TCP, no HTTP', raw.child.pid!, rawUrl, feeds, expected));
        perRound.push(rows);
      }
      for (const payload of kinds) {
        const result = await autocannon(endpoint, payload);
        loaded.push({
          what: `serve ${payload.kind}, ${CONNECTIONS} conn *`,
          reqPerSec: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
        });
      }
    } finally {
      server.child.kill('SIGTERM');
      bare.child.kill('SIGTERM');
      raw.child.kill('SIGTERM');
      model.dispose();
    }

    const rows = perRound[0].map((first, k) => ({
      what: first.what,
      reqPerSec: median(perRound.map((r) => r[k].reqPerSec)),
      p50: median(perRound.map((r) => r[k].p50)),
      p99: median(perRound.map((r) => r[k].p99)),
      cpu: first.cpu === undefined ? undefined : median(perRound.map((r) => r[k].cpu!)),
    }));
    const hasCpu = rows.every((row) => row.cpu !== undefined);
    const at = (what: string) => rows.findIndex((row) => row.what === what);
    /** per round, `above`'s figure minus `below`'s, in % of the direct loop's; the median and each round's */
    const share = (above: number, below: number, figure: 'p50' | 'cpu') => {
      const each = perRound.map((r) => ((r[above][figure]! - r[below][figure]!) / r[0][figure]!) * 100);
      return { median: median(each), rounds: each.map(percent).join(', ') };
    };
    const overheadLine = (label: string, above: number, below: number) => {
      const latency = share(above, below, 'p50');
      const cpu = hasCpu ? share(above, below, 'cpu') : undefined;
      return `${label.padEnd(34)}${percent(latency.median).padStart(9)}${cpu ? percent(cpu.median).padStart(11) : ''}   (p50 by round: ${latency.rounds})`;
    };
    console.log(
      `\n${sample.about}; ${TIMED} timed calls per row after ${WARMUP} warm-up, median of ${rounds} rounds`,
    );
    console.log(
      `${'what'.padEnd(26)}${'req/s'.padStart(8)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${hasCpu ? 'CPU ms/req'.padStart(12) : ''}`,
    );
    for (const row of [...rows, ...loaded])
      console.log(
        `${row.what.padEnd(26)}${row.reqPerSec.toFixed(0).padStart(8)}  ${ms(row.p50)}  ${ms(row.p99)}${row.cpu === undefined ? '' : `    ${ms(row.cpu)}`}`,
      );
    console.log('* autocannon (whole-ms latencies); other rows timed here with performance.now()');
    if (hasCpu)
      console.log(
        "CPU ms/req: the serving process's main thread per request (the direct loop: this process's per call)" +
          (cpuClock.kind === 'process' ? `; the direct loop's: ${PROCESS_CLOCK_NOTE}` : ''),
      );
    console.log(
      `\noverhead, in % of the direct loop (1 connection)${' '.repeat(4)}p50${hasCpu ? '        CPU' : ''}`,
    );
    for (let k = 1; k < rows.length; k++)
      console.log(`  ${overheadLine(`${rows[k].what.replace(', 1 conn', '')} vs direct`, k, 0)}`);
    const floor = at('TCP, no HTTP');
    console.log(
      `  ${overheadLine('serve binary over the TCP floor', at('serve binary, 1 conn'), floor)}\n  ${overheadLine('  of which node:http', at('bare node:http binary'), floor)}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
