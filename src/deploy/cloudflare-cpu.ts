/**
 * The CPU-time estimate for a Worker: each model loaded in this process and run on zeros, the median
 * of a few runs after a warm-up, as `kiln bench` measures. It is this machine's time, not Cloudflare's,
 * and covers the model only (not JSON parsing): a hint against the free plan's 10 ms per request.
 */
import { ELEMENT_ARRAY, elementCount } from '../bundle/elements.js';
import { loadModel, type Feed } from '../runtime/index.js';
import { quantile, timeRuns } from '../runtime/timing.js';
import { upperBounds } from '../bundle/shape-dims.js';

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
    for (const { name, dtype, shape } of model.inputs) {
      const dims = upperBounds(shape);
      feeds[name] = { dtype, dims, data: new ELEMENT_ARRAY[dtype](elementCount(dims)) };
    }
    // the first run is the warm-up
    const { sorted } = await timeRuns(model, feeds, { runs, warmup: 0 });
    return { model: model.name, loadMs, medianMs: quantile(sorted, 0.5) };
  } finally {
    model.dispose();
  }
}
