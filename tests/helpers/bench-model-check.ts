/** A generated benchmark-shaped model (scripts/bench-models.ts, scripts/perf/survey-models.ts) against onnxruntime-node. */
import { expect } from 'vitest';
import { benchFeed, type BenchModel } from '../../scripts/bench-models.js';
import { compareTensors } from '../../scripts/compare.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { runKiln, runOrt } from './ort-oracle.js';

/** Kiln, compiled at the model's bench shapes, gives onnxruntime-node's outputs (rtol 1e-3, atol 1e-4). */
export async function expectMatchesOrt(m: BenchModel): Promise<void> {
  const feeds: Record<string, HostTensor> = Object.fromEntries(m.inputs.map((i) => [i.name, benchFeed(i)]));
  const shapes = Object.fromEntries(m.inputs.map((i) => [i.name, i.dims]));
  const theirs = await runOrt(m.bytes, feeds);
  const ours = await runKiln(m.bytes, feeds, { shapes });
  for (const [out, expected] of Object.entries(theirs))
    expect(compareTensors(ours[out], expected, 1e-3, 1e-4), out).toBeUndefined();
}
