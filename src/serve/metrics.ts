/**
 * Per-model inference counters, latency and queue-wait histograms, rendered in the Prometheus text
 * format.
 */

/** Upper bounds in seconds: 0.5 ms to 10 s, roughly ×2.5 apart. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  labels: string;
  requests: number;
  failures: number;
  duration: Histogram;
  /** time from a request's arrival at its model's queue to the start of its run */
  queue: Histogram;
}

interface Histogram {
  /** counts per bucket, not cumulative; the last slot is +Inf */
  buckets: number[];
  count: number;
  sumSeconds: number;
}

const newHistogram = (): Histogram => ({
  buckets: new Array(BUCKETS.length + 1).fill(0),
  count: 0,
  sumSeconds: 0,
});

function record(h: Histogram, seconds: number): void {
  const slot = BUCKETS.findIndex((le) => seconds <= le);
  h.buckets[slot === -1 ? BUCKETS.length : slot]++;
  h.count++;
  h.sumSeconds += seconds;
}

function renderHistogram(name: string, labels: string, h: Histogram): string[] {
  let cumulative = 0;
  const lines = BUCKETS.map((le, i) => {
    cumulative += h.buckets[i];
    return `${name}_bucket{${labels},le="${le}"} ${cumulative}`;
  });
  lines.push(`${name}_bucket{${labels},le="+Inf"} ${h.count}`);
  lines.push(`${name}_sum{${labels}} ${h.sumSeconds}`);
  lines.push(`${name}_count{${labels}} ${h.count}`);
  return lines;
}

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class Metrics {
  private readonly series = new Map<string, Series>();

  /** Creates a model's series at zero, so scrapes see every served model before its first request. */
  register(model: string, version: string | undefined): void {
    this.seriesOf(model, version);
  }

  observe(model: string, version: string | undefined, failed: boolean, seconds: number): void {
    const s = this.seriesOf(model, version);
    s.requests++;
    if (failed) s.failures++;
    record(s.duration, seconds);
  }

  observeQueue(model: string, version: string | undefined, seconds: number): void {
    record(this.seriesOf(model, version).queue, seconds);
  }

  render(): string {
    const all = [...this.series.values()];
    const lines: string[] = [
      '# HELP kiln_inference_requests_total Inference requests received per model.',
      '# TYPE kiln_inference_requests_total counter',
      ...all.map((s) => `kiln_inference_requests_total{${s.labels}} ${s.requests}`),
      '# HELP kiln_inference_failures_total Inference requests answered with an error per model.',
      '# TYPE kiln_inference_failures_total counter',
      ...all.map((s) => `kiln_inference_failures_total{${s.labels}} ${s.failures}`),
      '# HELP kiln_inference_duration_seconds Time from request to response per model.',
      '# TYPE kiln_inference_duration_seconds histogram',
      ...all.flatMap((s) => renderHistogram('kiln_inference_duration_seconds', s.labels, s.duration)),
      "# HELP kiln_queue_seconds Time an inference waited in its model's queue before running.",
      '# TYPE kiln_queue_seconds histogram',
      ...all.flatMap((s) => renderHistogram('kiln_queue_seconds', s.labels, s.queue)),
    ];
    return `${lines.join('\n')}\n`;
  }

  private seriesOf(model: string, version: string | undefined): Series {
    const labels = `model="${escapeLabel(model)}",version="${escapeLabel(version ?? '')}"`;
    let s = this.series.get(labels);
    if (!s) {
      s = { labels, requests: 0, failures: 0, duration: newHistogram(), queue: newHistogram() };
      this.series.set(labels, s);
    }
    return s;
  }
}
