/** What `kiln bench --profile` prints: kernels by time, with GFLOP/s against the measured SIMD128 peak. */
import type { KernelTimes, ProfileClock } from './measure.js';
import type { WasmVariant } from '../../runtime/types.js';
import { formatGemmBound, gemmBoundSummary, type GemmBoundSummary, type GemmShape } from './gemm-bound.js';
import { round } from './round.js';

/** Runs whose wall time is more than this many times their CPU time waited for a core: a busy machine. */
export const BUSY_WALL_PER_CPU = 1.5;

/** The loop `peak_gflops` was measured with (src/cli/simd-peak.ts `simd128`): not relaxed SIMD's madd. */
export const PEAK_OF = 'f32x4.mul + f32x4.add';

export interface KernelRow {
  rank: number;
  /** the kernel's name (usually its node's), its node and op type */
  kernel: string;
  node: string;
  op: string;
  /** the wasm function that runs it */
  function: string;
  /** output shapes */
  shapes: number[][];
  /** its largest f32 matrix product (KernelInfo.gemm), when it has one */
  gemm?: GemmShape;
  calls_per_run: number;
  ms_per_run: number;
  /** % of the summed kernel time */
  share_pct: number;
  flops: number;
  /** null where the kernel does no float arithmetic (data movement) or took no measurable time */
  gflops: number | null;
  peak_pct: number | null;
}

/** The kernels of one op type together (op labels as in the table: "Conv+Relu" apart from "Conv"). */
export interface OpRow {
  op: string;
  kernels: number;
  ms_per_run: number;
  share_pct: number;
  gflops: number | null;
}

export interface ProfileReport {
  runs: number;
  /** the module profiled: model.wasm (simd128) or model.relaxed.wasm (relaxed) */
  variant: WasmVariant;
  warmup_ms: number;
  /** what every ms of this report was timed by: the wall clock, or this process's CPU time */
  clock: ProfileClock;
  /** f32 SIMD128 peak of one core, measured now, and the loop that measured it (PEAK_OF) */
  peak_gflops: number;
  peak_of: string;
  /** mean run of the plain module (no instrumentation), run in turns with the instrumented one */
  run_ms: number;
  /** the same runs (both modules) by the wall clock and by CPU time: their ratio shows a busy machine */
  run_wall_ms: number;
  run_cpu_ms: number;
  /** mean run of the instrumented module, and the kernels' part of it */
  instrumented_run_ms: number;
  kernels_ms: number;
  /** calls from run() to functions outside the kernel table */
  other_ms: number;
  /**
   * present when the bundle has dims known only at run time and this run is not at their bounds: the kernel
   * table's shapes and FLOPs are counted at the bounds, so no GFLOP/s is given (it would be wrong)
   */
  counted_at_bounds?: string;
  /** every kernel, slowest first */
  kernels: KernelRow[];
  /** time by op type, slowest first */
  ops: OpRow[];
  /** the GEMM-bound kernels' share of the peak apart from the memory-bound conv/matmul kernels */
  gemm_bound: GemmBoundSummary;
}

export function profileReport(
  times: KernelTimes,
  context: { peakGflops: number; warmupMs: number; countedAtBounds?: string },
): ProfileReport {
  const rated = context.countedAtBounds === undefined;
  const kernelsMs = times.kernels.reduce((s, k) => s + k.ms, 0);
  const rows = times.kernels
    .map((k) => {
      const gflops = rated && k.flops > 0 && k.ms > 0 ? k.flops / (k.ms * 1e6) : null;
      return {
        rank: 0,
        kernel: k.name,
        node: k.node,
        op: k.op,
        function: k.function,
        shapes: k.outputs.map((o) => o.shape),
        ...(k.gemm && { gemm: k.gemm }),
        calls_per_run: k.calls,
        ms_per_run: round(k.ms, 4),
        share_pct: kernelsMs > 0 ? round((100 * k.ms) / kernelsMs, 2) : 0,
        flops: k.flops,
        gflops: gflops === null ? null : round(gflops, 2),
        peak_pct: gflops === null ? null : round((100 * gflops) / context.peakGflops, 1),
        exactMs: k.ms,
      };
    })
    .sort((a, b) => b.exactMs - a.exactMs)
    .map(({ exactMs: _, ...row }, i) => ({ ...row, rank: i + 1 }));
  return {
    runs: times.runs,
    variant: times.variant,
    warmup_ms: context.warmupMs,
    clock: times.clock,
    peak_gflops: round(context.peakGflops, 2),
    peak_of: PEAK_OF,
    run_ms: round(times.plainRunMs, 3),
    run_wall_ms: round(times.wallRunMs, 3),
    run_cpu_ms: round(times.cpuRunMs, 3),
    instrumented_run_ms: round(times.instrumentedRunMs, 3),
    kernels_ms: round(kernelsMs, 3),
    other_ms: round(times.otherMs, 3),
    ...(!rated && { counted_at_bounds: context.countedAtBounds }),
    kernels: rows,
    ops: byOp(times.kernels, kernelsMs, rated),
    gemm_bound: gemmBoundSummary(rows, context.peakGflops, rated),
  };
}

function byOp(kernels: KernelTimes['kernels'], totalMs: number, rated: boolean): OpRow[] {
  const groups = new Map<string, { kernels: number; ms: number; flops: number }>();
  for (const k of kernels) {
    const g = groups.get(k.op) ?? { kernels: 0, ms: 0, flops: 0 };
    groups.set(k.op, { kernels: g.kernels + 1, ms: g.ms + k.ms, flops: g.flops + k.flops });
  }
  return [...groups]
    .sort(([, a], [, b]) => b.ms - a.ms)
    .map(([op, g]) => ({
      op,
      kernels: g.kernels,
      ms_per_run: round(g.ms, 4),
      share_pct: totalMs > 0 ? round((100 * g.ms) / totalMs, 2) : 0,
      gflops: rated && g.flops > 0 && g.ms > 0 ? round(g.flops / (g.ms * 1e6), 2) : null,
    }));
}

/** The table (top `top` kernels) and a summary; `bars` adds a bar of each share, scaled to the largest. */
export function formatProfile(report: ProfileReport, options: { top: number; bars: boolean }): string[] {
  const shown = report.kernels.slice(0, options.top);
  const maxShare = Math.max(...shown.map((r) => r.share_pct), 1e-9);
  const header = [
    '#',
    'kernel',
    'op',
    'shape',
    `${CLOCK_LABEL[report.clock]} ms/run`,
    'share',
    'GFLOP/s',
    '% peak',
  ];
  const cells = shown.map((r) => [
    String(r.rank),
    elide(r.kernel, 36),
    elide(r.op, 20),
    r.shapes.map((s) => s.join('×')).join(' '),
    formatMs(r.ms_per_run),
    `${r.share_pct.toFixed(1)} %`,
    r.gflops === null ? '–' : r.gflops.toFixed(1),
    r.peak_pct === null ? '–' : `${r.peak_pct.toFixed(0)} %`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  // text columns are left-aligned, numbers right-aligned
  const pad = (text: string, c: number) =>
    c >= 1 && c <= 3 ? text.padEnd(widths[c]) : text.padStart(widths[c]);
  const line = (row: string[], bar = '') => `${row.map(pad).join('  ')}${bar ? `  ${bar}` : ''}`.trimEnd();
  const bar = (share: number) => '█'.repeat(Math.max(1, Math.round((24 * share) / maxShare)));
  const shownShare = shown.reduce((s, r) => s + r.share_pct, 0);
  const overhead =
    report.run_ms > 0 ? (100 * (report.instrumented_run_ms - report.run_ms)) / report.run_ms : 0;
  return [
    line(header),
    ...cells.map((row, i) => line(row, options.bars ? bar(shown[i].share_pct) : '')),
    `top ${shown.length} of ${report.kernels.length} kernels: ${shownShare.toFixed(1)} % of kernel time` +
      (report.other_ms > 0 ? `; ${report.other_ms.toFixed(3)} ms/run in other calls from run()` : ''),
    `by op: ${report.ops
      .slice(0, 6)
      .map(
        (o) =>
          `${o.op} ${o.share_pct.toFixed(1)} %${o.gflops === null ? '' : ` (${o.gflops.toFixed(1)} GFLOP/s)`}`,
      )
      .join(', ')}${report.ops.length > 6 ? ', …' : ''}`,
    formatGemmBound(report.gemm_bound),
    `kernels ${report.kernels_ms.toFixed(3)} ms/run in all; instrumented run ${report.instrumented_run_ms.toFixed(3)} ms, ` +
      `plain run ${report.run_ms.toFixed(3)} ms (means of runs in turns): instrumentation ${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)} %`,
    `% peak: of ${report.peak_gflops.toFixed(1)} GFLOP/s, this core's f32 SIMD128 peak in a loop of ${report.peak_of} (measured; not relaxed SIMD's madd); ` +
      `${report.runs} profiled runs of ${report.variant === 'relaxed' ? 'model.relaxed.wasm' : 'model.wasm'}, optimized up front, after ${(report.warmup_ms / 1000).toFixed(1)} s of warm-up`,
    `times by ${report.clock === 'cpu' ? "this process's CPU time (--clock cpu)" : 'the wall clock (--clock wall)'}`,
    ...(busy(report)
      ? [
          `busy machine: the runs took ${(report.run_wall_ms / report.run_cpu_ms).toFixed(1)}× their CPU time in wall time, waiting for a core` +
            (report.clock === 'wall'
              ? `, so wall times count other processes' time slices: profile with --clock cpu`
              : `; the CPU clock leaves that out`),
        ]
      : []),
    ...(report.counted_at_bounds
      ? [
          `no GFLOP/s: shapes and FLOPs are counted at the bounds of the run-time dims (${report.counted_at_bounds}), not at the shapes this run used`,
        ]
      : []),
  ];
}

const CLOCK_LABEL: Record<ProfileClock, string> = { wall: 'wall', cpu: 'CPU' };

function busy(report: ProfileReport): boolean {
  return report.run_cpu_ms > 0 && report.run_wall_ms > BUSY_WALL_PER_CPU * report.run_cpu_ms;
}

/** 4 significant digits or so, down to 0.1 µs */
function formatMs(ms: number): string {
  return ms.toFixed(ms >= 100 ? 1 : ms >= 10 ? 2 : ms >= 1 ? 3 : 4);
}

function elide(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}
