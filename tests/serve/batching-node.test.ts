/**
 * Dynamic batching over real HTTP: the Node server batching concurrent requests, and `kiln serve
 * --max-batch --batch-delay-ms --backend` with its start-up checks.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeServer } from '../../src/serve/node.js';
import { startServeProcess } from './serve-process.js';
import { compileMlp, ROOT, type CompiledBundle } from './fixture.js';

let mlp8: CompiledBundle;
let mlp1: CompiledBundle;
beforeAll(async () => {
  [mlp8, mlp1] = await Promise.all([compileMlp(8), compileMlp()]);
});
afterAll(async () => {
  await mlp8?.cleanup();
  await mlp1?.cleanup();
});

const rowsOf = (request: number, rows: number) =>
  Float32Array.from({ length: rows * 64 }, (_, k) => Math.cos(request * 2.3 + k * 0.17));

/** What the batch-1 compile gives for each row alone. */
async function rowByRow(data: Float32Array): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < data.length / 64; r++) {
    const row = data.slice(r * 64, (r + 1) * 64);
    const { probs } = await mlp1.model.run({ x: { dtype: 'float32', dims: [1, 64], data: row } });
    out.push(...(probs.data as Float32Array));
  }
  return out;
}

const post = (url: string, data: Float32Array) =>
  fetch(`${url}/v2/models/mlp/infer`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      inputs: [{ name: 'x', shape: [data.length / 64, 64], datatype: 'FP32', data: Array.from(data) }],
    }),
  });

function expectRowsClose(got: number[], expected: number[]) {
  expect(got.length).toBe(expected.length);
  for (let k = 0; k < got.length; k++) expect(got[k]).toBeCloseTo(expected[k], 6);
}

const kiln = (...args: string[]) =>
  new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(process.execPath, ['bin/kiln.js', 'serve', ...args], { cwd: ROOT }, (err, _out, stderr) =>
      resolve({ code: err ? Number(err.code) : 0, stderr }),
    ),
  );

describe('batching on the Node server', () => {
  it('answers concurrent requests of 1, 2, 3 and 2 rows each with its own rows', async () => {
    const server = await startNodeServer({
      models: [{ name: 'mlp', model: mlp8.model, batching: { maxBatch: 8, delayMs: 20 } }],
      port: 0,
      host: '127.0.0.1',
      log: false,
    });
    try {
      const inputs = [1, 2, 3, 2].map((rows, i) => rowsOf(i, rows));
      const responses = await Promise.all(inputs.map((data) => post(server.url, data)));
      for (const [i, response] of responses.entries()) {
        expect(response.status).toBe(200);
        const [output] = (await response.json()).outputs;
        expect(output.shape).toEqual([inputs[i].length / 64, 10]);
        expectRowsClose(output.data, await rowByRow(inputs[i]));
      }
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      // however the four arrived, their rows all ran: 8 rows over at most 4 runs
      expect(metrics).toMatch(/^kiln_batch_size_sum\{model="mlp",version=""\} 8$/m);
      expect(metrics).toMatch(/^kiln_model_runs_total\{model="mlp",version=""\} [1-4]$/m);
    } finally {
      await server.close();
    }
  });
});

describe('kiln serve --max-batch', () => {
  it('serves a bundle compiled at the max batch with -1 in its metadata, and stops on SIGTERM', async () => {
    const {
      child,
      url,
      stdout: printed,
      exited,
    } = await startServeProcess([
      mlp8.dir,
      '--port',
      '0',
      '--max-batch',
      '8',
      '--batch-delay-ms',
      '1',
      '--backend',
      'auto',
    ]);
    const stdout = printed();
    try {
      expect(stdout).toMatch(/serving mlp from .* \(wasm\):/);
      expect(stdout).toContain('batching up to 8 rows, waiting up to 1 ms for a batch to fill');
      const metadata = await (await fetch(`${url}/v2/models/mlp`)).json();
      expect(metadata.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 64] }]);
      const data = rowsOf(5, 3);
      const response = await post(url, data);
      expect(response.status).toBe(200);
      expectRowsClose((await response.json()).outputs[0].data, await rowByRow(data));
      const tooMany = await post(url, rowsOf(6, 9));
      expect(tooMany.status).toBe(400);
      expect((await tooMany.json()).error).toMatch(
        /has 9 rows but model "mlp" takes 1 to 8 rows per request/,
      );
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('refuses a bundle not compiled at the max batch, and bad batching or backend flags, with clear errors', async () => {
    const [notBatched, delayAlone, badBatch, badBackend, webgpu] = await Promise.all([
      kiln(mlp1.dir, '--port', '0', '--max-batch', '8'),
      kiln(mlp8.dir, '--batch-delay-ms', '5'),
      kiln(mlp8.dir, '--max-batch', '0'),
      kiln(mlp8.dir, '--backend', 'cuda'),
      kiln(mlp8.dir, '--port', '0', '--backend', 'webgpu'),
    ]);
    expect(notBatched.code).toBe(1);
    expect(notBatched.stderr).toMatch(
      /model "mlp": input "x" has shape \[1,64\], but batching with max batch 8 needs every input and output to lead with 8; compile it with --shape NAME=8,\.\.\. or --dim, or serve it without --max-batch/,
    );
    expect(delayAlone.code).toBe(2);
    expect(delayAlone.stderr).toContain('--batch-delay-ms needs --max-batch');
    expect(badBatch.code).toBe(2);
    expect(badBatch.stderr).toContain('--max-batch must be an integer ≥ 1, got "0"');
    expect(badBackend.code).toBe(2);
    expect(badBackend.stderr).toContain('--backend must be one of auto, wasm, webgpu, got "cuda"');
    expect(webgpu.code).toBe(1);
    expect(webgpu.stderr).toContain('the bundle was built without the webgpu target (targets: wasm)');
  });
});
