/**
 * The request campaign: hostile HTTP requests against a running `kiln serve` — bad JSON, data nested
 * 10,000 deep, wrong datatypes and shapes, bad element values, binary-extension lies, bodies over the
 * limit, malformed HTTP, odd routes, and slow clients — each on its own raw socket, so that nothing a
 * client library would refuse to send is left out.
 */
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBundle } from '../../src/bundle/node.js';
import { compileModel } from '../../src/compiler/compile.js';
import { mlpModel } from '../../tests/helpers/models.js';
import { seededRandom } from '../../tests/helpers/onnx-builder.js';
import { binaryBody } from '../../tests/serve/requests.js';
import { startServeProcess, type ServeProcess } from '../../tests/serve/serve-process.js';
import { oneLine, type CaseResult, type Outcome } from './outcomes.js';
import { seededSample } from './sample.js';

/**
 * `api`: a request the app itself must refuse with `{"error": "..."}` (or answer);
 * `http`: malformed HTTP that the server may refuse with a bare 4xx or by closing;
 * `slow`: a client that never finishes, which the server must cut off.
 */
type Expect = 'api' | 'http' | 'slow';

interface RequestCase {
  kind: string;
  expect: Expect;
  /** what is written to the socket; a slow client writes it and then waits */
  bytes: Uint8Array;
}

const MODEL = 'mlp';
const INFER = `/v2/models/${MODEL}/infer`;
/** The served limit on body size, small so that over-limit bodies stay cheap. */
const MAX_BODY_MB = 1;

const utf8 = (text: string) => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
};

/** An HTTP/1.1 request with `Connection: close` and, unless given, a correct Content-Length. */
function http(
  method: string,
  path: string,
  body: string | Uint8Array = '',
  headers: Record<string, string> = {},
) {
  const payload = typeof body === 'string' ? utf8(body) : body;
  const all = { Host: 'fuzz', Connection: 'close', 'Content-Length': String(payload.byteLength), ...headers };
  const head = Object.entries(all)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return concat(utf8(`${method} ${path} HTTP/1.1\r\n${head}\r\n`), payload);
}

function requestCases(rand: () => number): RequestCase[] {
  const values = (n: number) => Array.from({ length: n }, () => Math.round((rand() * 2 - 1) * 1000) / 1000);
  const input = (over: Record<string, unknown> = {}) => ({
    name: 'x',
    shape: [1, 64],
    datatype: 'FP32',
    data: values(64),
    ...over,
  });
  const valid = () => JSON.stringify({ inputs: [input()] });
  const cases: RequestCase[] = [];
  const api = (kind: string, body: string | Uint8Array, headers: Record<string, string> = {}, path = INFER) =>
    cases.push({
      kind,
      expect: 'api',
      bytes: http('POST', path, body, { 'Content-Type': 'application/json', ...headers }),
    });
  const raw = (kind: string, expect: Expect, bytes: string | Uint8Array) =>
    cases.push({ kind, expect, bytes: typeof bytes === 'string' ? utf8(bytes) : bytes });

  api('valid request', valid());
  // JSON that does not parse, or is not a request
  for (const body of [
    '',
    '{',
    '{"inputs":',
    'null',
    '[]',
    '42',
    '"inputs"',
    'true',
    '{"inputs":null}',
    '{"inputs":{}}',
  ])
    api(`bad JSON ${JSON.stringify(body)}`, body);
  api('bad JSON: [null] inputs', '{"inputs":[null]}');
  api('bad JSON: [1] inputs', '{"inputs":[1]}');
  api('bad JSON: trailing garbage', `${valid()}garbage`);
  api('bad JSON: a byte-order mark first', `\uFEFF${valid()}`);
  api('bad JSON: truncated request', valid().slice(0, 80));
  api('bad JSON: UTF-16', new Uint8Array(Buffer.from(valid(), 'utf16le')));
  api(
    'bad JSON: 4 KiB of random bytes',
    new Uint8Array(Array.from({ length: 4096 }, () => Math.floor(rand() * 256))),
  );
  api('bad JSON: objects nested 10000 deep', `${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}`);
  api('bad JSON: arrays opened 100000 deep', '['.repeat(100000));
  // data nested deep (a 500 before issue #15's fix)
  for (const depth of [2, 3, 100, 1000, 10000, 100000])
    api(
      `data nested ${depth} deep`,
      JSON.stringify({ inputs: [input({ data: [] })] }).replace(
        '"data":[]',
        `"data":${'['.repeat(depth)}${values(64)}${']'.repeat(depth)}`,
      ),
    );
  api('shape nested', JSON.stringify({ inputs: [input({ shape: [[[1]], [64]] })] }));
  api(
    'parameters nested 10000 deep',
    `{"parameters":${'{"a":'.repeat(10000)}1${'}'.repeat(10000)},"inputs":[${JSON.stringify(input())}]}`,
  );
  for (const datatype of [
    'FP64',
    'FP16',
    'INT64',
    'INT8',
    'UINT8',
    'BOOL',
    'BYTES',
    'fp32',
    '',
    'FLOAT32',
    42,
    null,
    {},
  ])
    api(`datatype ${JSON.stringify(datatype)}`, JSON.stringify({ inputs: [input({ datatype })] }));
  for (const shape of [
    [64],
    [1, 65],
    [2, 64],
    [-1, 64],
    [0, 64],
    [1, 0],
    [1e9, 64],
    [2 ** 53, 64],
    [2 ** 31, 2 ** 31],
    [1.5, 64],
    ['1', '64'],
    null,
    '1,64',
    [],
    [1, 64, 1],
    [1, -64],
  ])
    api(`shape ${JSON.stringify(shape)}`, JSON.stringify({ inputs: [input({ shape })] }));
  const badData: [string, unknown][] = [
    ['strings', Array(64).fill('abc')],
    ['nulls', Array(64).fill(null)],
    ['objects', Array(64).fill({})],
    ['booleans', Array(64).fill(true)],
    ['mixed', [...values(63), 'a']],
    ['"NaN" strings', Array(64).fill('NaN')],
    ['empty', []],
    ['65 values', values(65)],
    ['63 values', values(63)],
    ['a string', 'abc'],
    ['null', null],
    ['an object', { 0: 1 }],
  ];
  for (const [what, data] of badData) api(`data: ${what}`, JSON.stringify({ inputs: [input({ data })] }));
  api('data: 1e400 (infinite)', valid().replace(/"data":\[[^,]+/, '"data":[1e400'));
  api('data: -1e400', valid().replace(/"data":\[[^,]+/, '"data":[-1e400'));
  api('data: missing', JSON.stringify({ inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32' }] }));
  api(
    'data: a million values (over the body limit)',
    JSON.stringify({ inputs: [input({ data: values(1_000_000) })] }),
  );
  const structures: [string, unknown][] = [
    ['no inputs', {}],
    ['inputs empty', { inputs: [] }],
    ['inputs a string', { inputs: 'x' }],
    ['input twice', { inputs: [input(), input()] }],
    ['unknown input', { inputs: [input({ name: 'y' })] }],
    ['extra input', { inputs: [input(), input({ name: 'y' })] }],
    ['input name empty', { inputs: [input({ name: '' })] }],
    ['input name missing', { inputs: [{ ...input(), name: undefined }] }],
    ['unknown output', { inputs: [input()], outputs: [{ name: 'nope' }] }],
    ['outputs a string', { inputs: [input()], outputs: 'probs' }],
    ['output without name', { inputs: [input()], outputs: [{}] }],
    ['id an object', { id: {}, inputs: [input()] }],
    ['id of 100000 characters', { id: 'i'.repeat(100000), inputs: [input()] }],
    ['parameters an array', { parameters: [], inputs: [input()] }],
    [
      'binary_data_output not a boolean',
      { inputs: [input()], outputs: [{ name: 'probs', parameters: { binary_data_output: 'yes' } }] },
    ],
  ];
  for (const [what, body] of structures) api(`request: ${what}`, JSON.stringify(body));
  api('request: __proto__ key', `{"__proto__":{"inputs":[]},"inputs":[${JSON.stringify(input())}]}`);
  api('request: input named __proto__', JSON.stringify({ inputs: [input({ name: '__proto__' })] }));
  api(
    'request: constructor key',
    `{"constructor":{"prototype":{"x":1}},"inputs":[${JSON.stringify(input())}]}`,
  );

  // the binary tensor extension
  const floats = new Float32Array(values(64));
  const binary = (kind: string, header: unknown, parts: ArrayBufferView[], length?: string) => {
    const { body, headerLength } = binaryBody(header, parts);
    api(kind, body, {
      'Content-Type': 'application/octet-stream',
      'Inference-Header-Content-Length': length ?? String(headerLength),
    });
  };
  const binaryInput = (size: unknown, over: Record<string, unknown> = {}) => ({
    inputs: [
      { name: 'x', shape: [1, 64], datatype: 'FP32', parameters: { binary_data_size: size }, ...over },
    ],
  });
  binary('binary: valid request', binaryInput(256), [floats]);
  for (const length of ['-1', 'abc', '1000000000000', '0', '100000', ''])
    binary(
      `binary: Inference-Header-Content-Length ${JSON.stringify(length)}`,
      binaryInput(256),
      [floats],
      length,
    );
  for (const size of [100, 1000, -4, '256', 1e300])
    binary(`binary: binary_data_size ${JSON.stringify(size)}`, binaryInput(size), [floats]);
  binary('binary: datatype BYTES', binaryInput(256, { datatype: 'BYTES' }), [floats]);
  binary('binary: data given too', binaryInput(256, { data: values(64) }), [floats]);
  api('binary: header length on a JSON body', valid(), { 'Inference-Header-Content-Length': '20' });
  api(
    'binary output requested',
    JSON.stringify({
      inputs: [input()],
      outputs: [{ name: 'probs', parameters: { binary_data_output: true } }],
    }),
  );

  // bodies and their framing
  const big = JSON.stringify({ inputs: [input()], id: 'x'.repeat((MAX_BODY_MB << 20) * 2) });
  api('body: 2 MiB (over the 1 MiB limit)', big);
  const chunked = (body: string) => `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  api('body: 2 MiB chunked', chunked(big), { 'Content-Length': '', 'Transfer-Encoding': 'chunked' });
  api('body: Content-Length 10 GB, a short body', valid(), { 'Content-Length': String(10e9) });
  // framing that Node's HTTP parser refuses before the app sees it: a bare 400 is right there
  const framing = (kind: string, body: string, headers: Record<string, string>) =>
    raw(kind, 'http', http('POST', INFER, body, { 'Content-Type': 'application/json', ...headers }));
  framing('body: Content-Length -1', valid(), { 'Content-Length': '-1' });
  framing('body: Content-Length abc', valid(), { 'Content-Length': 'abc' });
  framing('body: Content-Length and chunked', chunked(valid()), { 'Transfer-Encoding': 'chunked' });
  framing('body: bad chunk size', `zz\r\n${valid()}\r\n0\r\n\r\n`, {
    'Content-Length': '',
    'Transfer-Encoding': 'chunked',
  });
  raw(
    'body: two different Content-Lengths',
    'http',
    http('POST', INFER, valid(), { 'Content-Length': `${valid().length}\r\nContent-Length: 3` }),
  );

  // routes and methods
  const route = (method: string, path: string, body = '') =>
    cases.push({
      kind: `route: ${method} ${oneLine(path, 40)}`,
      expect: 'api',
      bytes: http(method, path, body),
    });
  route('GET', '/v2/models/nope');
  route('POST', '/v2/models/nope/infer', valid());
  route('POST', `/v2/models/${MODEL}/versions/999/infer`, valid());
  route('POST', `/v2/models/${MODEL}/versions/..%2F..%2F/infer`, valid());
  route('POST', '/v2/models/%2e%2e/infer', valid());
  route('GET', INFER);
  route('POST', '/v2/health/ready', valid());
  route('PUT', INFER, valid());
  route('DELETE', '/');
  route('OPTIONS', INFER);
  route('POST', `/v2/models/${MODEL}%00/infer`, valid());
  route('GET', '/v2/models/mlp?a=%ZZ&b');
  route('POST', '/metrics', valid());

  // HTTP that does not parse
  raw('http: garbage line', 'http', 'GARBAGE\r\n\r\n');
  raw('http: no version', 'http', `GET ${INFER}\r\n\r\n`);
  raw('http: version 9.9', 'http', 'GET /v2 HTTP/9.9\r\nHost: fuzz\r\nConnection: close\r\n\r\n');
  raw('http: header without colon', 'http', 'GET /v2 HTTP/1.1\r\nHost fuzz\r\nConnection: close\r\n\r\n');
  raw(
    'http: control character in a header',
    'http',
    'GET /v2 HTTP/1.1\r\nHost: fuzz\r\nX-A: a\x01b\r\nConnection: close\r\n\r\n',
  );
  raw('http: a 100 KiB URL', 'http', http('GET', `/v2/models/${'m'.repeat(100 * 1024)}`));
  raw('http: a 100 KiB header', 'http', http('GET', '/v2', '', { 'X-Big': 'b'.repeat(100 * 1024) }));
  raw(
    'http: 10000 headers',
    'http',
    `GET /v2 HTTP/1.1\r\nHost: fuzz\r\n${'X-A: 1\r\n'.repeat(10000)}Connection: close\r\n\r\n`,
  );
  raw('http: HTTP/1.1 without Host', 'http', 'GET /v2 HTTP/1.1\r\nConnection: close\r\n\r\n');
  raw('http: HTTP/1.0', 'http', 'GET /v2 HTTP/1.0\r\n\r\n');
  raw('http: LF line endings', 'http', 'GET /v2 HTTP/1.1\nHost: fuzz\nConnection: close\n\n');
  raw(
    'http: NUL in the path',
    'http',
    'GET /v2\0/models HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n',
  );

  // slow clients: they never finish; the server has to cut them off
  raw('slow: half a header', 'slow', `POST ${INFER} HTTP/1.1\r\nHost: fuzz\r\n`);
  raw(
    'slow: a tenth of the body',
    'slow',
    http('POST', INFER, valid(), { 'Content-Length': String(valid().length * 10) }),
  );
  raw('slow: connects, sends nothing', 'slow', '');
  raw('slow: request line only', 'slow', `GET /v2 HTTP/1.1\r\n`);
  return cases;
}

interface Exchange {
  status?: number;
  body: string;
  /** the server closed the connection */
  closed: boolean;
}

/** Sends the bytes on a fresh connection; resolves on a whole response, the connection's end, or the deadline. */
function exchange(url: URL, request: RequestCase, deadlineMs: number): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = Buffer.alloc(0);
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseResponse(received), closed });
    };
    const timer = setTimeout(() => done(false), deadlineMs);
    socket.on('data', (d) => {
      received = Buffer.concat([received, d]);
      if (parseResponse(received).complete) done(false);
    });
    socket.on('close', () => done(true));
    socket.on('error', () => undefined); // a reset is seen as the close that follows it
    socket.write(request.bytes);
    // a slow client keeps its side open; the others have said all they will
    if (request.expect !== 'slow') socket.end();
  });
}

function parseResponse(bytes: Buffer): { status?: number; body: string; complete: boolean } {
  const text = bytes.toString('latin1');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  const split = text.indexOf('\r\n\r\n');
  if (!status || split < 0)
    return { status: status ? Number(status[1]) : undefined, body: '', complete: false };
  const head = text.slice(0, split).toLowerCase();
  let body = text.slice(split + 4);
  const length = /\ncontent-length: *(\d+)/.exec(head);
  let complete = length ? body.length >= Number(length[1]) : false;
  if (/\ntransfer-encoding: *chunked/.test(head)) {
    complete = /(^|\r\n)0\r\n\r\n$/.test(body);
    body = body.replace(/(^|\r\n)[0-9a-f]+\r\n/gi, '');
  }
  return { status: Number(status[1]), body: Buffer.from(body, 'latin1').toString('utf8'), complete };
}

function judge(request: RequestCase, ex: Exchange): { outcome: Outcome; detail: string } {
  if (ex.status === undefined) {
    if (!ex.closed)
      return { outcome: 'hang', detail: 'no answer and the connection still open at the deadline' };
    return request.expect === 'api'
      ? { outcome: 'unclear error', detail: 'connection closed without an answer' }
      : { outcome: 'clear error', detail: 'connection closed' };
  }
  const detail = `${ex.status} ${oneLine(ex.body, 160)}`;
  if (ex.status >= 500) return { outcome: '5xx', detail };
  if (ex.status < 400) return { outcome: 'success', detail };
  if (request.expect !== 'api') return { outcome: 'clear error', detail };
  try {
    const { error } = JSON.parse(ex.body) as { error?: unknown };
    if (typeof error === 'string' && error.trim() !== '') return { outcome: 'clear error', detail };
  } catch {
    // not JSON: unclear
  }
  return { outcome: 'unclear error', detail: `no {"error": "..."} body: ${detail}` };
}

export interface RequestOptions {
  count: number | undefined;
  seed: number;
  /** how long an ordinary request may take */
  requestMs: number;
  /** how long a slow client is given before the server must have cut it off */
  slowMs: number;
}

/** Starts `kiln serve` on a small MLP and sends it `count` of the cases (all when undefined), picked by `seed`. */
export async function fuzzRequests(
  options: RequestOptions,
  onResult: (result: CaseResult) => void,
): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kiln-fuzz-serve-'));
  const bundle = join(work, MODEL);
  await writeBundle(bundle, await compileModel(mlpModel(), { name: MODEL, shapes: { x: [1, 64] } }));
  const start = () => startServeProcess([bundle, '--port', '0', '--max-body-mb', String(MAX_BODY_MB)]);
  let server: ServeProcess = await start();
  const rand = seededRandom(options.seed);
  const all = requestCases(rand);
  const picked = seededSample(all, options.count, rand);
  const report = (i: number, judged: { outcome: Outcome; detail: string }) =>
    onResult({ id: `requests #${i}`, kind: picked[i].kind, ...judged });
  try {
    // slow clients wait out their deadline side by side while the other requests go one at a time
    const url = () => new URL(server.url);
    const slow = picked.flatMap((request, i) =>
      request.expect === 'slow'
        ? [exchange(url(), request, options.slowMs).then((ex) => report(i, judge(request, ex)))]
        : [],
    );
    for (const [i, request] of picked.entries()) {
      if (request.expect === 'slow') continue;
      const ex = await exchange(url(), request, options.requestMs);
      if (server.child.exitCode !== null || server.child.signalCode !== null) {
        report(i, { outcome: 'crash', detail: `kiln serve exited: ${oneLine(server.stdout().slice(-300))}` });
        server = await start();
      } else report(i, judge(request, ex));
    }
    await Promise.all(slow);
  } finally {
    server.child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}
