import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compileProgram,
  evaluateProgram,
  moduleMemoryBytes,
  programToWat,
} from '../../src/codegen/wasm/index.js';
import {
  GELU,
  GEMM_CASES,
  HARD_SWISH,
  PACKED_B_CASES,
  PACKED_B_RESIDUAL_CASES,
  PANEL_TOUCH_CASES,
  REMAINDER_TILE_CASES,
  RESIDUAL_GEMM_CASES,
  TILE_TAIL_CASES,
  gemmCase,
} from './cases/gemm.js';
import { callingMapsAfterGemm } from '../../src/codegen/wasm/gemm.js';
import type { Activation } from '../../src/kernels/ir.js';
import { describeCases, programOfCase } from './cases/case.js';
import { relaxedWasmTarget, wasmTarget } from './harness.js';

describeCases(wasmTarget, 'gemm', GEMM_CASES);
describeCases(relaxedWasmTarget, 'gemm, relaxed SIMD', GEMM_CASES);
describeCases(wasmTarget, 'gemm, B packed at compile time', PACKED_B_CASES);
describeCases(relaxedWasmTarget, 'gemm, B packed at compile time, relaxed SIMD', PACKED_B_CASES);
describeCases(wasmTarget, 'gemm tile tails', TILE_TAIL_CASES);
describeCases(relaxedWasmTarget, 'gemm tile tails, relaxed SIMD', TILE_TAIL_CASES);
describeCases(wasmTarget, 'gemm, next B panels touched', PANEL_TOUCH_CASES);
describeCases(relaxedWasmTarget, 'gemm, next B panels touched, relaxed SIMD', PANEL_TOUCH_CASES);
describeCases(wasmTarget, 'gemm remainder tiles', REMAINDER_TILE_CASES);
describeCases(relaxedWasmTarget, 'gemm remainder tiles, relaxed SIMD', REMAINDER_TILE_CASES);
const RESIDUAL_CASES = [...RESIDUAL_GEMM_CASES, ...PACKED_B_RESIDUAL_CASES];
describeCases(wasmTarget, 'gemm adding a residual', RESIDUAL_CASES);
describeCases(relaxedWasmTarget, 'gemm adding a residual, relaxed SIMD', RESIDUAL_CASES);
// without `expect`, a case is held to what the Kernel IR interpreter computes
describeCases(
  wasmTarget,
  'gemm adding a residual, against the interpreter',
  RESIDUAL_CASES.map(({ expect: _, ...c }) => c),
);

describe('gemm refusals', () => {
  it('rejects non-float32 operands', () => {
    const { program } = programOfCase({
      ...gemmCase('gemm', { M: 2, N: 2, K: 2 }),
      buffers: [
        { dtype: 'float64', length: 4 },
        { dtype: 'float32', length: 4 },
        { dtype: 'float32', length: 4 },
        { dtype: 'float32', length: 4 },
      ],
    });
    expect(() => evaluateProgram(program, [], [])).toThrow(/gemm A must be a float32 buffer, found float64/);
  });
});

describe('gemm code shape and speed', () => {
  const simple = (M: number, N: number, K: number, bStrides = { rs: N, cs: 1 }) =>
    programOfCase(gemmCase('gemm', { M, N, K, b: { ...bStrides, offset: 0 } }));

  it('unit column strides render SIMD micro-tiles, transposed B dot products, other strides scalar loops', () => {
    const wat = programToWat(simple(8, 16, 4).program);
    expect(wat).toMatch(/v128\.load32_splat/);
    expect(wat).toMatch(/v128\.load/);
    expect(programToWat(simple(8, 16, 4, { rs: 1, cs: 4 }).program)).toMatch(/f32x4\.extract_lane/);
    expect(programToWat(simple(8, 16, 4, { rs: 32, cs: 2 }).program)).not.toMatch(/f32x4|v128/);
    expect(programToWat(simple(8, 16, 4).program, { relaxedSimd: true })).toMatch(/f32x4\.relaxed_madd/);
  });

  it('a matrix-vector product (N = 1) is vectorized over k, four rows per B vector, in both modules', () => {
    for (const relaxedSimd of [false, true]) {
      const wat = programToWat(simple(16, 1, 33).program, { relaxedSimd });
      expect(wat).toMatch(/v128\.load offset=\d+ \(local\.get \$\d+_pb\)/);
      expect(wat).toMatch(relaxedSimd ? /f32x4\.relaxed_madd/ : /f32x4\.mul/);
      // 16 rows in blocks of 4: four f32x4 accumulators, no tail block
      expect(new Set(wat.match(/\$\d+_acc\b/g)).size).toBe(4);
    }
  });

  it('a map epilogue calling a math helper (GELU) runs as a pass over C after the gemm; one without (HardSwish) stays in the tile stores', () => {
    const body = (act: Activation) =>
      callingMapsAfterGemm(programOfCase(gemmCase('gemm', { M: 9, N: 13, K: 5, act })).program.run[0].body);
    const gelu = body(GELU);
    expect(gelu.map((s) => s.k)).toEqual(['gemm', 'loop']);
    expect(gelu[0]).not.toHaveProperty('act');
    expect(body(HARD_SWISH)).toMatchObject([{ k: 'gemm', act: HARD_SWISH }]);
  });

  it('a B packed at compile time is read in its panels where it lies, at any M: nothing is packed per run', () => {
    const wat = (M: number, packedB: boolean) =>
      programToWat(programOfCase(gemmCase('gemm', { M, N: 43, K: 17, packedB })).program);
    expect(wat(40, false)).toMatch(/\$\d+_pk\b/);
    for (const M of [1, 3, 40]) {
      expect(wat(M, true)).not.toMatch(/\$\d+_pk\b/);
      expect(wat(M, true)).toMatch(/v128\.load offset=\d+ \(local\.get \$\d+_pb\)/);
      expect(wat(M, true)).toMatch(/\$\d+_b_panel\b/);
    }
  });

  it('a B packed at compile time, panel by panel over several row blocks, has the next panel touched', () => {
    const touches = /\(drop \(i32\.load offset=\d+ \(local\.get \$\d+_touch\)\)\)/;
    const wat = (M: number, packedB: boolean, relaxedSimd: boolean) =>
      programToWat(programOfCase(gemmCase('gemm', { M, N: 43, K: 17, packedB })).program, { relaxedSimd });
    for (const relaxedSimd of [false, true]) {
      expect(wat(40, true, relaxedSimd)).toMatch(touches);
      // packed per run (its panel in scratch, cached), all panels per row block (M > N), one row block
      for (const [M, packedB] of [
        [40, false],
        [60, true],
        [3, true],
      ] as const)
        expect(wat(M, packedB, relaxedSimd)).not.toMatch(touches);
    }
  });

  it("both modules read one packed B with their own tiles: each tile's vectors from consecutive 4-column panels", () => {
    // K = 17: panels 17·16 = 272 bytes apart; relaxed's 12-column tile loads three of them, SIMD128's 8 two
    const { program } = programOfCase(gemmCase('gemm', { M: 40, N: 48, K: 17, packedB: true }));
    const panelLoad = (bytes: number) =>
      new RegExp(`v128\\.load offset=${bytes} \\(local\\.get \\$\\d+_pb\\)`);
    const relaxed = programToWat(program, { relaxedSimd: true });
    const plain = programToWat(program);
    for (const wat of [relaxed, plain]) expect(wat).toMatch(panelLoad(272));
    expect(relaxed).toMatch(panelLoad(544));
    expect(plain).not.toMatch(panelLoad(544));
  });

  it('a single tail column (N % tile width = 1) runs as dot products over k when A rows are contiguous in k, packed or not', () => {
    const wat = (g: Parameters<typeof gemmCase>[1]) =>
      programToWat(programOfCase(gemmCase('gemm', g)).program);
    // the dot form reduces its accumulators' lanes into scalar sums; the broadcast form has none
    const dotSums = /\$\d+_sum\b/;
    for (const packedB of [false, true])
      for (const M of [40, 60]) expect(wat({ M, N: 49, K: 17, packedB })).toMatch(dotSums);
    expect(wat({ M: 40, N: 48, K: 17 })).not.toMatch(dotSums);
    expect(wat({ M: 40, N: 50, K: 17 })).not.toMatch(dotSums);
    expect(wat({ M: 40, N: 49, K: 17, a: { rs: 1, cs: 40 } })).not.toMatch(dotSums);
  });

  it('model.wasm and model.relaxed.wasm declare the same memory, though their tiles pack different panels', () => {
    // one 8- or 12-column panel of K = 5000 at a time: 80 000 bytes apart, more than a page; M = 7: only
    // relaxed's 3-row tiles pack B; M > N: every panel packed, tails of different widths
    for (const [M, N, K] of [
      [16, 40, 5000],
      [7, 40, 5000],
      [40, 27, 33],
      [64, 49, 300],
    ]) {
      const { program } = programOfCase(gemmCase('gemm', { M, N, K }));
      expect(moduleMemoryBytes(program, { relaxedSimd: true })).toBe(moduleMemoryBytes(program));
    }
  });

  it("each module renders its own feature's lane table: relaxed multiply-add and clamps, or none", () => {
    const clipped = programOfCase(
      gemmCase('gemm', { M: 9, N: 13, K: 5, act: { op: 'clip', min: -1, max: 1 } }),
    ).program;
    const relaxed = programToWat(clipped, { relaxedSimd: true });
    expect(relaxed).toMatch(/f32x4\.relaxed_max/);
    expect(relaxed).toMatch(/f32x4\.relaxed_min/);
    expect(relaxed).not.toMatch(/f32x4\.mul/);
    const plain = programToWat(clipped);
    expect(plain).not.toMatch(/relaxed/);
    expect(plain).toMatch(/f32x4\.mul/);
  });

  it('reports GFLOP/s for a 256³ gemm (printed, not asserted)', () => {
    const n = 256;
    const { bufs, program } = simple(n, n, n);
    // A fresh process: in this one V8's background compiler is busy tiering up binaryen, which skews timings.
    const dir = mkdtempSync(join(tmpdir(), 'kiln-gemm-'));
    const file = join(dir, 'gemm.wasm');
    writeFileSync(file, compileProgram(program));
    const script = `
      const bytes = require('fs').readFileSync(${JSON.stringify(file)});
      const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
      const mem = new Float32Array(inst.exports.memory.buffer);
      for (const off of [${bufs[0].offset}, ${bufs[1].offset}])
        for (let i = 0; i < ${n * n}; i++) mem[off / 4 + i] = Math.sin(i * 12.9898) * 2;
      let best = Infinity;
      const deadline = performance.now() + 1000;
      while (performance.now() < deadline) {
        const t0 = performance.now();
        for (let i = 0; i < 5; i++) inst.exports.run();
        best = Math.min(best, (performance.now() - t0) / 5000);
      }
      console.log(((2 * ${n} ** 3) / best / 1e9).toFixed(2));`;
    const gflops = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim();
    rmSync(dir, { recursive: true });
    console.log(`gemm 256³ f32 (wasm SIMD, 1 thread): ${gflops} GFLOP/s`);
    expect(Number(gflops)).toBeGreaterThan(0);
  });
});
