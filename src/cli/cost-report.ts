/**
 * `kiln bench --cost`: the prices per million inferences of src/deploy/cost.ts as `--json` prints them
 * and as a table on the console.
 */
import { cpus } from 'node:os';
import type { CostMeasurement, TargetCost } from '../deploy/cost.js';
import { PRICES_DATE } from '../deploy/prices.js';
import { PROCESS_CLOCK_NOTE } from './cpu-time.js';

export interface CostReport {
  prices_date: string;
  /** where the measurement ran: the targets' CPUs and GPUs are not this machine's */
  measured_on: string;
  /** wasm: the CPU time of one inference that the prices use; null on webgpu */
  cpu_ms: number | null;
  /**
   * wasm: the clock that counted it, the JavaScript thread's or (where Node and /proc give none) the whole
   * process's, which may overstate it; null on webgpu
   */
  cpu_clock: 'thread' | 'process' | null;
  targets: {
    target: string;
    /** null where the target is not priced: `basis` says why */
    usd_per_million: number | null;
    requests_usd: number | null;
    compute_usd: number | null;
    basis: string;
  }[];
}

export function costReport(measurement: CostMeasurement, costs: TargetCost[]): CostReport {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return {
    prices_date: PRICES_DATE,
    measured_on: measurement.adapter ? `${cpu}, ${measurement.adapter.description}` : cpu,
    cpu_ms: measurement.cpuMs ?? null,
    cpu_clock: measurement.cpuClock ?? null,
    targets: costs.map((c) => ({
      target: c.target,
      usd_per_million: c.usdPerMillion ?? null,
      requests_usd: c.requestsUsd ?? null,
      compute_usd: c.computeUsd ?? null,
      basis: c.basis,
    })),
  };
}

export function formatCost(report: CostReport): string[] {
  const width = Math.max(...report.targets.map((t) => t.target.length));
  const dollars = report.targets.map((t) => (t.usd_per_million === null ? '–' : money(t.usd_per_million)));
  const dollarWidth = Math.max(...dollars.map((d) => d.length));
  return [
    `cost per 1M inferences (prices of ${report.prices_date}, AWS in us-east-1: src/deploy/prices.ts)`,
    ...report.targets.map(
      (t, i) => `  ${t.target.padEnd(width)}  ${dollars[i].padStart(dollarWidth)}  ${t.basis}`,
    ),
    `measured on ${report.measured_on}: the targets' processors differ, so take the times as estimates`,
    ...(report.cpu_clock === 'process' ? [PROCESS_CLOCK_NOTE] : []),
  ];
}

/** Three significant digits: $0.302, $1.23, $45.6, $1234. */
function money(usd: number): string {
  return `$${usd >= 1000 ? usd.toFixed(0) : Number(usd.toPrecision(3))}`;
}
