/** The shared gemm cases on the GPU (the tiled shader, and gemms inside loops lowered to loops), and their dispatches. */
import { describe, expect, it } from 'vitest';
import { BATCHED_GEMM_CASE, GEMM_CASES, ODD_GEMM_CASE } from '../cases/gemm.js';
import { describeCases } from '../cases/case.js';
import { compileCase, webgpuTarget } from './harness.js';

describeCases(webgpuTarget, 'wgsl gemm', GEMM_CASES);

describe('wgsl gemm dispatches', () => {
  it('a gemm statement takes the tiled shader, one workgroup per output tile (37×29 in 2×3 tiles)', () => {
    expect(compileCase(ODD_GEMM_CASE).run.map((d) => d.workgroups)).toEqual([[2, 3, 1]]);
  });

  it('a gemm of 64 rows and columns or more takes 64×64 tiles of 8×8 blocks per invocation (67×130 in 3×2)', () => {
    const large = GEMM_CASES.find((c) => c.name.startsWith('67×130×33'))!;
    const compiled = compileCase(large);
    expect(compiled.run.map((d) => d.workgroups)).toEqual([[3, 2, 1]]);
    expect(compiled.code).toMatch(/var<workgroup> \w+_a: array<array<f32, 16>, 64>;/);
    expect(compiled.code).toMatch(/var acc: array<f32, 64>;/);
  });

  it('a gemm inside a batch loop becomes loops, spread over batches and elements', () => {
    const compiled = compileCase(BATCHED_GEMM_CASE);
    expect(compiled.run.map((d) => d.workgroups)).toEqual([[2, 1, 1]]);
    expect(compiled.code).toMatch(/if \(gid >= 105u\)/);
  });
});
