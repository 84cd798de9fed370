/** Vectorized reduction loops (acc = acc op term): f32x4 partial accumulators, then the scalar tail. */
import { describe, expect, it } from 'vitest';
import {
  add,
  cmp,
  f32,
  load,
  local,
  loop,
  max,
  min,
  select,
  set,
  store,
  sub,
  un,
  v,
  i32,
  mul,
} from '../../src/kernels/build.js';
import type { BufRef, Expr, Stmt } from '../../src/kernels/ir.js';
import { programToWat } from '../../src/codegen/wasm/index.js';
import { place, programOf, runKernel, type NumDType } from './harness.js';

const fr = Math.fround;
const rand = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 3);

/** Runs `body` unoptimized and optimized (same results), returns the last buffer and whether it vectorized. */
function run(
  specs: { dtype: NumDType; length: number; data?: Float32Array }[],
  body: (b: ReturnType<typeof place>) => Stmt[],
) {
  const bufs = place(specs);
  const wat = programToWat(programOf(bufs, body(bufs)));
  const plain = runKernel(specs, body);
  const optimized = runKernel(specs, body, { optimize: true });
  expect(Array.from(optimized.at(-1)!)).toEqual(Array.from(plain.at(-1)!));
  return { reduced: wat.includes('f32x4.extract_lane'), out: Array.from(plain.at(-1)!) as number[] };
}

/** acc < term ? term : acc: the max that passes over NaN terms (Softmax's row maximum) */
const pmax = (acc: Expr, term: Expr) => select(cmp('lt', acc, term), term, acc);

/** out[0] = fold(op, init, term(x[i])) over n elements */
function reduce(
  op: 'add' | 'max' | 'min' | 'pmax',
  x: Float32Array,
  init: number,
  term = (e: ReturnType<typeof load>) => e,
) {
  const n = x.length;
  return run(
    [
      { dtype: 'float32', length: n, data: x },
      { dtype: 'float32', length: 1 },
    ],
    ([X, O]) => [
      local('acc', 'f32', f32(init)),
      loop('i', n, [set('acc', { add, max, min, pmax }[op](v('acc', 'f32'), term(load(X, v('i')))))]),
      store(O, i32(0), v('acc', 'f32')),
    ],
  );
}

describe('vectorized reductions', () => {
  for (const n of [8, 9, 37, 64, 1001]) {
    it(`sum over ${n} elements (tail ${n % 4}) is close to the f64 sum`, () => {
      const x = rand(n, n);
      const { reduced, out } = reduce('add', x, 0.5);
      expect(reduced).toBe(true);
      const exact = x.reduce((s, e) => s + e, 0.5);
      expect(Math.abs(out[0] - exact)).toBeLessThan(1e-5 * x.reduce((s, e) => s + Math.abs(e), 1));
    });
    it(`max and min over ${n} elements are exact`, () => {
      const x = rand(n, 2 * n);
      expect(reduce('max', x, -Infinity)).toEqual({ reduced: true, out: [Math.max(...x)] });
      expect(reduce('min', x, Infinity)).toEqual({ reduced: true, out: [Math.min(...x)] });
    });
  }

  for (const n of [8, 9, 37, 64, 1001]) {
    it(`acc < x ? x : acc over ${n} elements is one f32x4.pmax per vector, exact, passing over NaN`, () => {
      const x = rand(n, 3 * n);
      const bufs = place([
        { dtype: 'float32', length: n },
        { dtype: 'float32', length: 1 },
      ]);
      const wat = programToWat(
        programOf(bufs, [
          local('acc', 'f32', f32(-Infinity)),
          loop('i', n, [set('acc', pmax(v('acc', 'f32'), load(bufs[0], v('i'))))]),
          store(bufs[1], i32(0), v('acc', 'f32')),
        ]),
      );
      expect(wat).toContain('f32x4.pmax');
      expect(wat).not.toContain('f32x4.max');
      expect(reduce('pmax', x, -Infinity)).toEqual({ reduced: true, out: [Math.max(...x)] });
      // a NaN in the main loop's groups of eight, its last four, or the scalar tail: the max of the others
      for (const at of [0, n - 1, Math.floor(n / 2)]) {
        const withNaN = x.slice();
        withNaN[at] = NaN;
        const others = Math.max(...withNaN.filter((e) => !Number.isNaN(e)));
        expect(reduce('pmax', withNaN, -Infinity).out).toEqual([others]);
      }
      expect(reduce('pmax', new Float32Array(n).fill(-Infinity), -Infinity).out).toEqual([-Infinity]);
    });
  }

  it('softmax-style exp-sum of (x - m) matches the scalar sum closely', () => {
    const x = rand(97, 7);
    const m = Math.max(...x);
    const { reduced, out } = reduce('add', x, 0, (e) => un('exp', sub(e, f32(m))));
    expect(reduced).toBe(true);
    const exact = x.reduce((s, e) => s + Math.exp(e - fr(m)), 0);
    expect(Math.abs(out[0] - exact) / exact).toBeLessThan(1e-6);
  });

  it('NaN anywhere (main loop or tail) propagates through max and sum; -inf rows stay -inf', () => {
    for (const at of [0, 5, 10]) {
      const x = rand(11, 3);
      x[at] = NaN;
      expect(reduce('max', x, -Infinity).out[0]).toBeNaN();
      expect(reduce('add', x, 0).out[0]).toBeNaN();
    }
    // max/min run two accumulators over groups of eight, then a last group of four: a NaN in either
    for (const at of [4, 9]) {
      const x = rand(15, 5);
      x[at] = NaN;
      expect(reduce('max', x, -Infinity).out[0]).toBeNaN();
      expect(reduce('min', x, Infinity).out[0]).toBeNaN();
    }
    expect(reduce('max', new Float32Array(13).fill(-Infinity), -Infinity).out[0]).toBe(-Infinity);
    expect(Object.is(reduce('add', new Float32Array(12).fill(-0), -0).out[0], -0)).toBe(true);
  });

  it('a sum of squares with a loop-invariant mean (LayerNorm variance) vectorizes', () => {
    const x = rand(40, 9);
    const { reduced, out } = reduce('add', x, 0, (e) => mul(sub(e, f32(0.25)), sub(e, f32(0.25))));
    expect(reduced).toBe(true);
    const exact = x.reduce((s, e) => s + (e - 0.25) ** 2, 0);
    expect(Math.abs(out[0] - exact) / exact).toBeLessThan(1e-6);
  });

  /** sum = 0; Y[i] = exp(X[i] − 0.5), sum += `term`(i) over n elements; Y[n] = sum (Softmax's middle pass) */
  const expAndSumBody = (X: BufRef, Y: BufRef, n: number, term: (Y: BufRef, i: Expr) => Expr): Stmt[] => [
    local('sum', 'f32', f32(0)),
    loop('i', n, [
      store(Y, v('i'), un('exp', sub(load(X, v('i')), f32(0.5)))),
      set('sum', add(v('sum', 'f32'), term(Y, v('i')))),
    ]),
    store(Y, i32(n), v('sum', 'f32')),
  ];
  const expAndSum = (n: number, term: (Y: BufRef, i: Expr) => Expr) => {
    const specs = [
      { dtype: 'float32' as const, length: n, data: rand(n, n) },
      { dtype: 'float32' as const, length: n + 1 },
    ];
    const [X, Y] = place(specs);
    return { ...run(specs, ([X, Y]) => expAndSumBody(X, Y, n, term)), X, Y };
  };

  for (const n of [8, 11, 37, 963]) {
    it(`exp stored and summed in one loop (${n} elements) is one f32x4 loop with one exp per vector`, () => {
      const { reduced, out, X, Y } = expAndSum(n, (Y, i) => load(Y, i));
      expect(reduced).toBe(true);
      rand(n, n).forEach((e, i) =>
        expect(Math.abs(out[i] - Math.exp(fr(e - 0.5)))).toBeLessThan(4e-7 * out[i]),
      );
      const exact = out.slice(0, n).reduce((s, e) => s + e, 0);
      expect(Math.abs(out[n] - exact) / exact).toBeLessThan(1e-6);
      // the sum reads the vector just stored: no second load of Y in the f32x4 loop, one exp call
      const wat = programToWat(
        programOf(
          [X, Y],
          expAndSumBody(X, Y, n, (Y, i) => load(Y, i)),
        ),
      );
      expect(wat.match(/call \$vexp_f32x4/g)).toHaveLength(1);
      expect(wat.match(/v128\.load/g)).toHaveLength(1);
    });
  }

  it('keeps a store-and-sum loop scalar when the sum reads another element than the one stored', () => {
    expect(expAndSum(37, (Y, i) => load(Y, add(i, i32(1)))).reduced).toBe(false);
    expect(expAndSum(37, (Y) => load(Y, i32(0))).reduced).toBe(false);
  });

  it('leaves short loops and loops reading the accumulator in the term scalar', () => {
    expect(reduce('add', rand(7, 1), 0).reduced).toBe(false);
    const x = rand(16, 1);
    const { reduced } = run(
      [
        { dtype: 'float32', length: 16, data: x },
        { dtype: 'float32', length: 1 },
      ],
      ([X, O]) => [
        local('acc', 'f32', f32(1)),
        loop('i', 16, [set('acc', add(v('acc', 'f32'), mul(v('acc', 'f32'), load(X, v('i')))))]),
        store(O, i32(0), v('acc', 'f32')),
      ],
    );
    expect(reduced).toBe(false);
  });
});
