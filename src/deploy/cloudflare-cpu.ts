/**
 * The CPU-time estimate for a Worker: each model loaded in this process and run on zeros, the median
 * of a few runs after a warm-up, as `kiln bench` measures. It is this machine's time, not Cloudflare's,
 * and covers the model only (not JSON parsing): a hint against the free plan's 10 ms per request.
 */
import { performance } from 'node:perf_hooks';
import { ELEMENT_ARRAY, elementCount } from '../bundle/elements.js';
import { loadModel, type Feed } from '../runtime/index.js';

export interface CpuEstimate {
  model: string;
  /** loading: verifying the files, compiling and instantiating (the first request pays it) */
  loadMs: number;
  medianMs: number;
}

export async function estimateCpu(bundleDir: string, runs = 5): Promise<CpuEstimate> {
  const loadStart = performance.now();
  const model = await loadModel(bundleDir);
  const loadMs = performance.now() - loadStart;
  try {
    const feeds: Record<string, Feed> = {};
    for (const { name, dtype, shape } of model.inputs)
      feeds[name] = { dtype, dims: shape, data: new ELEMENT_ARRAY[dtype](elementCount(shape)) };
    await model.run(feeds); // warm-up: the first run pays for lazy compilation tiers
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await model.run(feeds);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return { model: model.name, loadMs, medianMs: times[Math.floor(times.length / 2)] };
  } finally {
    model.dispose();
  }
}
