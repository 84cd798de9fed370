/** The Node adapter and `kiln serve`: real HTTP, the printed curl command, and a graceful stop. */
import { spawn, execFile } from 'node:child_process';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeServer } from '../../src/serve/node.js';
import { compileMlp, gatedModel, ROOT, type CompiledBundle } from './fixture.js';

let mlp: CompiledBundle;
beforeAll(async () => {
  mlp = await compileMlp();
});
afterAll(() => mlp?.cleanup());

const X = Array.from({ length: 64 }, (_, i) => Math.cos(i));
const request = { inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: X }] };
const expectedProbs = async () =>
  Array.from(
    (await mlp.model.run({ x: { dtype: 'float32', dims: [1, 64], data: Float32Array.from(X) } })).probs
      .data as Float32Array,
  );

describe('startNodeServer', () => {
  it('finishes an in-flight request when stopped, then stops listening', async () => {
    const { model: slow, started: inFlight, release } = gatedModel(mlp.model);
    const server = await startNodeServer({
      models: [{ name: 'mlp', model: slow }],
      port: 0,
      host: '127.0.0.1',
      log: false,
    });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const response = fetch(`${server.url}/v2/models/mlp/infer`, {
      method: 'POST',
      body: JSON.stringify(request),
    });
    await inFlight;
    let stopped = false;
    const closing = server.close().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    release();
    const answer = await response;
    expect(answer.status).toBe(200);
    expect((await answer.json()).outputs[0].data).toEqual(await expectedProbs());
    await closing;
    await expect(fetch(`${server.url}/v2/health/live`)).rejects.toThrow();
  });
});

/** One request through `agent`, answered in full; `reused` says whether it went on a kept-alive connection. */
function send(
  agent: Agent,
  url: string,
  method: 'GET' | 'POST',
  body?: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent, method }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: text, reused: req.reusedSocket }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('startNodeServer while it drains', () => {
  it('answers new requests on kept-alive connections 503 with Connection: close, not a reset', async () => {
    const { model: slow, started: inFlight, release } = gatedModel(mlp.model);
    const server = await startNodeServer({
      models: [{ name: 'mlp', model: slow }],
      port: 0,
      host: '127.0.0.1',
      log: false,
    });
    const agent = new Agent({ keepAlive: true });
    try {
      const infer = `${server.url}/v2/models/mlp/infer`;
      const running = send(agent, infer, 'POST', JSON.stringify(request));
      await inFlight;
      // a second connection, kept alive and idle when the stop begins
      expect((await send(agent, `${server.url}/v2/health/live`, 'GET')).status).toBe(200);
      const closing = server.close();

      const refused = await send(agent, infer, 'POST', JSON.stringify(request));
      expect(refused.reused).toBe(true);
      expect(refused.status).toBe(503);
      expect(refused.headers.connection).toBe('close');
      expect(JSON.parse(refused.body)).toEqual({ error: 'not ready: the server is shutting down' });

      release();
      const finished = await running;
      expect(finished.status).toBe(200);
      expect(finished.headers.connection).toBe('close');
      expect(JSON.parse(finished.body).outputs[0].data).toEqual(await expectedProbs());
      await closing;
      await expect(fetch(`${server.url}/v2/health/live`)).rejects.toThrow();
    } finally {
      release();
      agent.destroy();
      await server.close();
    }
  });
});

describe('kiln serve', () => {
  it('serves a bundle over HTTP, prints a working curl command, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/kiln.js', 'serve', mlp.dir, '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, KILN_API_KEY: 'k3y' },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        const match = /listening on (http:\/\/\S+)/.exec(stdout);
        if (match && stdout.includes('--data-binary @-')) resolve(match[1]);
      });
      exited.then(() => reject(new Error(`kiln serve exited early:\n${stdout}\n${stderr}`)));
    });
    expect(stdout).toMatch(/serving mlp from .*: x FP32\[1,64\] → probs FP32\[1,10\]/);

    const infer = `${url}/v2/models/mlp/infer`;
    expect((await fetch(infer, { method: 'POST', body: JSON.stringify(request) })).status).toBe(401);
    const answer = await fetch(infer, {
      method: 'POST',
      body: JSON.stringify(request),
      headers: { Authorization: 'Bearer k3y', 'Content-Type': 'application/json' },
    });
    expect(answer.status).toBe(200);
    expect((await answer.json()).outputs[0].data).toEqual(await expectedProbs());

    const curl = stdout
      .split('\n')
      .find((l) => l.includes('| curl'))!
      .trim();
    const printed = await new Promise<string>((resolve, reject) =>
      execFile('bash', ['-c', curl], { env: { ...process.env, KILN_API_KEY: 'k3y' } }, (err, out) =>
        err ? reject(err) : resolve(out),
      ),
    );
    const zeros = await mlp.model.run({ x: { dtype: 'float32', dims: [1, 64], data: new Float32Array(64) } });
    expect(JSON.parse(printed).outputs[0].data).toEqual(Array.from(zeros.probs.data as Float32Array));

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/SIGTERM: finishing in-flight requests and stopping\nkiln: stopped\n$/);
    // one JSON log line per request
    const logs = stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(logs.map((l) => l.status)).toEqual([401, 200, 200]);
  });

  it('refuses a missing directory, a bad port and an empty KILN_API_KEY with clear errors', async () => {
    const runWith = (env: NodeJS.ProcessEnv, ...args: string[]) =>
      new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          ['bin/kiln.js', 'serve', ...args],
          { cwd: ROOT, env: { ...process.env, ...env } },
          (err, _out, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }),
        ),
      );
    const run = (...args: string[]) => runWith({}, ...args);
    const noDir = await run();
    expect(noDir).toMatchObject({ code: 2 });
    expect(noDir.stderr).toMatch(/kiln: missing bundle DIR\nusage: kiln serve DIR\.\.\./);
    const badPort = await run(mlp.dir, '--port', '70000');
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toMatch(/--port must be at most 65535/);
    const twice = await run(mlp.dir, mlp.dir, '--port', '0');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/two bundles are both named "mlp"/);
    const emptyKey = await runWith({ KILN_API_KEY: '' }, mlp.dir, '--port', '0');
    expect(emptyKey.code).toBe(1);
    expect(emptyKey.stderr).toMatch(/^kiln: KILN_API_KEY is set but empty, which would serve without auth/);
  });
});
