/**
 * `kiln serve` against clients that hold connections: a slow-loris head, a body that never ends, an
 * idle kept-alive connection, and more connections than the cap. Small limits through the flags; the
 * only thing waited for is each connection's end, never a clock.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileMlp, ROOT, type CompiledBundle } from './fixture.js';
import { startServeProcess } from './serve-process.js';

let mlp: CompiledBundle;
let expected: number[];
const X = Array.from({ length: 64 }, (_, i) => Math.cos(i));
beforeAll(async () => {
  mlp = await compileMlp();
  const feeds = { x: { dtype: 'float32' as const, dims: [1, 64], data: Float32Array.from(X) } };
  expected = Array.from((await mlp.model.run(feeds)).probs.data as Float32Array);
});
afterAll(() => mlp?.cleanup());

const INFER_HEAD = 'POST /v2/models/mlp/infer HTTP/1.1\r\nHost: kiln\r\n';

/**
 * A raw TCP client that writes `head` and, with `trickle`, one more header line every 50 ms for as long
 * as the server keeps it; `closed` resolves with everything the server sent once the connection ends.
 */
function rawClient(port: number, head: string, trickle = false) {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk));
  socket.on('error', () => {}); // a reset, or a write after the server closed: the connection ended
  const connected = new Promise((resolve) => socket.once('connect', resolve));
  socket.write(head);
  const timer = trickle ? setInterval(() => socket.write('X-Slow: 1\r\n'), 50) : undefined;
  const closed = new Promise<string>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      resolve(received);
    }),
  );
  return { socket, connected, closed };
}

async function infer(url: string): Promise<number[]> {
  const response = await fetch(`${url}/v2/models/mlp/infer`, {
    method: 'POST',
    body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: X }] }),
  });
  expect(response.status).toBe(200);
  return (await response.json()).outputs[0].data;
}

describe('kiln serve and slow clients', () => {
  it('cuts off slow heads and bodies with 408 and closes idle connections, while answering the rest', async () => {
    const served = await startServeProcess([
      mlp.dir,
      '--port',
      '0',
      '--header-timeout-ms',
      '1000',
      '--request-timeout-ms',
      '2000',
      '--idle-timeout-ms',
      '1000',
    ]);
    try {
      const port = Number(new URL(served.url).port);
      const slowHeads = Array.from({ length: 5 }, () => rawClient(port, INFER_HEAD, true));
      const slowBody = rawClient(port, `${INFER_HEAD}Content-Length: 1000\r\n\r\n{"inputs":`);
      const idle = rawClient(port, 'GET /v2/health/live HTTP/1.1\r\nHost: kiln\r\n\r\n');
      for (let i = 0; i < 5; i++) expect(await infer(served.url)).toEqual(expected);
      for (const client of [...slowHeads, slowBody])
        expect(await client.closed).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      // answered, then closed once idle; a kept-alive connection is not held open
      expect(await idle.closed).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\{"live":true\}$/);
      expect(await infer(served.url)).toEqual(expected);
    } finally {
      served.child.kill('SIGTERM');
    }
    expect(await served.exited).toBe(0);
  });

  it('closes connections past --max-connections at once, and serves again once clients leave', async () => {
    const served = await startServeProcess([mlp.dir, '--port', '0', '--max-connections', '2']);
    try {
      const port = Number(new URL(served.url).port);
      const holding = [rawClient(port, INFER_HEAD), rawClient(port, INFER_HEAD)];
      await Promise.all(holding.map((client) => client.connected));
      const refused = rawClient(port, 'GET /v2/health/live HTTP/1.1\r\nHost: kiln\r\n\r\n');
      expect(await refused.closed).toBe('');
      for (const client of holding) client.socket.destroy();
      await Promise.all(holding.map((client) => client.closed));
      // the server sees the two leave a moment after they have: until then it refuses the newcomer
      for (;;) {
        const retry = rawClient(
          port,
          'GET /v2/health/live HTTP/1.1\r\nHost: kiln\r\nConnection: close\r\n\r\n',
        );
        const answer = await retry.closed;
        if (answer === '') {
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        break;
      }
      expect(await infer(served.url)).toEqual(expected);
    } finally {
      served.child.kill('SIGTERM');
    }
    expect(await served.exited).toBe(0);
  });

  it('refuses a header timeout longer than the request timeout', async () => {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ['bin/kiln.js', 'serve', mlp.dir, '--header-timeout-ms', '5000', '--request-timeout-ms', '1000'],
        { cwd: ROOT },
        (err, _o, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }),
      ),
    );
    expect(code).toBe(2);
    expect(stderr).toContain('--header-timeout-ms (5000) must not exceed --request-timeout-ms (1000)');
  });
});
