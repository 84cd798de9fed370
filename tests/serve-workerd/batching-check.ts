/** The check that a Worker batches: shared by the Worker's own tests and the Cloudflare deploy's. */
import { expect } from 'vitest';
import type { Model } from '../../src/runtime/index.js';
import type { RunningWorker } from './miniflare.js';

/**
 * `worker` serves "mlp" compiled at batch 4 with KILN_MAX_BATCH=4: three concurrent requests of 1, 2
 * and 1 rows fill one batch, so the model runs once, and each request gets its own rows of the
 * same rows run directly on `mlp4` (to float precision: the Worker may run the relaxed-SIMD module).
 */
export async function expectWorkerBatches(worker: RunningWorker, mlp4: Model): Promise<void> {
  const metadata = await worker.send('/v2/models/mlp');
  expect((await metadata.json()).inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 64] }]);
  const rows = [[0.5], [-1, 2], [3]].map((scales) =>
    scales.map((k) => Array.from({ length: 64 }, (_, i) => k * Math.sin(i * 0.37))),
  );
  const answers = await Promise.all(
    rows.map(async (data) => {
      const response = await worker.send('/v2/models/mlp/infer', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          inputs: [{ name: 'x', shape: [data.length, 64], datatype: 'FP32', data: data.flat() }],
        }),
      });
      const text = await response.text();
      expect(response.status, text).toBe(200);
      return JSON.parse(text).outputs[0];
    }),
  );
  const direct = await mlp4.run({
    x: { dtype: 'float32', dims: [4, 64], data: Float32Array.from(rows.flat(2)) },
  });
  const directRows = Array.from(direct.probs.data as Float32Array);
  let row = 0;
  for (const [k, answer] of answers.entries()) {
    expect(answer.shape).toEqual([rows[k].length, 10]);
    // the Worker runs model.relaxed.wasm (FMA), `mlp4` in this process model.wasm: equal to float precision
    const expected = directRows.slice(row * 10, (row + rows[k].length) * 10);
    expect(answer.data).toHaveLength(expected.length);
    (answer.data as number[]).forEach((p, i) => expect(Math.abs(p - expected[i])).toBeLessThan(1e-6));
    row += rows[k].length;
  }
  const metrics = await (await worker.send('/metrics')).text();
  expect(metrics).toMatch(/kiln_model_runs_total\{model="mlp",version=""\} 1\n/);
}
