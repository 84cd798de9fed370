/**
 * The f32x4 math helpers (src/codegen/wasm/mathlib/vector.ts) against f64 references, in float32 ulps, over
 * wide ranges (tails and subnormal results included) and specials, in both flavours: SIMD128 here, and the
 * relaxed-SIMD one (relaxed_madd polynomials) in a child node started with --experimental-wasm-relaxed-simd.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programToWat } from '../../src/codegen/wasm/index.js';
import { f32, load, loop, max, min, store, un, v } from '../../src/kernels/build.js';
import { place, programOf } from './program.js';
import {
  erf64,
  runVectorMath,
  runVectorMathInChild,
  vectorMathModule,
  type VectorMathModule,
  type VectorMathOp,
} from './vector-math-run.js';

const REF: Record<VectorMathOp, (x: number) => number> = {
  exp: Math.exp,
  log: Math.log,
  erf: erf64,
  tanh: Math.tanh,
};
/**
 * the widest error allowed, in float32 ulps of the reference: erf is one rational x·P(x²)/Q(x²) (no branch,
 * no exp), whose float32 evaluation rounds a few more times than the others' polynomials
 */
const MAX_ULPS: Record<VectorMathOp, number> = { exp: 4, log: 4, erf: 6, tanh: 4 };

/** One float32 ulp at |r| (subnormal spacing below 2^-126). */
function ulp(r: number): number {
  const a = Math.abs(Math.fround(r));
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** Dense sweeps over where each function varies, log-spaced tails, random float32 bit patterns. */
function inputs(op: VectorMathOp): Float32Array {
  const xs: number[] = [];
  const [lo, hi] = op === 'exp' ? [-104, 89] : op === 'erf' ? [-5, 5] : op === 'log' ? [0, 4] : [-10, 10];
  for (let i = 0; i <= 60001; i++) xs.push(lo + ((hi - lo) * i) / 60001);
  for (let e = -40; e <= 7; e += 0.01) xs.push(2 ** e, -(2 ** e));
  // log: both sides of 1 (where the result is small) and of √½, subnormals, the largest floats
  if (op === 'log') {
    for (let i = -20000; i <= 20000; i++) xs.push(1 + i * 2 ** -22, Math.SQRT1_2 + i * 2 ** -24);
    for (let e = -149; e <= 128; e += 0.01) xs.push(2 ** e);
    xs.push(2 ** -149, 2 ** -126, 2 ** -126 - 2 ** -149, 3.4028234663852886e38, -(2 ** -149), -0.5);
  }
  let s = 12345;
  for (let i = 0; i < 20000; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    xs.push(new Float32Array(new Uint32Array([s]).buffer)[0]);
  }
  xs.push(
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
    88.72,
    88.73,
    -87.33,
    -103.97,
    -149 * Math.LN2,
    3.925,
    0.921875,
    0.625,
  );
  // 1 + (length % 4 = 1): the scalar tail gets an element too
  return Float32Array.from(xs.length % 4 === 1 ? xs : [...xs, ...Array(5 - (xs.length % 4)).fill(0.5)]);
}

/**
 * exp's bounded helper: arguments clamped into [-87, 88] (EXP_BOUNDED), the largest and smallest results it
 * makes, and values beyond (clamped), as Softmax's e^(min(max(d, -64), 0)) clamps them.
 */
const BOUNDED: [number, number] = [-87, 88];
const clampTo =
  ([lo, hi]: [number, number]) =>
  (x: number) =>
    Number.isNaN(x) ? x : Math.min(Math.max(x, lo), hi);
function boundedInputs(): Float32Array {
  const xs = Array.from(inputs('exp'));
  for (let i = 0; i <= 40001; i++) xs.push(-87 + (175 * i) / 40001);
  xs.push(-87, 88, -64, -64.00001, 0, -0);
  return Float32Array.from(xs.length % 4 === 1 ? xs : [...xs, ...Array(5 - (xs.length % 4)).fill(-0.5)]);
}

/** Elements whose error is above MAX_ULPS[op] (with the worst error), and special values wrongly handled. */
function check(op: VectorMathOp, x: Float32Array, y: Float32Array, arg = (e: number) => e) {
  const bad: string[] = [];
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const r = REF[op](Math.fround(arg(x[i])));
    if (Number.isNaN(r) || !Number.isFinite(Math.fround(r)) || r === 0) {
      if (!Object.is(y[i], Math.fround(r))) bad.push(`${op}(${x[i]}) = ${y[i]}, want ${Math.fround(r)}`);
      continue;
    }
    const u = Math.abs(y[i] - r) / ulp(r);
    worst = Math.max(worst, u);
    if (!(u <= MAX_ULPS[op])) bad.push(`${op}(${x[i]}) = ${y[i]}, want ${r} (${u.toFixed(2)} ulps)`);
  }
  return { bad: bad.slice(0, 10), worst };
}

describe('f32x4 math helpers', () => {
  for (const op of ['exp', 'log', 'erf', 'tanh'] as const) {
    it(`${op} is vectorized and within ${MAX_ULPS[op]} ulps over its range, with IEEE specials (SIMD128)`, () => {
      const x = inputs(op);
      const bufs = place([
        { dtype: 'float32', length: 9 },
        { dtype: 'float32', length: 9 },
      ]);
      const wat = programToWat(
        programOf(bufs, [loop('i', 9, [store(bufs[1], v('i'), un(op, load(bufs[0], v('i'))))])]),
      );
      expect(wat).toContain(`call $v${op}_f32x4`);
      const { bad, worst } = check(op, x, runVectorMath(vectorMathModule(op, x.length, false), x));
      expect(bad).toEqual([]);
      expect(worst).toBeLessThan(MAX_ULPS[op]);
    });
  }

  it(`exp of an argument clamped into [-87, 88] takes the bounded helper, within ${MAX_ULPS.exp} ulps (SIMD128)`, () => {
    const x = boundedInputs();
    const m = vectorMathModule('exp', x.length, false, BOUNDED);
    const { bad, worst } = check('exp', x, runVectorMath(m, x), clampTo(BOUNDED));
    expect(bad).toEqual([]);
    expect(worst).toBeLessThan(MAX_ULPS.exp);
  });

  it('exp of an argument clamped wider than [-87, 88], or on one side only, keeps the general helper', () => {
    const helpers = (e: (x: ReturnType<typeof load>) => Parameters<typeof un>[1]) => {
      const bufs = place([
        { dtype: 'float32', length: 9 },
        { dtype: 'float32', length: 9 },
      ]);
      const wat = programToWat(
        programOf(bufs, [loop('i', 9, [store(bufs[1], v('i'), un('exp', e(load(bufs[0], v('i')))))])]),
      );
      return wat.match(/call \$vexp\w*/g);
    };
    expect(helpers((x) => min(max(x, f32(-64)), f32(0)))).toEqual(['call $vexp_bounded_f32x4']);
    expect(helpers((x) => max(min(x, f32(88)), f32(-87)))).toEqual(['call $vexp_bounded_f32x4']);
    expect(helpers((x) => min(max(x, f32(-90)), f32(0)))).toEqual(['call $vexp_f32x4']);
    expect(helpers((x) => max(x, f32(-64)))).toEqual(['call $vexp_f32x4']);
  });
});

describe('f32x4 math helpers, relaxed-SIMD flavour', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-vmath-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const inChild = (m: VectorMathModule, x: Float32Array) => runVectorMathInChild(dir, m, x);

  it('erf is one branch-free rational: no branch, no call (a GELU epilogue costs the same whatever its lanes)', () => {
    const bufs = place([
      { dtype: 'float32', length: 8 },
      { dtype: 'float32', length: 8 },
    ]);
    const wat = programToWat(
      programOf(bufs, [loop('i', 8, [store(bufs[1], v('i'), un('erf', load(bufs[0], v('i'))))])]),
    );
    const start = wat.indexOf('(func $verf_f32x4 ');
    expect(start).toBeGreaterThanOrEqual(0);
    const next = wat.indexOf('(func ', start + 1);
    const erf = wat.slice(start, next < 0 ? undefined : next);
    expect(erf).not.toMatch(/\((if|br_if|call) /);
  });

  for (const op of ['exp', 'log', 'erf', 'tanh'] as const) {
    it(`${op} (relaxed_madd polynomials) is within ${MAX_ULPS[op]} ulps, with IEEE specials`, async () => {
      const x = inputs(op);
      const m = vectorMathModule(op, x.length, true);
      const { bad, worst } = check(op, x, await inChild(m, x));
      expect(bad).toEqual([]);
      expect(worst).toBeLessThan(MAX_ULPS[op]);
    });
  }

  it(`exp's bounded helper (relaxed_madd reduction and polynomial) is within ${MAX_ULPS.exp} ulps`, async () => {
    const x = boundedInputs();
    const m = vectorMathModule('exp', x.length, true, BOUNDED);
    const { bad, worst } = check('exp', x, await inChild(m, x), clampTo(BOUNDED));
    expect(bad).toEqual([]);
    expect(worst).toBeLessThan(MAX_ULPS.exp);
  });
});
