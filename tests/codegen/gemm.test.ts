import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { add, i32, loop, mul, v } from '../../src/kernels/build.js';
import type { Activation, Expr, GemmStmt, MatView, PlacedBuffer } from '../../src/kernels/ir.js';
import { compileProgram, evaluateProgram, programToWat } from '../../src/codegen/wasm/index.js';
import { place, programOf, runCompiled } from './harness.js';

interface View {
  offset: number;
  rs: number;
  cs: number;
}

interface Case {
  M: number;
  N: number;
  K: number;
  a?: Partial<View>;
  b?: Partial<View>;
  c?: Partial<View>;
  bias?: View;
  alpha?: number;
  beta?: number;
  act?: Activation;
}

const rand = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 2);

/** Buffer length a view needs for r rows and c columns. */
const extent = (view: View, r: number, c: number) => view.offset + (r - 1) * view.rs + (c - 1) * view.cs + 1;

function reference(
  cs: Case,
  A: Float32Array,
  B: Float32Array,
  Bias: Float32Array,
  C: Float32Array,
  av: View,
  bv: View,
  cv: View,
) {
  const out = Float32Array.from(C);
  for (let m = 0; m < cs.M; m++)
    for (let n = 0; n < cs.N; n++) {
      let acc = 0;
      for (let k = 0; k < cs.K; k++)
        acc += A[av.offset + m * av.rs + k * av.cs] * B[bv.offset + k * bv.rs + n * bv.cs];
      let value = (cs.alpha ?? 1) * acc;
      if (cs.bias) value += (cs.beta ?? 1) * Bias[cs.bias.offset + m * cs.bias.rs + n * cs.bias.cs];
      if (cs.act?.op === 'relu') value = Math.max(value, 0);
      if (cs.act?.op === 'clip') value = Math.min(Math.max(value, cs.act.min), cs.act.max);
      out[cv.offset + m * cv.rs + n * cv.cs] = value;
    }
  return out;
}

function views(cs: Case) {
  const av = { offset: 0, rs: cs.K, cs: 1, ...cs.a };
  const bv = { offset: 0, rs: cs.N, cs: 1, ...cs.b };
  const cv = { offset: 0, rs: cs.N, cs: 1, ...cs.c };
  return { av, bv, cv };
}

function gemmOf(cs: Case, bufs: PlacedBuffer[], off: (view: View) => Expr): GemmStmt {
  const [A, B, Bias, C] = bufs;
  const { av, bv, cv } = views(cs);
  const mv = (buf: PlacedBuffer, view: View): MatView => ({
    buf,
    offset: off(view),
    rs: view.rs,
    cs: view.cs,
  });
  return {
    k: 'gemm',
    M: cs.M,
    N: cs.N,
    K: cs.K,
    a: mv(A, av),
    b: mv(B, bv),
    c: mv(C, cv),
    alpha: cs.alpha ?? 1,
    beta: cs.beta ?? 1,
    ...(cs.bias ? { bias: mv(Bias, cs.bias) } : {}),
    ...(cs.act ? { act: cs.act } : {}),
  };
}

/** Largest |out - ref| / (1 + |ref|); one assertion per case keeps big cases fast. */
function worstError(out: Float32Array, ref: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++)
    worst = Math.max(worst, Math.abs(out[i] - ref[i]) / (1 + Math.abs(ref[i])));
  return Number.isNaN(out.reduce((s, x) => s + x, 0)) ? Infinity : worst;
}

/** Runs one gemm case unoptimized and optimized and checks both against the JS reference. */
function check(cs: Case, relaxedSimd = false) {
  const { av, bv, cv } = views(cs);
  const A = rand(extent(av, cs.M, cs.K), 1);
  const B = rand(extent(bv, cs.K, cs.N), 2);
  const Bias = cs.bias ? rand(extent(cs.bias, cs.M, cs.N), 3) : new Float32Array(1);
  const C0 = rand(extent(cv, cs.M, cs.N), 4);
  const bufs = place([A, B, Bias, C0].map((d) => ({ dtype: 'float32' as const, length: d.length })));
  const program = programOf(bufs, [gemmOf(cs, bufs, (view) => i32(view.offset))]);
  const inputs = [A, B, Bias, C0].map((data, i) => ({ buf: bufs[i], data }));
  const ref = reference(cs, A, B, Bias, C0, av, bv, cv);
  const tol = 1e-5 * Math.sqrt(cs.K) * 4;
  for (const out of [
    evaluateProgram(program, inputs, [bufs[3]])[0],
    runCompiled(program, inputs, [bufs[3]], relaxedSimd)[0],
  ]) {
    expect(out.length).toBe(ref.length);
    expect(worstError(out as Float32Array, ref)).toBeLessThanOrEqual(tol);
  }
}

describe('gemm', () => {
  it('1×1×1', () => check({ M: 1, N: 1, K: 1 }));
  for (const [M, N, K] of [
    [3, 5, 7],
    [4, 8, 1],
    [5, 9, 3],
    [7, 13, 11],
    [9, 3, 2],
    [17, 31, 19],
    [4, 12, 16],
    [1, 100, 3],
    [33, 1, 5],
  ])
    it(`${M}×${N}×${K} tails`, () => check({ M, N, K }));
  it('64×96×80 with alpha', () => check({ M: 64, N: 96, K: 80, alpha: 0.5 }));
  it('packed B panels, one panel at a time (M ≤ N) and all panels first (M > N), with tails', () => {
    // M ≥ 8 and N ≥ 8 pack B; 4-row and 8-column tiles with m, n and k remainders; padded B rows
    check({
      M: 10,
      N: 27,
      K: 13,
      b: { offset: 1, rs: 30 },
      bias: { offset: 0, rs: 1, cs: 0 },
      act: { op: 'relu' },
    });
    check({ M: 27, N: 19, K: 9, b: { rs: 21 }, bias: { offset: 2, rs: 0, cs: 1 }, beta: 0.5 });
    check({ M: 41, N: 16, K: 33, c: { offset: 3, rs: 17 }, alpha: 2 });
  });
  it('strided views (transposed A, padded rows, offsets)', () => {
    check({ M: 6, N: 10, K: 5, a: { rs: 1, cs: 6 }, b: { offset: 3, rs: 13 }, c: { offset: 2, rs: 12 } });
    check({ M: 5, N: 9, K: 4, a: { rs: 1, cs: 5 }, b: { rs: 1, cs: 4 } });
    check({ M: 4, N: 6, K: 3, b: { rs: 13, cs: 2 } });
    // scalar fallback (B neither row- nor column-contiguous) with the whole epilogue
    check({
      M: 5,
      N: 7,
      K: 3,
      b: { rs: 15, cs: 2 },
      bias: { offset: 1, rs: 1, cs: 0 },
      alpha: 2,
      beta: 3,
      act: { op: 'clip', min: -1, max: 2 },
    });
  });
  it('bias broadcasts (row, column, scalar, full) with beta', () => {
    check({ M: 5, N: 11, K: 6, bias: { offset: 0, rs: 0, cs: 1 }, beta: 2 });
    check({ M: 5, N: 11, K: 6, bias: { offset: 1, rs: 1, cs: 0 } });
    check({ M: 5, N: 11, K: 6, bias: { offset: 2, rs: 0, cs: 0 }, beta: -1 });
    check({ M: 5, N: 11, K: 6, bias: { offset: 0, rs: 11, cs: 1 }, alpha: 3, beta: 0.25 });
  });
  it('transposed B (dot-product form) with k, n and m tails, bias and activation', () => {
    for (const [M, N, K] of [
      [1, 1, 1],
      [3, 9, 4],
      [5, 7, 11],
      [8, 12, 35],
      [2, 5, 64],
    ])
      check({ M, N, K, b: { rs: 1, cs: K } });
    check({
      M: 5,
      N: 6,
      K: 9,
      b: { offset: 2, rs: 1, cs: 11 },
      bias: { offset: 0, rs: 0, cs: 1 },
      act: { op: 'relu' },
    });
    check({
      M: 3,
      N: 10,
      K: 7,
      a: { rs: 9 },
      b: { rs: 1, cs: 7 },
      bias: { offset: 0, rs: 10, cs: 1 },
      alpha: 2,
      beta: 0.5,
    });
  });
  it('relu and clip epilogues', () => {
    check({ M: 6, N: 10, K: 4, act: { op: 'relu' } });
    check({
      M: 6,
      N: 10,
      K: 4,
      bias: { offset: 0, rs: 0, cs: 1 },
      act: { op: 'clip', min: -0.5, max: 0.75 },
    });
  });
  it('clip epilogue with an infinite bound (Clip with only a min, as in melspectrogram models)', () => {
    // N = 5: 4-wide vector tiles and a scalar tail both splat the bounds
    check({ M: 5, N: 5, K: 3, act: { op: 'clip', min: 1e-10, max: Infinity } });
    check({ M: 5, N: 5, K: 3, act: { op: 'clip', min: -Infinity, max: 0.25 } });
  });
  it('batched through an enclosing loop, offsets using the loop variable', () => {
    const [batch, M, N, K] = [3, 5, 6, 7];
    const A = rand(batch * M * K, 1);
    const B = rand(batch * K * N, 2);
    const bufs = place([
      { dtype: 'float32', length: A.length },
      { dtype: 'float32', length: B.length },
      { dtype: 'float32', length: 1 },
      { dtype: 'float32', length: batch * M * N },
    ]);
    const cs: Case = { M, N, K };
    const bv = v('b');
    const g = gemmOf(cs, bufs, () => i32(0));
    g.a.offset = mul(bv, i32(M * K));
    g.b.offset = mul(bv, i32(K * N));
    g.c.offset = add(mul(bv, i32(M * N)), i32(0));
    const program = programOf(bufs, [loop('b', batch, [g])]);
    const inputs = [
      { buf: bufs[0], data: A },
      { buf: bufs[1], data: B },
    ];
    const outs = [evaluateProgram(program, inputs, [bufs[3]])[0], runCompiled(program, inputs, [bufs[3]])[0]];
    for (let b = 0; b < batch; b++) {
      const ref = reference(
        cs,
        A.subarray(b * M * K),
        B.subarray(b * K * N),
        new Float32Array(1),
        new Float32Array(M * N),
        ...(Object.values(views(cs)) as [View, View, View]),
      );
      for (const out of outs)
        expect(worstError((out as Float32Array).subarray(b * M * N, (b + 1) * M * N), ref)).toBeLessThan(
          1e-5,
        );
    }
  });
  it('rejects non-float32 operands', () => {
    const bufs = place([
      { dtype: 'float64', length: 4 },
      { dtype: 'float32', length: 4 },
      { dtype: 'float32', length: 4 },
      { dtype: 'float32', length: 4 },
    ]);
    const program = programOf(bufs, [gemmOf({ M: 2, N: 2, K: 2 }, bufs, () => i32(0))]);
    expect(() => evaluateProgram(program, [], [])).toThrow(/gemm A must be a float32 buffer, found float64/);
  });
});

describe('gemm code shape and speed', () => {
  const simple = (M: number, N: number, K: number, bStrides = { rs: N, cs: 1 }) => {
    const bufs = place([
      { dtype: 'float32', length: M * K },
      { dtype: 'float32', length: K * N },
      { dtype: 'float32', length: 1 },
      { dtype: 'float32', length: M * N },
    ]);
    const g = gemmOf({ M, N, K, b: { ...bStrides, offset: 0 } }, bufs, () => i32(0));
    return { bufs, program: programOf(bufs, [g]) };
  };

  it('unit column strides render SIMD micro-tiles, transposed B dot products, other strides scalar loops', () => {
    const wat = programToWat(simple(8, 16, 4).program);
    expect(wat).toMatch(/v128\.load32_splat/);
    expect(wat).toMatch(/v128\.load/);
    expect(programToWat(simple(8, 16, 4, { rs: 1, cs: 4 }).program)).toMatch(/f32x4\.extract_lane/);
    expect(programToWat(simple(8, 16, 4, { rs: 32, cs: 2 }).program)).not.toMatch(/f32x4|v128/);
    expect(programToWat(simple(8, 16, 4).program, { relaxedSimd: true })).toMatch(/f32x4\.relaxed_madd/);
  });

  it('relaxed-SIMD variant (fused multiply-add) agrees with the reference', () => {
    // Node 20 ships relaxed SIMD behind a flag: run the module in a child process that enables it
    const [M, N, K] = [9, 21, 13];
    const { bufs, program } = simple(M, N, K);
    const A = rand(M * K, 1);
    const B = rand(K * N, 2);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-relaxed-'));
    const file = join(dir, 'gemm.wasm');
    writeFileSync(file, compileProgram(program, { relaxedSimd: true }));
    const script = `
      const inst = new WebAssembly.Instance(new WebAssembly.Module(require('fs').readFileSync(${JSON.stringify(file)})), {});
      const mem = inst.exports.memory.buffer;
      new Float32Array(mem, ${bufs[0].offset}, ${M * K}).set(${JSON.stringify(Array.from(A))});
      new Float32Array(mem, ${bufs[1].offset}, ${K * N}).set(${JSON.stringify(Array.from(B))});
      inst.exports.run();
      console.log(JSON.stringify(Array.from(new Float32Array(mem, ${bufs[3].offset}, ${M * N}))));`;
    const args = ['--experimental-wasm-relaxed-simd', '-e', script];
    const out = Float32Array.from(JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })));
    rmSync(dir, { recursive: true });
    const v = { offset: 0, cs: 1 };
    const ref = reference(
      { M, N, K },
      A,
      B,
      new Float32Array(1),
      new Float32Array(M * N),
      { ...v, rs: K },
      { ...v, rs: N },
      { ...v, rs: N },
    );
    expect(worstError(out, ref)).toBeLessThan(1e-5);
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
