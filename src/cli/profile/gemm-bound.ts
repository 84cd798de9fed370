/**
 * Which kernels of a profile are bound by arithmetic, so their share of the SIMD128 peak says how good the
 * microkernels are: a kernel whose largest f32 matrix product (KernelInfo.gemm) has K ≥ 24 and M, N ≥ 16
 * (M output channels or rows, N output positions or columns, K the reduction per output value; 24 keeps a
 * network's first 3×3 conv over RGB, K = 27, whose every output value still takes 27 multiply-adds).
 * Below that a product reads about as many bytes as it does multiply-adds (an SE block's 1×1 convs on a
 * 1×1 map have N = 1, a classifier head M = 1); depthwise convs have no gemm at all. Conv, ConvTranspose,
 * MatMul and Gemm kernels that miss the bar are summed apart, as the memory-bound ones.
 */
import { round } from './round.js';

/** What the summary reads of a profile row (report.ts's KernelRow). */
export interface RatedKernel {
  kernel: string;
  op: string;
  gemm?: GemmShape;
  flops: number;
  ms_per_run: number;
  gflops: number | null;
  peak_pct: number | null;
}

export interface GemmShape {
  M: number;
  N: number;
  K: number;
}

export const GEMM_BOUND_MIN_K = 24;
export const GEMM_BOUND_MIN_MN = 16;
export const GEMM_BOUND_RULE = `largest f32 gemm with K ≥ ${GEMM_BOUND_MIN_K}, M ≥ ${GEMM_BOUND_MIN_MN}, N ≥ ${GEMM_BOUND_MIN_MN}`;

/**
 * The worst layer is picked among the GEMM-bound kernels doing at least this share of their FLOPs: a conv
 * fused with its MaxPool runs as pieces (conv-pool.ts), and the first, a row or two that also pads the
 * whole input, would otherwise be named worst for its copy, not its gemm.
 */
const WORST_MIN_FLOPS_SHARE = 0.01;

/** The op types whose kernels multiply matrices (or should: a depthwise conv is a Conv without a gemm). */
const MATRIX_OPS = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);

export function isGemmBound(row: Pick<RatedKernel, 'gemm'>): boolean {
  const g = row.gemm;
  return g !== undefined && g.K >= GEMM_BOUND_MIN_K && g.M >= GEMM_BOUND_MIN_MN && g.N >= GEMM_BOUND_MIN_MN;
}

export interface LayerGroup {
  kernels: number;
  ms_per_run: number;
  /** % of all kernels' FLOPs */
  flops_pct: number;
  /** FLOP-weighted: the group's FLOPs over its time */
  gflops: number | null;
  peak_pct: number | null;
}

export interface GemmBoundSummary {
  rule: string;
  gemm_bound: LayerGroup & {
    /** the gemm-bound kernel furthest below the peak, of those doing ≥ 1 % of the group's FLOPs */
    worst?: { kernel: string; op: string; gemm: GemmShape; gflops: number; peak_pct: number };
  };
  /** Conv/ConvTranspose/MatMul/Gemm kernels that are not gemm-bound (depthwise, 1×1 maps, small K) */
  other_matrix: LayerGroup;
}

export function gemmBoundSummary(rows: RatedKernel[], peakGflops: number, rated: boolean): GemmBoundSummary {
  const totalFlops = rows.reduce((s, r) => s + r.flops, 0);
  const group = (members: RatedKernel[]): LayerGroup => {
    const ms = members.reduce((s, r) => s + r.ms_per_run, 0);
    const flops = members.reduce((s, r) => s + r.flops, 0);
    const gflops = rated && flops > 0 && ms > 0 ? flops / (ms * 1e6) : null;
    return {
      kernels: members.length,
      ms_per_run: round(ms, 4),
      flops_pct: totalFlops > 0 ? round((100 * flops) / totalFlops, 1) : 0,
      gflops: gflops === null ? null : round(gflops, 2),
      peak_pct: gflops === null ? null : round((100 * gflops) / peakGflops, 1),
    };
  };
  const bound = rows.filter(isGemmBound);
  const other = rows.filter((r) => !isGemmBound(r) && MATRIX_OPS.has(r.op.split('+')[0]));
  const boundFlops = bound.reduce((s, r) => s + r.flops, 0);
  const worst = bound
    .filter((r) => r.peak_pct !== null && r.flops >= WORST_MIN_FLOPS_SHARE * boundFlops)
    .reduce<RatedKernel | undefined>((w, r) => (!w || r.peak_pct! < w.peak_pct! ? r : w), undefined);
  return {
    rule: GEMM_BOUND_RULE,
    gemm_bound: {
      ...group(bound),
      ...(worst && {
        worst: {
          kernel: worst.kernel,
          op: worst.op,
          gemm: worst.gemm!,
          gflops: worst.gflops!,
          peak_pct: worst.peak_pct!,
        },
      }),
    },
    other_matrix: group(other),
  };
}

/** One line for `kiln bench --profile`. */
export function formatGemmBound(s: GemmBoundSummary): string {
  const g = s.gemm_bound;
  const rate = (x: LayerGroup) =>
    x.gflops === null ? '' : ` at ${x.gflops.toFixed(1)} GFLOP/s = ${x.peak_pct!.toFixed(0)} % of peak`;
  const shape = (m: GemmShape) => `${m.M}×${m.N}×${m.K}`;
  return (
    `GEMM-bound (${s.rule}): ${g.kernels} kernels, ${g.flops_pct.toFixed(1)} % of FLOPs${rate(g)}` +
    (g.worst
      ? `; worst ${g.worst.kernel} (${g.worst.op}, M×N×K ${shape(g.worst.gemm)}) ${g.worst.peak_pct.toFixed(0)} %`
      : '') +
    `; other conv/matmul: ${s.other_matrix.kernels} kernels, ${s.other_matrix.flops_pct.toFixed(1)} % of FLOPs${rate(s.other_matrix)}`
  );
}
