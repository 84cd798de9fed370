/**
 * The one gemm-to-loops rewrite: any block width computes what the gemm statement computes (the
 * interpreter runs both), verifies, and blocks of one column leave a (row, column) nest to spread.
 */
import { describe, expect, it } from 'vitest';
import type { BufRef, GemmStmt, Kernel } from '../../src/kernels/ir.js';
import { i32 } from '../../src/kernels/build.js';
import { gemmsToLoops, gemmToLoops } from '../../src/kernels/rewrite/gemm-to-loops.js';
import { interpretKernels, Memory } from '../../src/kernels/interpret.js';
import { verifyKernel } from '../../src/kernels/verify.js';
import { parallelNest } from '../../src/kernels/analysis/parallel.js';

const [M, N, K] = [3, 7, 5];
const A: BufRef = { id: 0, dtype: 'float32', length: 2 + M * K };
const B: BufRef = { id: 1, dtype: 'float32', length: N * K };
const Bias: BufRef = { id: 2, dtype: 'float32', length: N };
const C: BufRef = { id: 3, dtype: 'float32', length: M * N };
// B read transposed (rs 1, cs K), A at an offset, the bias broadcast over rows, a clip fused
const GEMM: GemmStmt = {
  k: 'gemm',
  M,
  N,
  K,
  a: { buf: A, offset: i32(2), rs: K, cs: 1 },
  b: { buf: B, offset: i32(0), rs: 1, cs: K },
  c: { buf: C, offset: i32(0), rs: N, cs: 1 },
  alpha: 0.5,
  bias: { buf: Bias, offset: i32(0), rs: 0, cs: 1 },
  beta: 2,
  act: { op: 'clip', min: -3, max: 4 },
};

function run(kernel: Kernel): Float32Array {
  const mem = new Memory();
  [A, B, Bias].forEach((buf, b) =>
    (mem.get(buf) as Float32Array).forEach((_, i, a) => (a[i] = Math.sin(1 + i * (b + 2)) * 3)),
  );
  interpretKernels([kernel], mem);
  return mem.get(C) as Float32Array;
}

describe('gemmToLoops', () => {
  const expected = run({ name: 'gemm', body: [GEMM] });

  it.each([1, 4, 8])('blocks of %i columns compute what the gemm statement does, and verify', (columns) => {
    const kernel = { name: 'loops', body: gemmToLoops(GEMM, 'g.', columns) };
    verifyKernel(kernel);
    expect(Array.from(run(kernel))).toEqual(Array.from(expected));
  });

  it('blocks of one column leave a row and column nest whose iterations share nothing', () => {
    const placed = new Map([A, B, Bias, C].map((buf, i) => [buf.id, { ...buf, offset: 256 * i }]));
    const nest = parallelNest(gemmToLoops(GEMM, 'g.', 1), placed, {});
    expect(nest?.loops.map((l) => l.v)).toEqual(['g.m', 'g.nb']);
  });

  it('gemms inside loops get kernel-unique names', () => {
    const body = gemmsToLoops([{ k: 'loop', v: 'r', n: 2, body: [GEMM, GEMM] }], 4);
    expect(() => verifyKernel({ name: 'twice', body })).not.toThrow();
  });
});
