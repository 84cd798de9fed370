/** Per-model inference counters and latency histograms, rendered in the Prometheus text format. */

/** Upper bounds in seconds: 0.5 ms to 10 s, roughly ×2.5 apart. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  labels: string;
  requests: number;
  failures: number;
  /** counts per bucket, not cumulative; the last slot is +Inf */
  buckets: number[];
  sumSeconds: number;
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
    const slot = BUCKETS.findIndex((le) => seconds <= le);
    s.buckets[slot === -1 ? BUCKETS.length : slot]++;
    s.sumSeconds += seconds;
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
    ];
    for (const s of all) {
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += s.buckets[i];
        lines.push(`kiln_inference_duration_seconds_bucket{${s.labels},le="${le}"} ${cumulative}`);
      });
      lines.push(`kiln_inference_duration_seconds_bucket{${s.labels},le="+Inf"} ${s.requests}`);
      lines.push(`kiln_inference_duration_seconds_sum{${s.labels}} ${s.sumSeconds}`);
      lines.push(`kiln_inference_duration_seconds_count{${s.labels}} ${s.requests}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private seriesOf(model: string, version: string | undefined): Series {
    const labels = `model="${escapeLabel(model)}",version="${escapeLabel(version ?? '')}"`;
    let s = this.series.get(labels);
    if (!s) {
      s = { labels, requests: 0, failures: 0, buckets: new Array(BUCKETS.length + 1).fill(0), sumSeconds: 0 };
      this.series.set(labels, s);
    }
    return s;
  }
}
