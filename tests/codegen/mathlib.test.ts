import { describe, expect, it } from 'vitest';
import { bin, load, loop, store, un, v } from '../../src/kernels/build.js';
import type { UnOp } from '../../src/kernels/ir.js';
import { MATH_CASES, MATH_REF as REF } from './cases/math.js';
import { powC } from '../../src/kernels/interpret.js';
import { describeCases } from './cases/case.js';
import { runKernel, wasmTarget } from './harness.js';

const SPREAD = Array.from({ length: 200 }, (_, i) => Math.sin(i * 7.31) * 10 ** ((i % 13) - 6));
const EDGES = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  2,
  1e-300,
  5e-324,
  1e-8,
  0.84375,
  1.25,
  2.857,
  3,
  6,
  10,
  20,
  22,
  27,
  100,
  700,
  709.7,
  709.8,
  710,
  -708,
  -745,
  -746,
  1e10,
  1e300,
  Infinity,
  -Infinity,
  NaN,
  Math.PI / 4,
  Math.PI / 2,
  Math.PI,
  1e5,
  -123456.789,
  0.9999999,
  1.0000001,
  0.975,
  0.4375,
  2.4375,
];
// huge arguments exercise the Payne–Hanek reduction of sin/cos/tan, incl. 6381956970095103·2^797, the double
// closest to a multiple of π/2
const HUGE = [
  1.6e6,
  1.65e6,
  -3e6,
  1e10,
  -1e15,
  1e22,
  2 ** 60,
  1e100,
  -1e200,
  1.7976931348623157e308,
  6381956970095103 * 2 ** 797,
];
const INPUTS = [...EDGES, ...HUGE, ...SPREAD, ...SPREAD.map((x) => x * 100), ...SPREAD.map((x) => x * 1e12)];

/** Relative error in f64, with agreeing special values (nan, inf, signed zero) counting as exact. */
function relErr(got: number, want: number): number {
  if (Object.is(got, want)) return 0;
  if (Number.isNaN(want) || !Number.isFinite(want) || want === 0)
    return Math.abs(got - want) < 1e-300 ? 0 : Infinity;
  return Math.abs(got - want) / Math.abs(want);
}

/** Distance in f32 units in the last place. */
function ulps32(got: number, want: number): number {
  if (Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want))) return 0;
  if (!Number.isFinite(got) || !Number.isFinite(want)) return Infinity;
  const bits = (x: number) => {
    const i = new Int32Array(Float32Array.of(x).buffer)[0];
    return i < 0 ? -2147483648 - i : i;
  };
  return Math.abs(bits(got) - bits(want));
}

function runUnaryMath(op: UnOp, t: 'f32' | 'f64', xs: number[]): number[] {
  const data = t === 'f32' ? Float32Array.from(xs) : Float64Array.from(xs);
  const dtype = t === 'f32' ? 'float32' : 'float64';
  const [, out] = runKernel(
    [
      { dtype, length: xs.length, data },
      { dtype, length: xs.length },
    ],
    ([A, B]) => [loop('i', xs.length, [store(B, v('i'), un(op, load(A, v('i'))))])],
  );
  return Array.from(out as Float64Array);
}

describeCases(wasmTarget, 'math library on the shared float32 domain', MATH_CASES);

/**
 * Wider f32 bounds: a loop of erf is vectorized into the f32x4 erf, one branch-free rational whose float32
 * evaluation is within 6 ulps (tests/codegen/vector-math.test.ts).
 */
const F32_ULPS: Partial<Record<string, number>> = { erf: 6 };

describe('math library', () => {
  for (const [op, ref] of Object.entries(REF)) {
    it(`${op} f64 matches within 1e-13 relative`, () => {
      const xs = INPUTS;
      const got = runUnaryMath(op as UnOp, 'f64', xs);
      const bad = xs
        .map((x, i) => ({ x, got: got[i], want: ref(x), err: relErr(got[i], ref(x)) }))
        .filter((r) => r.err > 1e-13 && !(Math.abs(r.want) < 1e-300 && Math.abs(r.got) < 1e-300));
      expect(bad).toEqual([]);
    });
    const ulps = F32_ULPS[op] ?? 2;
    it(`${op} f32 within ${ulps} ulp`, () => {
      const xs = Array.from(
        Float32Array.from(INPUTS.filter((x) => Math.abs(x) < 1e6 || !Number.isFinite(x))),
      );
      const got = runUnaryMath(op as UnOp, 'f32', xs);
      const bad = xs
        .map((x, i) => ({ x, got: got[i], want: Math.fround(ref(x)) }))
        .filter((r) => ulps32(r.got, r.want) > ulps);
      expect(bad).toEqual([]);
    });
  }

  it('C edge cases: exp overflow, log of 0 and negatives, tanh saturation, erf tails', () => {
    const [exp] = [runUnaryMath('exp', 'f64', [710, -746, Infinity, -Infinity, NaN])];
    expect(exp).toEqual([Infinity, 0, Infinity, 0, NaN]);
    expect(runUnaryMath('log', 'f64', [0, -0, -1, -Infinity, Infinity, 1])).toEqual([
      -Infinity,
      -Infinity,
      NaN,
      NaN,
      Infinity,
      0,
    ]);
    expect(runUnaryMath('tanh', 'f32', [30, -30, Infinity, -0])).toEqual([1, -1, 1, -0]);
    expect(runUnaryMath('erf', 'f64', [Infinity, -Infinity, 7, -7, 0, -0])).toEqual([1, -1, 1, -1, 0, -0]);
    expect(runUnaryMath('atanh', 'f64', [1, -1, 2])).toEqual([Infinity, -Infinity, NaN]);
    expect(runUnaryMath('acosh', 'f64', [1, 0.5, -2])).toEqual([0, NaN, NaN]);
    expect(runUnaryMath('asin', 'f64', [1.5, -1])).toEqual([NaN, -Math.PI / 2]);
  });
});

describe('binary math: pow, atan2', () => {
  const SPECIAL = [
    0,
    -0,
    1,
    -1,
    2,
    -2,
    0.5,
    -0.5,
    3,
    -3,
    1.5,
    1e10,
    -1e10,
    1e-10,
    1e300,
    Infinity,
    -Infinity,
    NaN,
    0.999,
    1.001,
    10,
    53,
    1023,
    -1075,
    2 ** 31 + 1,
    2 ** 64,
  ];
  const RANDOM = Array.from({ length: 300 }, (_, i) => [
    Math.abs(Math.sin(i * 3.1)) * 10 ** ((i % 9) - 3),
    Math.cos(i * 1.7) * 10 ** ((i % 5) - 1),
  ]);

  function runBin(op: 'pow' | 'atan2', t: 'f32' | 'f64', pairs: number[][]) {
    const A =
      t === 'f32' ? Float32Array.from(pairs.map((p) => p[0])) : Float64Array.from(pairs.map((p) => p[0]));
    const B =
      t === 'f32' ? Float32Array.from(pairs.map((p) => p[1])) : Float64Array.from(pairs.map((p) => p[1]));
    const dtype = t === 'f32' ? 'float32' : 'float64';
    const n = pairs.length;
    const [, , out] = runKernel(
      [
        { dtype, length: n, data: A },
        { dtype, length: n, data: B },
        { dtype, length: n },
      ],
      ([X, Y, O]) => [loop('i', n, [store(O, v('i'), bin(op, load(X, v('i')), load(Y, v('i'))))])],
    );
    return { a: Array.from(A), b: Array.from(B), out: Array.from(out as Float64Array) };
  }

  const ALL = [
    ...SPECIAL.flatMap((x) => SPECIAL.map((y) => [x, y])),
    ...RANDOM,
    ...RANDOM.map(([x, y]) => [-x, Math.round(y * 10)]),
  ];
  it('pow C99 cases', () => {
    const cases = [
      [1, NaN, 1],
      [NaN, 0, 1],
      [-1, Infinity, 1],
      [-2, 3, -8],
      [-2, -3, -0.125],
      [-8, 1 / 3, NaN],
      [-0, -1, -Infinity],
      [0, -2, Infinity],
      [-0, 3, -0],
      [-Infinity, 3, -Infinity],
      [-Infinity, -3, -0],
      [-Infinity, 2, Infinity],
      [0.5, Infinity, 0],
      [2, -Infinity, 0],
      [2, 1024, Infinity],
      [2, -1075, 0],
      [-2, 1023, -(2 ** 1023)],
      [2, -1074, 5e-324],
    ];
    const { out } = runBin(
      'pow',
      'f64',
      cases.map(([x, y]) => [x, y]),
    );
    expect(out).toEqual(cases.map((c) => c[2]));
  });
  for (const [op, ref] of [
    ['pow', powC],
    ['atan2', Math.atan2],
  ] as const) {
    it(`${op} f64 matches C99 special cases and within 1e-13 relative`, () => {
      const { a, b, out } = runBin(op, 'f64', ALL);
      const bad = a
        .map((x, i) => ({ x, y: b[i], got: out[i], want: ref(x, b[i]) }))
        .filter((r) => relErr(r.got, r.want) > 1e-13);
      expect(bad).toEqual([]);
    });
    it(`${op} f32 within 2 ulp`, () => {
      const pairs = ALL.filter(([x, y]) => Math.abs(x) < 3e38 && Math.abs(y) < 3e38);
      const { a, b, out } = runBin(op, 'f32', pairs);
      const bad = a
        .map((x, i) => ({ x, y: b[i], got: out[i], want: Math.fround(ref(x, b[i])) }))
        .filter((r) => ulps32(r.got, r.want) > 2);
      expect(bad).toEqual([]);
    });
  }
});
