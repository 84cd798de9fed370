/**
 * Per-model inference counters, request-latency, model-run and queue-wait histograms (and batch sizes
 * with dynamic batching), rendered in the Prometheus text format.
 */

/** Upper bounds in seconds: 0.5 ms to 10 s, roughly ×2.5 apart. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Upper bounds of the batch-size histogram, in rows. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

interface Histogram {
  bounds: readonly number[];
  /** counts per bucket, not cumulative; the last slot is +Inf */
  buckets: number[];
  count: number;
  sum: number;
}

const newHistogram = (bounds: readonly number[]): Histogram => ({
  bounds,
  buckets: new Array(bounds.length + 1).fill(0),
  count: 0,
  sum: 0,
});

function record(h: Histogram, value: number): void {
  const slot = h.bounds.findIndex((le) => value <= le);
  h.buckets[slot === -1 ? h.bounds.length : slot]++;
  h.count++;
  h.sum += value;
}

function renderHistogram(name: string, labels: string, h: Histogram): string[] {
  let cumulative = 0;
  const lines = h.bounds.map((le, i) => {
    cumulative += h.buckets[i];
    return `${name}_bucket{${labels},le="${le}"} ${cumulative}`;
  });
  lines.push(`${name}_bucket{${labels},le="+Inf"} ${h.count}`);
  lines.push(`${name}_sum{${labels}} ${h.sum}`);
  lines.push(`${name}_count{${labels}} ${h.count}`);
  return lines;
}

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * One served model's series. The app keeps this handle per model, so a request costs no label
 * formatting or map lookup.
 */
export class ModelMetrics {
  requests = 0;
  failures = 0;
  /** model runs: one per request, or one per batch with dynamic batching */
  runs = 0;
  /** time from an inference request's arrival to its response: upload, parsing and queueing included */
  readonly requestDuration = newHistogram(BUCKETS);
  /** time each model run took (one per batch with dynamic batching) */
  readonly inferenceDuration = newHistogram(BUCKETS);
  /** time from a request's arrival at its model's queue to the start of its run */
  readonly queue = newHistogram(BUCKETS);
  /** rows per run; only for a model served with dynamic batching */
  readonly batchRows: Histogram | undefined;

  constructor(
    readonly labels: string,
    batched: boolean,
    /** what runs the model, e.g. backend="wasm",variant="relaxed" (kiln_model_info) */
    readonly info: string,
  ) {
    this.batchRows = batched ? newHistogram(BATCH_BUCKETS) : undefined;
  }

  observe(failed: boolean, seconds: number): void {
    this.requests++;
    if (failed) this.failures++;
    record(this.requestDuration, seconds);
  }

  observeInference(seconds: number): void {
    record(this.inferenceDuration, seconds);
  }

  observeQueue(seconds: number): void {
    record(this.queue, seconds);
  }

  observeRun(rows: number): void {
    this.runs++;
    if (this.batchRows) record(this.batchRows, rows);
  }
}

export class Metrics {
  private readonly series: ModelMetrics[] = [];

  /** A model's series, at zero from the start so scrapes see every served model before its first request. */
  register(
    model: string,
    version: string | undefined,
    batched = false,
    runsOn: { backend?: string; variant?: string } = {},
  ): ModelMetrics {
    const labels = `model="${escapeLabel(model)}",version="${escapeLabel(version ?? '')}"`;
    const info = `backend="${escapeLabel(runsOn.backend ?? '')}",variant="${escapeLabel(runsOn.variant ?? '')}"`;
    const series = new ModelMetrics(labels, batched, info);
    this.series.push(series);
    return series;
  }

  render(): string {
    const all = this.series;
    const batched = all.filter((s) => s.batchRows !== undefined);
    const lines: string[] = [
      '# HELP kiln_model_info What runs each model: backend (wasm, webgpu) and wasm variant (simd128, relaxed).',
      '# TYPE kiln_model_info gauge',
      ...all.map((s) => `kiln_model_info{${s.labels},${s.info}} 1`),
      '# HELP kiln_inference_requests_total Inference requests received per model.',
      '# TYPE kiln_inference_requests_total counter',
      ...all.map((s) => `kiln_inference_requests_total{${s.labels}} ${s.requests}`),
      '# HELP kiln_inference_failures_total Inference requests answered with an error per model.',
      '# TYPE kiln_inference_failures_total counter',
      ...all.map((s) => `kiln_inference_failures_total{${s.labels}} ${s.failures}`),
      '# HELP kiln_model_runs_total Model runs per model (one per batch with dynamic batching).',
      '# TYPE kiln_model_runs_total counter',
      ...all.map((s) => `kiln_model_runs_total{${s.labels}} ${s.runs}`),
      '# HELP kiln_request_duration_seconds Time from an inference request to its response per model (upload, parsing and queueing included).',
      '# TYPE kiln_request_duration_seconds histogram',
      ...all.flatMap((s) => renderHistogram('kiln_request_duration_seconds', s.labels, s.requestDuration)),
      '# HELP kiln_inference_duration_seconds Time each model run took per model (one per batch with dynamic batching).',
      '# TYPE kiln_inference_duration_seconds histogram',
      ...all.flatMap((s) =>
        renderHistogram('kiln_inference_duration_seconds', s.labels, s.inferenceDuration),
      ),
      "# HELP kiln_queue_seconds Time an inference waited in its model's queue before running.",
      '# TYPE kiln_queue_seconds histogram',
      ...all.flatMap((s) => renderHistogram('kiln_queue_seconds', s.labels, s.queue)),
    ];
    if (batched.length > 0)
      lines.push(
        '# HELP kiln_batch_size Rows per model run, for models served with dynamic batching.',
        '# TYPE kiln_batch_size histogram',
        ...batched.flatMap((s) => renderHistogram('kiln_batch_size', s.labels, s.batchRows!)),
      );
    return `${lines.join('\n')}\n`;
  }
}
