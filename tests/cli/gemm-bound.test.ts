/** The GEMM-bound split of a profile: the gemm shape the compiler records per kernel, and the summary of rows. */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { convModel } from '../helpers/conv-case.js';
import { gemmBoundSummary, isGemmBound, type RatedKernel } from '../../src/cli/profile/gemm-bound.js';

async function gemmOf(c: Parameters<typeof convModel>[0]) {
  const { manifest } = await compileModel(convModel(c, 1));
  const conv = manifest.kernels!.find((k) => k.op.startsWith('Conv'))!;
  return conv.gemm;
}

describe('the kernel table records each kernel’s largest f32 matrix product', () => {
  it('an im2col conv: M output channels, N positions, K = C·kh·kw', async () => {
    // 3 → 32 channels, 3×3 stride 2 over 64² (a stem conv): 32×32 outputs
    expect(await gemmOf({ x: [1, 3, 64, 64], m: 32, k: 3, stride: 2, pads: [1, 1, 1, 1] })).toMatchObject({
      M: 32,
      K: 27,
    });
  });

  it('a shifted conv (one gemm per tap adding into the last): K sums the taps', async () => {
    // stride 1, 24 channels → 16, 32² (conv-shifted.ts): 9 gemms of K 24 into one output
    const g = await gemmOf({ x: [1, 24, 32, 32], m: 16, k: 3, pads: [1, 1, 1, 1] });
    expect(g).toMatchObject({ M: 16, K: 24 * 9 });
    // its columns are bands of padded-width rows (34 wide), not im2col's 32×32 positions
    expect(g!.N % 34).toBe(0);
  });

  it('a depthwise conv has none', async () => {
    expect(await gemmOf({ x: [1, 16, 16, 16], m: 16, k: 3, group: 16, pads: [1, 1, 1, 1] })).toBeUndefined();
  });
});

describe('gemmBoundSummary', () => {
  const row = (kernel: string, op: string, gemm: RatedKernel['gemm'], flops: number, ms: number) => ({
    kernel,
    op,
    gemm,
    flops,
    ms_per_run: ms,
    gflops: flops / (ms * 1e6),
    peak_pct: (100 * flops) / (ms * 1e6) / 10,
  });
  const rows: RatedKernel[] = [
    row('big', 'Conv+Relu', { M: 64, N: 3136, K: 576 }, 8e6, 1),
    row('slow', 'MatMul', { M: 128, N: 64, K: 64 }, 2e6, 0.5),
    // a sliver of a conv (0.1 % of the GEMM-bound FLOPs) that is slower still: not named worst
    row('edge', 'Conv+Relu+MaxPool', { M: 64, N: 112, K: 27 }, 0.01e6, 0.01),
    row('se', 'Conv+Relu', { M: 96, N: 1, K: 24 }, 1e6, 1),
    row('head', 'Gemm', { M: 1, N: 1000, K: 1280 }, 1e6, 1),
    row('dw', 'Conv+Clip', undefined, 1e6, 1),
    row('add', 'Add', undefined, 1e6, 1),
  ];

  it('keeps K ≥ 24 with M, N ≥ 16 and sums the rest of the conv/matmul kernels apart', () => {
    expect(rows.map(isGemmBound)).toEqual([true, true, true, false, false, false, false]);
    // a first 3×3 conv over RGB (K 27) is in; a 1×1 conv from 16 channels is not
    expect(isGemmBound({ gemm: { M: 32, N: 12544, K: 27 } })).toBe(true);
    expect(isGemmBound({ gemm: { M: 64, N: 3136, K: 16 } })).toBe(false);
    const s = gemmBoundSummary(rows, 10, true);
    // FLOP-weighted: 10.01 MFLOP in 1.51 ms
    expect(s.gemm_bound).toMatchObject({ kernels: 3, ms_per_run: 1.51, flops_pct: 71.4, gflops: 6.63 });
    expect(s.gemm_bound.peak_pct).toBe(66.3);
    expect(s.gemm_bound.worst).toMatchObject({ kernel: 'slow', op: 'MatMul', peak_pct: 40 });
    // the SE conv, the classifier head and the depthwise conv; not the Add
    expect(s.other_matrix).toMatchObject({ kernels: 3, flops_pct: 21.4, gflops: 1 });
  });

  it('gives no rate where the profile has none (run-time dims below their bounds)', () => {
    const s = gemmBoundSummary(rows, 10, false);
    expect(s.gemm_bound.gflops).toBeNull();
    expect(s.gemm_bound.peak_pct).toBeNull();
  });
});
