/**
 * The Node server under load over real localhost HTTP: many concurrent requests all answered exactly
 * as the runtime answers, and a full queue refusing work with 503 + Retry-After while staying healthy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/runtime/index.js';
import { startNodeServer } from '../../src/serve/node.js';
import { compileMlp, gatedModel, type CompiledBundle } from './fixture.js';

let mlp: CompiledBundle;
beforeAll(async () => {
  mlp = await compileMlp();
});
afterAll(() => mlp?.cleanup());

/** A distinct input per request, so a response sent to the wrong request cannot pass. */
const inputOf = (i: number) => Float32Array.from({ length: 64 }, (_, k) => Math.sin(i * 0.7 + k * 0.13));
const requestOf = (i: number) =>
  JSON.stringify({
    id: `r${i}`,
    inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: Array.from(inputOf(i)) }],
  });
const direct = async (model: Model, i: number) =>
  Array.from(
    (await model.run({ x: { dtype: 'float32', dims: [1, 64], data: inputOf(i) } })).probs
      .data as Float32Array,
  );

/** The value of one sample line of a /metrics scrape. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no sample ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

describe('serving under load', () => {
  it('answers 400 requests at 16 concurrent with 0 errors, each equal to the runtime’s own result', async () => {
    const server = await startNodeServer({
      models: [{ name: 'mlp', model: mlp.model }],
      port: 0,
      host: '127.0.0.1',
      log: false,
    });
    try {
      const total = 400;
      const concurrency = 16;
      const answers: unknown[] = new Array(total);
      const failures: string[] = [];
      let next = 0;
      const worker = async () => {
        while (next < total) {
          const i = next++;
          const response = await fetch(`${server.url}/v2/models/mlp/infer`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: requestOf(i),
          });
          if (response.status !== 200)
            failures.push(`request ${i}: ${response.status} ${await response.text()}`);
          else answers[i] = await response.json();
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      expect(failures).toEqual([]);
      for (let i = 0; i < total; i++) {
        const answer = answers[i] as { id: string; outputs: { name: string; data: number[] }[] };
        expect(answer.id).toBe(`r${i}`);
        expect(answer.outputs[0].data).toEqual(await direct(mlp.model, i));
      }
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const labels = 'model="mlp",version=""';
      expect(sample(metrics, `kiln_inference_requests_total{${labels}}`)).toBe(total);
      expect(sample(metrics, `kiln_inference_failures_total{${labels}}`)).toBe(0);
      expect(sample(metrics, `kiln_queue_seconds_count{${labels}}`)).toBe(total);
    } finally {
      await server.close();
    }
  });

  it('refuses requests beyond a full queue with 503 + Retry-After, stays healthy, then serves again', async () => {
    const { model: slow, started: firstStarted, release } = gatedModel(mlp.model);
    const maxQueue = 4;
    const server = await startNodeServer({
      models: [{ name: 'mlp', model: slow }],
      port: 0,
      host: '127.0.0.1',
      log: false,
      maxQueue,
    });
    const post = (i: number) =>
      fetch(`${server.url}/v2/models/mlp/infer`, { method: 'POST', body: requestOf(i) }).then(async (r) => ({
        i,
        status: r.status,
        retryAfter: r.headers.get('Retry-After'),
        body: await r.json(),
      }));
    try {
      const first = post(0);
      await firstStarted;
      // 1 runs (held at the gate): of 15 more, `maxQueue` wait and the rest are refused at once
      const more = Array.from({ length: 15 }, (_, k) => post(k + 1));
      const refusedCount = 15 - maxQueue;
      const settled: Awaited<ReturnType<typeof post>>[] = [];
      await new Promise<void>((resolve) =>
        more.forEach((p) =>
          p.then((r) => {
            settled.push(r);
            if (settled.length === refusedCount) resolve();
          }),
        ),
      );
      for (const refused of settled) {
        expect(refused.status).toBe(503);
        expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(refused.body.error).toMatch(
          /^model "mlp" is busy: 1 running and 4 waiting \(the queue holds 4\)/,
        );
      }
      expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
      expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);

      release();
      const accepted = await Promise.all([first, ...more]).then((all) => all.filter((r) => r.status !== 503));
      expect(accepted).toHaveLength(1 + maxQueue);
      for (const answer of accepted) {
        expect(answer.status).toBe(200);
        expect(answer.body.outputs[0].data).toEqual(await direct(mlp.model, answer.i));
      }
      const after = await post(99);
      expect(after.status).toBe(200);
      expect(after.body.outputs[0].data).toEqual(await direct(mlp.model, 99));

      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const labels = 'model="mlp",version=""';
      expect(sample(metrics, `kiln_inference_failures_total{${labels}}`)).toBe(refusedCount);
      expect(sample(metrics, `kiln_queue_seconds_count{${labels}}`)).toBe(1 + maxQueue + 1);
      // the queued requests waited while the first was held at the gate
      expect(sample(metrics, `kiln_queue_seconds_sum{${labels}}`)).toBeGreaterThan(0);
    } finally {
      release();
      await server.close();
    }
  });
});
