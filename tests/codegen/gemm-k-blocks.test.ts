/**
 * K blocks of large-K gemms (src/codegen/wasm/gemm-k-blocks.ts): which gemms split and where, what each
 * block carries (bias and residual first, C as the later blocks' residual, the activation last), and split
 * gemms with K not a multiple of the block, odd M and N, bias, residual, Relu, Clip and GELU (a `map`),
 * strided views and a batch loop, on the SIMD128 and the relaxed module against a float64 reference.
 */
import { describe, expect, it } from 'vitest';
import { gemmKBlocks, kBlocks, splitK } from '../../src/codegen/wasm/gemm-k-blocks.js';
import type { GemmStmt } from '../../src/kernels/ir.js';
import { forEachStmt } from '../../src/kernels/walk.js';
import { verifyKernel } from '../../src/kernels/verify.js';
import { Memory, interpretKernels } from '../../src/kernels/interpret.js';
import { i32 } from '../../src/kernels/build.js';
import { GELU, gemmCase, type GemmShape } from './cases/gemm.js';
import { describeCases, programOfCase } from './cases/case.js';
import { relaxedWasmTarget, wasmTarget } from './harness.js';

/** The gemm statement of a gemm case of `shape` (inside its batch loop, if any). */
const gemmOf = (g: GemmShape): GemmStmt => {
  const gemms: GemmStmt[] = [];
  for (const s of programOfCase(gemmCase('gemm', g)).program.run[0].body)
    forEachStmt(s, (x) => x.k === 'gemm' && gemms.push(x));
  return gemms[0];
};

/** A row-major M×N×K gemm over buffers 0 (A), 1 (B) and 2 (C), without data; `b` overrides B's strides. */
const shape = (M: number, N: number, K: number, b = { rs: N, cs: 1 }): GemmStmt => {
  const buf = (id: number, length: number) => ({ id, dtype: 'float32' as const, length });
  return {
    k: 'gemm',
    M,
    N,
    K,
    a: { buf: buf(0, M * K), offset: i32(0), rs: K, cs: 1 },
    b: { buf: buf(1, K * N), offset: i32(0), ...b },
    c: { buf: buf(2, M * N), offset: i32(0), rs: N, cs: 1 },
    alpha: 1,
    beta: 1,
  };
};

describe('K blocks: where a gemm splits', () => {
  it('blocks of at most 512 rows, multiples of 8, the last one shorter', () => {
    expect(kBlocks(shape(128, 384, 1536))).toEqual([0, 512, 1024, 1536]);
    expect(kBlocks(shape(184, 400, 1656))).toEqual([0, 416, 832, 1248, 1656]);
    expect(kBlocks(shape(37, 45, 1100))).toEqual([0, 368, 736, 1100]);
  });

  it('fewer rows per block where the operand streamed per sweep (min(M, N) rows of it) outgrows 512 KiB', () => {
    // 131072 floats / 384 rows of A per panel = 341 rows at most: 4 blocks
    expect(kBlocks(shape(384, 1024, 1024))).toEqual([0, 256, 512, 768, 1024]);
    // 131072 / 1024 rows of B per row block = 128, raised to the least block, 256
    expect(kBlocks(shape(2048, 1024, 1024))).toEqual([0, 256, 512, 768, 1024]);
  });

  it('stays whole within one block, without panels, in the dot form, or with an operand in C', () => {
    expect(kBlocks(shape(128, 784, 512))).toBeUndefined();
    expect(kBlocks(shape(7, 400, 2048))).toBeUndefined();
    expect(kBlocks(shape(64, 7, 2048))).toBeUndefined();
    expect(kBlocks(shape(64, 64, 2048, { rs: 1, cs: 2048 }))).toBeUndefined();
    const g = shape(64, 64, 2048);
    expect(kBlocks(g)).toBeDefined();
    // A in C's buffer (a later block would read what an earlier one stored), the staged gemms' bias = C
    expect(kBlocks({ ...g, a: { ...g.a, buf: g.c.buf } })).toBeUndefined();
    expect(kBlocks({ ...g, bias: g.c })).toBeUndefined();
    expect(kBlocks({ ...g, int8: { scales: g.c, activations: g.c.buf } })).toBeUndefined();
  });

  it('the first block takes the bias and the residual, later ones add into C, the last the activation', () => {
    const g = gemmOf({
      M: 9,
      N: 16,
      K: 600,
      bias: { offset: 0, rs: 0, cs: 1 },
      residual: true,
      act: { op: 'relu' },
    });
    const blocks = splitK(g, [0, 304, 600]);
    expect(blocks.map((b) => b.K)).toEqual([304, 296]);
    expect(blocks[0]).toMatchObject({ bias: g.bias, residual: g.residual });
    expect(blocks[0]).not.toHaveProperty('act');
    expect(blocks[1]).toMatchObject({ residual: g.c, act: g.act });
    expect(blocks[1]).not.toHaveProperty('bias');
    // block 2 reads A from column 304 on and B from row 304 on
    expect(blocks[1].a.offset).toMatchObject({ op: 'add', b: { v: 304 } });
    expect(blocks[1].b.offset).toMatchObject({ op: 'add', b: { v: 304 * 16 } });
  });

  it('the rewrite leaves a B packed at compile time alone (packed-weights.ts chose its blocks)', () => {
    expect(gemmKBlocks([{ ...shape(64, 64, 2048), packedB: true }])).toHaveLength(1);
    expect(gemmKBlocks([shape(64, 64, 2048)])).toHaveLength(4);
  });
});

const SPLIT_SHAPES: [string, GemmShape][] = [
  ['M ≤ N, row bias, GELU', { M: 37, N: 45, K: 1100, bias: { offset: 0, rs: 0, cs: 1 }, act: GELU }],
  [
    'M > N, full bias, alpha and beta, residual, clip',
    {
      M: 61,
      N: 29,
      K: 777,
      bias: { offset: 0, rs: 29, cs: 1 },
      alpha: 0.5,
      beta: 2,
      residual: true,
      act: { op: 'clip', min: -20, max: 20 },
    },
  ],
  [
    'offset and padded A and C rows, relu',
    { M: 13, N: 203, K: 531, a: { offset: 5, rs: 540 }, c: { offset: 3, rs: 211 }, act: { op: 'relu' } },
  ],
  ['in a batch loop', { M: 9, N: 17, K: 613, batch: 2 }],
];
const SPLIT_CASES = SPLIT_SHAPES.map(([name, g]) => {
  if (!kBlocks(gemmOf(g))) throw new Error(`${name} would not split`);
  return gemmCase(`K blocks: ${name} ${g.M}×${g.N}×${g.K}`, g);
});

it('verify() accepts the blocks and the interpreter computes what the whole gemm does', () => {
  SPLIT_SHAPES.forEach(([name, g], i) => {
    const c = SPLIT_CASES[i];
    const { program, bufs } = programOfCase(c);
    const kernel = { ...program.run[0], body: gemmKBlocks(program.run[0].body) };
    verifyKernel(kernel);
    const mem = new Memory();
    c.buffers.forEach((b, j) => mem.bufs.set(bufs[j].id, Float32Array.from(b.data as number[])));
    interpretKernels([kernel], mem);
    const got = mem.get(bufs[3]);
    const want = c.expect![3] as readonly number[];
    const worst = Math.max(...want.map((w, j) => Math.abs((got[j] as number) - w) / (1 + Math.abs(w))));
    expect(worst, name).toBeLessThan(1e-4);
  });
});
describeCases(wasmTarget, 'gemm in K blocks', SPLIT_CASES);
describeCases(relaxedWasmTarget, 'gemm in K blocks, relaxed SIMD', SPLIT_CASES);
