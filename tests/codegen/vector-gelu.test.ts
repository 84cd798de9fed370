/**
 * GELU as exporters write it, y·(erf(y/√2) + 1)·0.5, takes the f32x4 GELU helper (mathlib/vector.ts) in
 * vectorized loops: recognized in its written forms and no others, and within the decomposed form's error
 * of the f64 GELU (erf's 6 ulps, scaled by |x|/2 where 1 + erf cancels), with the decomposed form's
 * specials, in both flavours (relaxed SIMD in a child node).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programToWat } from '../../src/codegen/wasm/index.js';
import { add, div, f32, load, loop, mul, store, un, v } from '../../src/kernels/build.js';
import type { Expr } from '../../src/kernels/ir.js';
import { place, programOf } from './program.js';
import { erf64, runVectorMath, runVectorMathInChild, vectorModule } from './vector-math-run.js';

const SQRT2 = Math.fround(Math.SQRT2);
/** PyTorch's export of nn.GELU: Div by √2 → Erf → Add 1 → Mul x → Mul 0.5 */
const exported = (x: Expr) => mul(mul(x, add(un('erf', div(x, f32(SQRT2))), f32(1))), f32(0.5));
/** ONNX Gelu's own expression (src/ops/elementwise/float-activation.ts): x·0.5·(erf(x·(1/√2)) + 1) */
const onnxGelu = (x: Expr) => mul(mul(x, f32(0.5)), add(un('erf', mul(x, f32(Math.SQRT1_2))), f32(1)));

/** The f32x4 helpers the vectorized loop y[i] = f(x[i]) calls. */
function helpersOf(f: (x: Expr) => Expr): string[] {
  const bufs = place([
    { dtype: 'float32', length: 9 },
    { dtype: 'float32', length: 9 },
  ]);
  const wat = programToWat(
    programOf(bufs, [loop('i', 9, [store(bufs[1], v('i'), f(load(bufs[0], v('i'))))])]),
  );
  return [...new Set(wat.match(/call \$v\w+_f32x4/g))];
}

/** Dense over where GELU bends, log-spaced tails to the largest floats, the clamp's edge, specials. */
function inputs(): Float32Array {
  const xs: number[] = [];
  for (let i = 0; i <= 40001; i++) xs.push(-8 + (16 * i) / 40001);
  for (let e = -40; e <= 127.9; e += 0.02) xs.push(2 ** e, -(2 ** e));
  const edge = 3.925 * Math.SQRT2;
  for (let i = -8; i <= 8; i++) xs.push(edge + i * 2 ** -21, -edge + i * 2 ** -21);
  xs.push(0, -0, Infinity, -Infinity, NaN, 3.4028234663852886e38, -3.4028234663852886e38);
  // 1 + (length % 4 = 1): the scalar tail gets an element too
  return Float32Array.from(xs.length % 4 === 1 ? xs : [...xs, ...Array(5 - (xs.length % 4)).fill(0.5)]);
}

const ulp = (r: number) => {
  const a = Math.abs(Math.fround(r));
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
};

/**
 * Elements off the f64 GELU by more than the decomposed form may be: 8 ulps of the result plus erf's
 * 6 ulps of 1 (at most) times |x|/2, where 1 + erf(x/√2) cancels for negative x. Specials: NaN → NaN,
 * +inf → inf, −inf → NaN (−inf·0, as the decomposed form gives), and results that round to 0 or x exactly.
 */
function check(x: Float32Array, y: Float32Array): string[] {
  const bad: string[] = [];
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const ref = Number.isFinite(xi) ? 0.5 * xi * (1 + erf64(xi / Math.SQRT2)) : xi === Infinity ? xi : NaN;
    if (!Number.isFinite(ref)) {
      if (!Object.is(y[i], ref)) bad.push(`gelu(${xi}) = ${y[i]}, want ${ref}`);
      continue;
    }
    const allowed = 8 * ulp(ref) + 6 * 2 ** -24 * 0.5 * Math.abs(xi);
    if (!(Math.abs(y[i] - ref) <= allowed)) bad.push(`gelu(${xi}) = ${y[i]}, want ${ref}`);
  }
  // past the clamp, exactly x for positive x and 0 for negative
  for (const [xi, want] of [
    [100, 100],
    [-100, 0],
    [1e30, 1e30],
    [-1e30, 0],
  ])
    for (let i = 0; i < x.length; i++)
      if (x[i] === Math.fround(xi) && y[i] !== Math.fround(want)) bad.push(`${xi}`);
  return bad.slice(0, 10);
}

describe('f32x4 GELU', () => {
  it('GELU as exported (Div √2) and as ONNX Gelu writes it (Mul 1/√2) takes the helper, one call', () => {
    expect(helpersOf(exported)).toEqual(['call $vgelu_f32x4']);
    expect(helpersOf(onnxGelu)).toEqual(['call $vgelu_f32x4']);
    // factors in another order and grouping
    expect(
      helpersOf((x) => mul(f32(0.5), mul(add(f32(1), un('erf', mul(f32(Math.SQRT1_2), x))), x))),
    ).toEqual(['call $vgelu_f32x4']);
  });

  it('other constants, or erf of another value, keep the erf helper', () => {
    const erfOnly = ['call $verf_f32x4'];
    expect(helpersOf((x) => mul(mul(x, add(un('erf', div(x, f32(1.5))), f32(1))), f32(0.5)))).toEqual(
      erfOnly,
    );
    expect(helpersOf((x) => mul(mul(x, add(un('erf', div(x, f32(SQRT2))), f32(1))), f32(0.25)))).toEqual(
      erfOnly,
    );
    expect(helpersOf((x) => mul(mul(x, add(un('erf', div(x, f32(SQRT2))), f32(2))), f32(0.5)))).toEqual(
      erfOnly,
    );
    expect(
      helpersOf((x) => mul(mul(add(x, f32(1)), add(un('erf', div(x, f32(SQRT2))), f32(1))), f32(0.5))),
    ).toEqual(erfOnly);
  });

  it('is within the decomposed form’s error of the f64 GELU, with its specials (SIMD128)', () => {
    const x = inputs();
    expect(check(x, runVectorMath(vectorModule(x.length, false, exported), x))).toEqual([]);
  });

  describe('relaxed SIMD (child process)', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'kiln-vgelu-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('is within the decomposed form’s error of the f64 GELU, with its specials (relaxed_madd)', async () => {
      const x = inputs();
      expect(check(x, await runVectorMathInChild(dir, vectorModule(x.length, true, onnxGelu), x))).toEqual(
        [],
      );
    });
  });
});
