/**
 * The int8 gemm statement (GemmStmt.int8) rendered by gemm-int8.ts, both orientations (int8 weights in B
 * as MatMul lowers them, in A as Conv does), odd M/N/K, bias and activation, activations signed (±127)
 * and never negative (`unsigned`, 0..255), against the JavaScript
 * reference (src/kernels/int8-gemm.ts) and against the float32 product it approximates. The relaxed
 * module runs in a child process with relaxed SIMD on (Node 20 has it behind a flag): it must not use
 * the relaxed int8 dot, which that engine computes wrongly (gemm-int8.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileProgram, evaluateProgram, programToWat } from '../../src/codegen/wasm/index.js';
import { RELAXED_LANES, SIMD128_LANES } from '../../src/codegen/wasm/lanes.js';
import { i32 } from '../../src/kernels/build.js';
import type { Activation, GemmStmt, MatView, PlacedBuffer } from '../../src/kernels/ir.js';
import { int8Gemm, int8ActivationBytes } from '../../src/kernels/int8-gemm.js';
import { activateValue, interpretKernels, Memory } from '../../src/kernels/interpret.js';
import { place, programOf } from './program.js';

interface Shape {
  M: number;
  N: number;
  K: number;
  weightsInA: boolean;
  bias?: boolean;
  alpha?: number;
  act?: Activation;
  /** activations never negative, quantized to 0..255 */
  unsigned?: boolean;
}

const wave = (n: number, seed: number, amp: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 12.9898 + seed) * amp));

/** A program of one int8 gemm; weights [channels][K] int8 with per-channel scales, activations float32. */
function caseOf(s: Shape) {
  const { M, N, K, weightsInA } = s;
  const channels = weightsInA ? M : N;
  const weights = Int8Array.from(wave(channels * K, 1, 127), (x) => Math.round(x));
  const scales = Float32Array.from(wave(channels, 2, 0.01), (x) => Math.fround(Math.abs(x) + 0.001));
  // a zero activation row/column exercises the max|x| = 0 case
  const act = (weightsInA ? wave(K * N, 3, 3) : wave(M * K, 3, 3)).map((x, i) =>
    (weightsInA ? i % N : Math.floor(i / K)) === 1 ? 0 : s.unsigned ? Math.abs(x) : x,
  );
  const bias = wave(channels, 4, 1);
  const bufs = place([
    { dtype: weightsInA ? 'int8' : 'float32', length: M * K },
    { dtype: weightsInA ? 'float32' : 'int8', length: K * N },
    { dtype: 'float32', length: M * N },
    { dtype: 'float32', length: channels },
    { dtype: 'float32', length: channels },
    { dtype: 'int8', length: int8ActivationBytes(weightsInA ? N : M, K) },
  ]);
  const [A, B, C, S, Bias, Q] = bufs;
  const perChannel = (buf: PlacedBuffer): MatView =>
    weightsInA ? { buf, offset: i32(0), rs: 1, cs: 0 } : { buf, offset: i32(0), rs: 0, cs: 1 };
  const g: GemmStmt = {
    k: 'gemm',
    M,
    N,
    K,
    a: { buf: A, offset: i32(0), rs: K, cs: 1 },
    // activations [K][N] for Conv; weights [N][K] (B transposed) for MatMul
    b: weightsInA ? { buf: B, offset: i32(0), rs: N, cs: 1 } : { buf: B, offset: i32(0), rs: 1, cs: K },
    c: { buf: C, offset: i32(0), rs: N, cs: 1 },
    alpha: s.alpha ?? 1,
    beta: 1,
    int8: { scales: perChannel(S), unsigned: s.unsigned, activations: Q },
    ...(s.bias && { bias: perChannel(Bias) }),
    ...(s.act && { act: s.act }),
  };
  const inputs = [
    { buf: weightsInA ? A : B, data: weights },
    { buf: weightsInA ? B : A, data: act },
    { buf: S, data: scales },
    { buf: Bias, data: bias },
  ];
  const reference = () => {
    const out = new Float32Array(M * N);
    const read = (view: MatView, data: ArrayLike<number>) => (r: number, c: number) =>
      data[r * (view.rs as number) + c * view.cs];
    int8Gemm(
      g,
      {
        a: read(g.a, weightsInA ? weights : act),
        b: read(g.b, weightsInA ? act : weights),
        scales: read(g.int8!.scales, scales),
        ...(g.bias && { bias: read(g.bias, bias) }),
        activate: (v) => activateValue(g.act, v),
      },
      (m, n, v) => (out[m * N + n] = v),
    );
    return out;
  };
  /**
   * The float32 product the int8 one approximates, and how far off it may be: each activation is off by at
   * most half its quantization step (max|x| / 254, or max|x| / 510 unsigned), so an output by at most
   * Σ_k |w| · that (times alpha).
   */
  const float = () => {
    const value = new Float32Array(M * N);
    const bound = new Float32Array(M * N);
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        const ch = weightsInA ? m : n;
        const x = (k: number) => (weightsInA ? act[k * N + n] : act[m * K + k]);
        let [acc, weightSum, xMax] = [0, 0, 0];
        for (let k = 0; k < K; k++) {
          const w = weights[ch * K + k] * scales[ch];
          acc += w * x(k);
          weightSum += Math.abs(w);
          xMax = Math.max(xMax, Math.abs(x(k)));
        }
        let v = acc * (s.alpha ?? 1) + (s.bias ? bias[ch] : 0);
        if (s.act?.op === 'relu') v = Math.max(v, 0);
        if (s.act?.op === 'clip') v = Math.min(Math.max(v, s.act.min), s.act.max);
        value[m * N + n] = v;
        const halfSteps = s.unsigned ? 510 : 254;
        bound[m * N + n] = ((weightSum * xMax) / halfSteps) * (s.alpha ?? 1) * 1.001 + 1e-5;
      }
    return { value, bound };
  };
  return { g, bufs, program: programOf(bufs, [g]), inputs, C, reference, float };
}

const SHAPES: Shape[] = [
  { M: 1, N: 1, K: 1, weightsInA: false },
  { M: 5, N: 7, K: 13, weightsInA: false, bias: true },
  { M: 9, N: 21, K: 40, weightsInA: false, bias: true, act: { op: 'relu' }, alpha: 0.5 },
  { M: 3, N: 4, K: 16, weightsInA: false },
  { M: 1, N: 1, K: 3, weightsInA: true },
  { M: 7, N: 13, K: 27, weightsInA: true, bias: true },
  { M: 16, N: 9, K: 72, weightsInA: true, bias: true, act: { op: 'clip', min: 0, max: 6 } },
  { M: 5, N: 7, K: 13, weightsInA: false, bias: true, unsigned: true },
  { M: 9, N: 21, K: 40, weightsInA: false, act: { op: 'relu' }, unsigned: true },
  { M: 7, N: 13, K: 27, weightsInA: true, bias: true, unsigned: true },
  { M: 16, N: 9, K: 72, weightsInA: true, unsigned: true },
];

const name = (s: Shape) =>
  `${s.weightsInA ? 'weights in A' : 'weights in B'} M=${s.M} N=${s.N} K=${s.K}${s.unsigned ? ' unsigned' : ''}`;

function expectNear(actual: ArrayLike<number>, expected: { value: Float32Array; bound: Float32Array }) {
  expect(actual.length).toBe(expected.value.length);
  for (let i = 0; i < actual.length; i++)
    if (!(Math.abs(actual[i] - expected.value[i]) <= expected.bound[i]))
      throw new Error(`element ${i}: ${actual[i]} vs ${expected.value[i]} ± ${expected.bound[i]}`);
}

describe('int8 gemm (SIMD128)', () => {
  for (const s of SHAPES)
    it(`${name(s)}: equals the reference, within the quantization error of the float32 product`, () => {
      const c = caseOf(s);
      const [out] = evaluateProgram(c.program, c.inputs, [c.C]) as Float32Array[];
      expect(Array.from(out)).toEqual(Array.from(c.reference()));
      // the interpreter runs the same reference
      const mem = new Memory();
      for (const { buf, data } of c.inputs) mem.get(buf).set(data as never);
      interpretKernels(c.program.run, mem);
      expect(Array.from(mem.get(c.C) as Float32Array)).toEqual(Array.from(out));
      expectNear(out, c.float());
    });

  it('renders i32x4.dot_i16x8_s in both modules, never the relaxed int8 dot', () => {
    const { program } = caseOf(SHAPES[1]);
    expect(programToWat(program)).toMatch(/i32x4\.dot_i16x8_s/);
    expect(programToWat(program, { relaxedSimd: true })).toMatch(/i32x4\.dot_i16x8_s/);
    expect(programToWat(program, { relaxedSimd: true })).not.toMatch(/relaxed_dot/);
  });

  it('clamps Relu and Clip to their constant bounds as pmax/pmin, the varying operand first (relaxed: relaxed_max/min)', () => {
    const clip = SHAPES.find((x) => x.act?.op === 'clip')!;
    const relu = SHAPES.find((x) => x.act?.op === 'relu')!;
    const strict = (wat: string, op: 'min' | 'max') => wat.split(`(f32x4.${op} `).length - 1;
    const [c0, c6] = [SIMD128_LANES.splat(0), SIMD128_LANES.splat(6)];
    for (const [relaxed, lanes] of [
      [false, SIMD128_LANES],
      [true, RELAXED_LANES],
    ] as const) {
      const clipWat = programToWat(caseOf(clip).program, { relaxedSimd: relaxed });
      const reluWat = programToWat(caseOf(relu).program, { relaxedSimd: relaxed });
      // the dequantized, biased value is the first operand, the splat bound the second
      expect(clipWat).toMatch(new RegExp(`\\(${lanes.min} \\(${lanes.max} \\(f32x4\\.add `));
      expect(clipWat).toContain(`) ${c0}) ${c6})`);
      expect(reluWat).toMatch(new RegExp(`\\(${lanes.max} \\(f32x4\\.add `));
      expect(reluWat).toContain(`) ${c0})`);
      // no strict min/max in the epilogue: the quantizer's running max|x| keeps its own
      const bare = (s: Shape) =>
        programToWat(caseOf({ ...s, act: undefined }).program, { relaxedSimd: relaxed });
      for (const [wat, s] of [
        [clipWat, clip],
        [reluWat, relu],
      ] as const)
        for (const op of ['min', 'max'] as const) expect(strict(wat, op)).toBe(strict(bare(s), op));
    }
  });

  it('widens unsigned activations as unsigned bytes, the weights as signed ones', () => {
    for (const s of SHAPES.filter((x) => x.unsigned)) {
      const wat = programToWat(caseOf(s).program);
      expect(wat).toMatch(/v128\.load8x8_u/);
      expect(wat).toMatch(/v128\.load8x8_s/);
      expect(wat).toMatch(/i8x16\.narrow_i16x8_u/);
      expect(wat).not.toMatch(/i8x16\.narrow_i16x8_s/);
    }
  });
});

describe('int8 gemm (relaxed SIMD, child process)', () => {
  it('every shape equals the reference', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-int8-'));
    try {
      const cases = SHAPES.map((s, i) => {
        const c = caseOf(s);
        const file = join(dir, `${i}.wasm`);
        writeFileSync(file, compileProgram(c.program, { relaxedSimd: true }));
        const inputs = c.inputs.map(({ buf, data }) => ({
          offset: buf.offset,
          ctor: data.constructor.name,
          values: Array.from(data as ArrayLike<number>),
        }));
        return { c, job: { file, inputs, out: { offset: c.C.offset, length: c.C.length } } };
      });
      const script = `
        const fs = require('fs');
        const jobs = JSON.parse(fs.readFileSync(0, 'utf8'));
        console.log(JSON.stringify(jobs.map((j) => {
          const inst = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(j.file)), {});
          const mem = inst.exports.memory.buffer;
          for (const x of j.inputs) new globalThis[x.ctor](mem, x.offset, x.values.length).set(x.values);
          inst.exports.run();
          return Array.from(new Float32Array(mem, j.out.offset, j.out.length));
        })));`;
      const outs = JSON.parse(
        execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', script], {
          encoding: 'utf8',
          input: JSON.stringify(cases.map((x) => x.job)),
        }),
      ) as number[][];
      cases.forEach(({ c }, i) => {
        expect(outs[i]).toEqual(Array.from(c.reference()));
      });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
