/**
 * K blocks of large-K gemms (src/codegen/wasm/gemm-k-blocks.ts): which gemms split and where, what the
 * split holds (a pass starting C at bias + residual, blocks adding into C, one gemm for all blocks of one
 * length, the activation a pass after), and split gemms with K = 769 … 4608, K a multiple of the block or
 * not, odd M and N, bias per row or column, residual, Relu, Clip and GELU (a `map`), strided views and a
 * batch loop, on the SIMD128 and the relaxed module against a float64 reference.
 */
import { describe, expect, it } from 'vitest';
import { gemmKBlocks, kBlockRows, splitK } from '../../src/codegen/wasm/gemm-k-blocks.js';
import type { GemmStmt, Stmt } from '../../src/kernels/ir.js';
import { forEachStmt, visitExpr } from '../../src/kernels/walk.js';
import { verifyKernel } from '../../src/kernels/verify.js';
import { Memory, interpretKernels } from '../../src/kernels/interpret.js';
import { add, dim, i32, mul } from '../../src/kernels/build.js';
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
    expect(kBlockRows(shape(128, 384, 1536))).toBe(512);
    expect(kBlockRows(shape(184, 400, 1656))).toBe(416);
    expect(kBlockRows(shape(37, 45, 1100))).toBe(368);
  });

  it('fewer rows per block where the operand streamed per sweep (min(M, N) rows of it) outgrows 512 KiB', () => {
    // 131072 floats / 384 rows of A per panel = 341 rows at most: 4 blocks
    expect(kBlockRows(shape(384, 1024, 1024))).toBe(256);
    // 131072 / 1024 rows of B per row block = 128, raised to the least block, 256
    expect(kBlockRows(shape(2048, 1024, 1024))).toBe(256);
  });

  it('stays whole up to K = 768, without panels, in the dot form, or with an operand in C', () => {
    expect(kBlockRows(shape(128, 784, 768))).toBeUndefined();
    expect(kBlockRows(shape(128, 784, 776))).toBe(392);
    expect(kBlockRows(shape(7, 400, 2048))).toBeUndefined();
    expect(kBlockRows(shape(64, 7, 2048))).toBeUndefined();
    expect(kBlockRows(shape(64, 64, 2048, { rs: 1, cs: 2048 }))).toBeUndefined();
    const g = shape(64, 64, 2048);
    expect(kBlockRows(g)).toBeDefined();
    // A in C's buffer (a later block would read what an earlier one stored), the staged gemms' bias = C
    expect(kBlockRows({ ...g, a: { ...g.a, buf: g.c.buf } })).toBeUndefined();
    expect(kBlockRows({ ...g, bias: g.c })).toBeUndefined();
    expect(kBlockRows({ ...g, int8: { scales: g.c, activations: g.c.buf } })).toBeUndefined();
  });

  it('blocks all as long where K is a multiple of 8 blocks of at least 256 rows', () => {
    // 2304 = 6 × 384 (five blocks of ≤ 512 would be 464s and a 448), 4608 = 9 × 512, 1152 = 3 × 384
    expect(kBlockRows(shape(256, 196, 2304))).toBe(384);
    expect(kBlockRows(shape(512, 49, 4608))).toBe(512);
    expect(kBlockRows(shape(128, 784, 1152))).toBe(384);
    // no such split: 2305 and 1025 are odd (1025: 344, 344 and 337); 1656 = 8 · 207 has no divisor from 4 to 6
    expect(kBlockRows(shape(64, 64, 2305))).toBe(464);
    expect(kBlockRows(shape(64, 64, 1025))).toBe(344);
    expect(kBlockRows(shape(184, 400, 1656))).toBe(416);
  });

  it('C starts at the bias plus the residual in a pass, every block adds into C, the activation a pass after', () => {
    const g = gemmOf({
      M: 9,
      N: 16,
      K: 600,
      bias: { offset: 0, rs: 0, cs: 1 },
      residual: true,
      act: { op: 'relu' },
    });
    const [start, first, last, activation, ...none] = splitK(g, 304, 'kb');
    expect(none).toEqual([]);
    if (first.k !== 'gemm' || last.k !== 'gemm') throw new Error('not gemms');
    expect([start.k, activation.k]).toEqual(['loop', 'loop']);
    expect([first.K, last.K]).toEqual([304, 296]);
    for (const block of [first, last]) {
      expect(block).toMatchObject({ residual: g.c });
      expect(block).not.toHaveProperty('bias');
      expect(block).not.toHaveProperty('act');
    }
    // the pass before the blocks reads the bias and the residual, the one after stores C's relu
    const loads = (s: Stmt) => {
      const ids: number[] = [];
      forEachStmt(
        s,
        (x) => x.k === 'store' && visitExpr(x.value, (e) => e.k === 'load' && ids.push(e.buf.id)),
      );
      return ids;
    };
    expect(loads(start)).toEqual([g.bias!.buf.id, g.residual!.buf.id]);
    expect(loads(activation)).toEqual([g.c.buf.id]);
    // the last block reads A from column 304 on and B from row 304 on
    expect(last.a.offset).toMatchObject({ op: 'add', b: { v: 304 } });
    expect(last.b.offset).toMatchObject({ op: 'add', b: { v: 304 * 16 } });
  });

  it('a B row stride known only at run time moves the block by rows × that stride', () => {
    const g = shape(64, 64, 1000, { rs: 64, cs: 1 });
    const hw = dim('hw');
    const [, , last] = splitK({ ...g, b: { ...g.b, rs: hw } }, 504, 'kb');
    if (last.k !== 'gemm') throw new Error('not a gemm');
    expect(last.b.offset).toEqual(add(i32(0), mul(i32(504), hw)));
    expect(last.a.offset).toEqual(add(i32(0), i32(504)));
  });

  it('the blocks of one length are one gemm in a loop: one copy of the code, a second for a shorter rest', () => {
    const gemmsIn = (stmts: Stmt[]) => {
      const Ks: number[] = [];
      for (const s of stmts) forEachStmt(s, (x) => x.k === 'gemm' && Ks.push(x.K));
      return Ks;
    };
    const g = shape(64, 64, 2100);
    expect(kBlockRows(g)).toBe(424);
    const blocks = splitK(g, 424, 'kb');
    expect(blocks[1]).toMatchObject({
      k: 'loop',
      v: 'kb',
      n: 4,
      body: [{ k: 'gemm', K: 424, residual: g.c }],
    });
    expect(gemmsIn(blocks)).toEqual([424, 404]);
    // one gemm whatever K, where the blocks are all as long: K = 1536, 2304, 4608
    for (const [M, N, K, count] of [
      [128, 384, 1536, 3],
      [256, 196, 2304, 6],
      [512, 49, 4608, 9],
    ]) {
      const split = gemmKBlocks([{ ...shape(M, N, K), act: { op: 'relu' } }]);
      expect(gemmsIn(split), `${M}×${N}×${K}`).toEqual([kBlockRows(shape(M, N, K))]);
      expect(split[1]).toMatchObject({ k: 'loop', n: count });
    }
    expect(gemmsIn(gemmKBlocks([shape(64, 64, 2305)]))).toEqual([464, 449]);
  });

  it('the rewrite leaves a B packed at compile time alone (packed-weights.ts chose its blocks)', () => {
    expect(gemmKBlocks([{ ...shape(64, 64, 2048), packedB: true }])).toHaveLength(1);
    expect(gemmKBlocks([shape(64, 64, 2048)]).map((s) => s.k)).toEqual(['loop', 'loop']);
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
    { M: 13, N: 203, K: 931, a: { offset: 5, rs: 940 }, c: { offset: 3, rs: 211 }, act: { op: 'relu' } },
  ],
  ['in a batch loop', { M: 9, N: 17, K: 813, batch: 2 }],
  [
    'five blocks, four in a loop, a shorter rest, residual, relu',
    { M: 11, N: 21, K: 2100, residual: true, act: { op: 'relu' } },
  ],
  [
    'K = 769 (392 and 377), bias per row, residual, relu',
    { M: 19, N: 37, K: 769, bias: { offset: 0, rs: 1, cs: 0 }, residual: true, act: { op: 'relu' } },
  ],
  [
    'K = 1025, bias per column, GELU',
    { M: 10, N: 12, K: 1025, bias: { offset: 0, rs: 0, cs: 1 }, act: GELU },
  ],
  [
    'K = 1536 in 3 equal blocks, alpha, residual, clip',
    { M: 9, N: 13, K: 1536, alpha: 0.25, residual: true, act: { op: 'clip', min: -6, max: 6 } },
  ],
  ['K = 2305, bias per row, no activation', { M: 8, N: 8, K: 2305, bias: { offset: 0, rs: 1, cs: 0 } }],
  [
    'K = 4608 in 9 equal blocks, residual, relu',
    { M: 8, N: 9, K: 4608, residual: true, act: { op: 'relu' } },
  ],
  ["a batch loop around the blocks' loop", { M: 8, N: 9, K: 1300, batch: 2 }],
];
const SPLIT_CASES = SPLIT_SHAPES.map(([name, g]) => {
  if (!kBlockRows(gemmOf(g))) throw new Error(`${name} would not split`);
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
