import { describe, expect, it } from 'vitest';
import {
  add,
  cmp,
  f32,
  i32,
  load,
  loop,
  max,
  min,
  mul,
  select,
  store,
  sub,
  un,
  v,
} from '../../src/kernels/build.js';
import type { BufRef, Expr, Stmt } from '../../src/kernels/ir.js';
import { programToWat } from '../../src/codegen/wasm/index.js';
import { renderVector } from '../../src/codegen/wasm/vectorize.js';
import { RELAXED_LANES, SIMD128_LANES, type Lanes } from '../../src/codegen/wasm/lanes.js';
import { place, programOf, runKernel, type NumDType } from './harness.js';

const rand = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 3);
const fr = Math.fround;
/** Math.round breaks ties upward; wasm nearest breaks them to even. */
const roundHalfEven = (x: number) => {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** Both the WAT (is it vectorized?) and the results, unoptimized and optimized. */
function compile(
  specs: { dtype: NumDType; length: number; data?: Float32Array }[],
  body: (b: ReturnType<typeof place>) => Stmt[],
) {
  const bufs = place(specs);
  const wat = programToWat(programOf(bufs, body(bufs)));
  const plain = runKernel(specs, body);
  const optimized = runKernel(specs, body, { optimize: true });
  expect(Array.from(optimized.at(-1)!)).toEqual(Array.from(plain.at(-1)!));
  return { vectorized: wat.includes('v128.store'), out: Array.from(plain.at(-1)!) as number[] };
}

describe('auto-vectorization', () => {
  for (const n of [4, 7, 37, 64]) {
    it(`elementwise chain over ${n} elements (tail ${n % 4}) matches scalar f32 math`, () => {
      const a = rand(n, 1);
      const b = rand(n + 2, 2);
      const { vectorized, out } = compile(
        [
          { dtype: 'float32', length: n, data: a },
          { dtype: 'float32', length: n + 2, data: b },
          { dtype: 'float32', length: n },
        ],
        ([A, B, O]) => [
          loop('i', n, [
            store(
              O,
              v('i'),
              select(
                cmp('gt', load(A, v('i')), f32(0)),
                max(
                  add(mul(load(A, v('i')), f32(2)), load(B, add(v('i'), i32(2)))),
                  un('sqrt', un('abs', load(B, i32(0)))),
                ),
                sub(un('nearest', load(A, v('i'))), un('floor', un('neg', load(B, add(v('i'), i32(1)))))),
              ),
            ),
          ]),
        ],
      );
      expect(vectorized).toBe(true);
      const ref = Array.from({ length: n }, (_, i) =>
        a[i] > 0
          ? Math.max(fr(fr(a[i] * 2) + b[i + 2]), fr(Math.sqrt(Math.abs(b[0]))))
          : fr(roundHalfEven(a[i]) - Math.floor(-b[i + 1])),
      );
      expect(out).toEqual(ref);
    });
  }

  it('rows of a nested loop with a per-row invariant and in-place update', () => {
    const [rows, cols] = [3, 10];
    const x = rand(rows * cols, 3);
    const bias = rand(rows, 4);
    const { vectorized, out } = compile(
      [
        { dtype: 'float32', length: rows, data: bias },
        { dtype: 'float32', length: rows * cols, data: x },
      ],
      ([Bias, X]) => [
        loop('r', rows, [
          loop('c', cols, [
            store(
              X,
              add(mul(v('r'), i32(cols)), v('c')),
              add(load(X, add(mul(v('r'), i32(cols)), v('c'))), load(Bias, v('r'))),
            ),
          ]),
        ]),
      ],
    );
    expect(vectorized).toBe(true);
    expect(out).toEqual(Array.from(x, (val, i) => fr(val + bias[Math.floor(i / cols)])));
  });

  for (const n of [4, 9, 23]) {
    it(`stride-2 loads (a strided conv's taps) over ${n} outputs (tail ${n % 4})`, () => {
      const x = rand(2 * n + 1, 5);
      const w = Float32Array.of(0.5, -1.25, 2);
      const { vectorized, out } = compile(
        [
          { dtype: 'float32', length: 2 * n + 1, data: x },
          { dtype: 'float32', length: 3, data: w },
          { dtype: 'float32', length: n },
        ],
        ([X, W, O]) => [
          loop('i', n, [
            store(
              O,
              v('i'),
              add(
                add(
                  mul(load(X, mul(v('i'), i32(2))), load(W, i32(0))),
                  mul(load(X, add(mul(i32(2), v('i')), i32(1))), load(W, i32(1))),
                ),
                mul(load(X, add(mul(v('i'), i32(2)), i32(2))), load(W, i32(2))),
              ),
            ),
          ]),
        ],
      );
      expect(vectorized).toBe(true);
      const ref = Array.from({ length: n }, (_, i) =>
        fr(fr(fr(x[2 * i] * w[0]) + fr(x[2 * i + 1] * w[1])) + fr(x[2 * i + 2] * w[2])),
      );
      expect(out).toEqual(ref);
    });
  }

  for (const n of [4, 9, 37]) {
    it(`stride-3 loads (an NHWC image's channels, channels first) over ${n} pixels (tail ${n % 4})`, () => {
      // O[c·n + i] = X[3i + c]: the buffer ends at the last pixel's last channel, so no load reads past it
      const x = rand(3 * n, 8);
      const { vectorized, out } = compile(
        [
          { dtype: 'float32', length: 3 * n, data: x },
          { dtype: 'float32', length: 3 * n },
        ],
        ([X, O]) =>
          [0, 1, 2].map((c) =>
            loop('i', n, [store(O, add(i32(c * n), v('i')), load(X, add(mul(v('i'), i32(3)), i32(c))))]),
          ),
      );
      expect(vectorized).toBe(true);
      expect(out).toEqual(Array.from({ length: 3 * n }, (_, j) => x[3 * (j % n) + Math.floor(j / n)]));
    });
  }

  for (const n of [4, 10]) {
    it(`several stores into one buffer a row apart (an im2col gather's taps) over ${n} columns (tail ${n % 4})`, () => {
      // col[t·n + j] = X[2j + t] for taps t = 0..2: three stride-2 copies into rows of one scratch buffer
      const x = rand(2 * n + 2, 7);
      const { vectorized, out } = compile(
        [
          { dtype: 'float32', length: 2 * n + 2, data: x },
          { dtype: 'float32', length: 3 * n },
        ],
        ([X, Col]) => [
          loop(
            'j',
            n,
            [0, 1, 2].map((t) =>
              store(Col, add(i32(t * n), v('j')), load(X, add(mul(v('j'), i32(2)), i32(t)))),
            ),
          ),
        ],
      );
      expect(vectorized).toBe(true);
      expect(out).toEqual(Array.from({ length: 3 * n }, (_, i) => x[2 * (i % n) + Math.floor(i / n)]));
    });
  }

  it('leaves stores into one buffer fewer than four elements apart scalar (a later write must win)', () => {
    // O[j + 2] = 1 at iteration j, then O[j] = 2: in scalar order element e ≥ 2 gets 1 from iteration e − 2, then 2
    // from iteration e (which runs later); four iterations at once would store the 2s before the later 1s
    const n = 12;
    const { vectorized, out } = compile([{ dtype: 'float32', length: n + 2 }], ([O]) => [
      loop('j', n, [store(O, add(v('j'), i32(2)), f32(1)), store(O, v('j'), f32(2))]),
    ]);
    expect(vectorized).toBe(false);
    expect(out).toEqual([...new Array<number>(n).fill(2), 1, 1]);
  });

  for (const stride of [2, 4])
    for (const n of [5, 9, 37])
      it(`interleaves ${stride} stores at ${stride}·i + c over ${n} elements (tail ${n % 4}): upsampled rows, a col2im`, () => {
        // two rows: row 0 each x[i] `stride` times (a nearest upsampling), row 1 the taps' rows a_c[i] + c
        // interleaved (a disjoint ConvTranspose's columns), after a gap that stays 0
        const x = rand(stride * n, 4);
        const gap = 3;
        const row = stride * n;
        const { vectorized, out } = compile(
          [
            { dtype: 'float32', length: stride * n, data: x },
            { dtype: 'float32', length: 2 * row + gap },
          ],
          ([X, O]) => [
            loop(
              'i',
              n,
              Array.from({ length: stride }, (_, c) => [
                store(O, add(mul(v('i'), i32(stride)), i32(c)), load(X, v('i'))),
                store(
                  O,
                  add(add(i32(row + gap + c), mul(v('i'), i32(stride))), i32(0)),
                  add(load(X, add(v('i'), i32(c * n))), f32(c)),
                ),
              ]).flat(),
            ),
          ],
        );
        expect(vectorized).toBe(true);
        const want = [
          ...Array.from({ length: row }, (_, e) => x[Math.floor(e / stride)]),
          ...new Array<number>(gap).fill(0),
          ...Array.from({ length: row }, (_, e) =>
            fr(x[(e % stride) * n + Math.floor(e / stride)] + (e % stride)),
          ),
        ];
        expect(out).toEqual(want);
      });

  for (const n of [5, 37])
    it(`interleaves 8 stores of one value at 8·i + c over ${n} elements (a ×8 nearest upsampling); of 8 values, scalar`, () => {
      const x = rand(8 * n, 6);
      const specs = [
        { dtype: 'float32' as const, length: 8 * n, data: x },
        { dtype: 'float32' as const, length: 8 * n },
      ];
      const eight = (value: (c: number) => Expr) => (bufs: BufRef[]) => [
        loop(
          'i',
          n,
          Array.from({ length: 8 }, (_, c) => store(bufs[1], add(mul(v('i'), i32(8)), i32(c)), value(c))),
        ),
      ];
      const one = compile(specs, ([X, O]) => eight(() => load(X, v('i')))([X, O]));
      expect(one.vectorized).toBe(true);
      expect(one.out).toEqual(Array.from({ length: 8 * n }, (_, e) => x[Math.floor(e / 8)]));
      const several = compile(specs, ([X, O]) =>
        eight((c) => load(X, add(v('i'), i32(c * (n - 1)))))([X, O]),
      );
      expect(several.vectorized).toBe(false);
    });

  it('leaves interleaved stores scalar when a group misses a column or overlaps another within its span', () => {
    const n = 12;
    const x = rand(n, 5);
    const partial = compile(
      [
        { dtype: 'float32', length: n, data: x },
        { dtype: 'float32', length: 4 * n },
      ],
      ([X, O]) => [
        loop(
          'i',
          n,
          [0, 1, 3].map((c) => store(O, add(mul(v('i'), i32(4)), i32(c)), load(X, v('i')))),
        ),
      ],
    );
    expect(partial.vectorized).toBe(false);
    // group B (2·i + 4 + c) overwrites group A's (2·i + c) elements 4 on: in scalar order B's later writes win
    const overlapping = compile(
      [
        { dtype: 'float32', length: n, data: x },
        { dtype: 'float32', length: 2 * n + 4 },
      ],
      ([X, O]) => [
        loop(
          'i',
          n,
          [0, 1].flatMap((c) => [
            store(O, add(mul(v('i'), i32(2)), i32(c)), load(X, v('i'))),
            store(O, add(mul(v('i'), i32(2)), i32(4 + c)), f32(-1)),
          ]),
        ),
      ],
    );
    expect(overlapping.vectorized).toBe(false);
    const want = new Array<number>(2 * n + 4).fill(0);
    for (let i = 0; i < n; i++)
      for (const c of [0, 1]) {
        want[2 * i + c] = fr(x[i]);
        want[2 * i + 4 + c] = -1;
      }
    expect(overlapping.out).toEqual(want);
  });

  it('computes an operation repeated within and across stores once per vector (fused chains repeat their inputs)', () => {
    const n = 37;
    const a = rand(n, 3);
    // t = tanh(exp(a)), as a fused chain substitutes it for each use: O[i] = t·(t + 1), T[i] = t
    const t = (A: BufRef) => un('tanh', un('exp', load(A, v('i'))));
    const specs = [
      { dtype: 'float32' as const, length: n, data: a },
      { dtype: 'float32' as const, length: n },
      { dtype: 'float32' as const, length: n },
    ];
    const body = ([A, O, T]: BufRef[]) => [
      loop('i', n, [store(O, v('i'), mul(t(A), add(t(A), f32(1)))), store(T, v('i'), t(A))]),
    ];
    const bufs = place(specs);
    const wat = programToWat(programOf(bufs, body(bufs)));
    expect(wat.split('call $vtanh_f32x4').length - 1).toBe(1);
    for (const optimize of [false, true]) {
      const [, o, tanh] = runKernel(specs, body, { optimize });
      expect(Array.from(o)).toEqual(Array.from(tanh, (x) => fr(x * fr(x + 1))));
      expect(Array.from(tanh)).toEqual(Array.from(a, (x) => expect.closeTo(Math.tanh(Math.exp(x)), 6)));
    }
  });

  it('leaves loop-carried dependences, integer stores and short loops scalar', () => {
    const n = 12;
    const dep = compile([{ dtype: 'float32', length: n + 1, data: new Float32Array(n + 1) }], ([O]) => [
      loop('i', n, [store(O, add(v('i'), i32(1)), add(load(O, v('i')), f32(1)))]),
    ]);
    expect(dep.vectorized).toBe(false);
    expect(dep.out).toEqual(Array.from({ length: n + 1 }, (_, i) => i));
    const ints = compile([{ dtype: 'int32', length: n }], ([O]) => [
      loop('i', n, [store(O, v('i'), v('i'))]),
    ]);
    expect(ints.vectorized).toBe(false);
    const short = compile([{ dtype: 'float32', length: 3 }], ([O]) => [
      loop('i', 3, [store(O, v('i'), f32(2))]),
    ]);
    expect(short.vectorized).toBe(false);
    expect(short.out).toEqual([2, 2, 2]);
    const strided = compile([{ dtype: 'float32', length: 2 * n }], ([O]) => [
      loop('i', n, [store(O, mul(v('i'), i32(2)), f32(5))]),
    ]);
    expect(strided.vectorized).toBe(false);
    const stride4 = compile(
      [
        { dtype: 'float32', length: 4 * n, data: rand(4 * n, 6) },
        { dtype: 'float32', length: n },
      ],
      ([X, O]) => [loop('i', n, [store(O, v('i'), load(X, mul(v('i'), i32(4))))])],
    );
    expect(stride4.vectorized).toBe(false);
  });
});

describe('clamps to a constant bound', () => {
  const x: BufRef = { id: 7, dtype: 'float32', length: 64 };
  const render = (e: Expr) =>
    renderVector(
      e,
      'k',
      () => 'scalar',
      (buf) => `(load #${buf.id})`,
      SIMD128_LANES,
      (c) => `$${JSON.stringify(c)}`,
    );
  const a = load(x, v('k'));

  it('render as pmin/pmax with the varying operand first; min/max of two varying values stay strict', () => {
    const zero = f32(0);
    expect(render(max(zero, min(a, f32(6))))).toBe(
      `(f32x4.pmax (f32x4.pmin (load #7) $${JSON.stringify(f32(6))}) $${JSON.stringify(zero)})`,
    );
    expect(render(max(a, mul(a, f32(2))))).toMatch(/^\(f32x4\.max /);
    expect(render(min(a, f32(NaN)))).toMatch(/^\(f32x4\.min /);
  });

  it('keep NaN and ±Inf as the strict min/max do, in a vectorized loop and its scalar tail', () => {
    const data = Float32Array.from([NaN, -0, 0, -1.5, 2.25, 7, Infinity, -Infinity, NaN, 3, -0]);
    const n = data.length;
    const { vectorized, out } = compile(
      [
        { dtype: 'float32', length: n, data },
        { dtype: 'float32', length: n },
      ],
      ([X, O]) => [loop('i', n, [store(O, v('i'), max(f32(0), min(load(X, v('i')), f32(6))))])],
    );
    expect(vectorized).toBe(true);
    // only a zero's sign may differ from Math.max/min's
    const unsigned = (xs: number[]) => xs.map((y) => (y === 0 ? 0 : y));
    expect(unsigned(out)).toEqual(unsigned(Array.from(data, (y) => Math.max(0, Math.min(y, 6)))));
  });
});

describe('max and min of varying values', () => {
  const x: BufRef = { id: 7, dtype: 'float32', length: 64 };
  const y: BufRef = { id: 8, dtype: 'float32', length: 64 };
  let temps = 0;
  const render = (e: Expr) =>
    renderVector(
      e,
      'k',
      () => 'scalar',
      (buf, index) => `(load #${buf.id} ${index.k === 'var' ? 'k' : 'k+'})`,
      SIMD128_LANES,
      undefined,
      undefined,
      undefined,
      () => `$t${temps++}`,
    );

  it('render as a balanced tree of or-ed pmin pairs, a max as the negated min of the negated operands', () => {
    temps = 0;
    const [a, b, c] = [load(x, v('k')), load(y, v('k')), load(x, add(v('k'), i32(1)))];
    expect(render(min(a, b))).toBe(
      '(v128.or (f32x4.pmin (local.tee $t0 (load #7 k)) (local.tee $t1 (load #8 k))) (f32x4.pmin (local.get $t1) (local.get $t0)))',
    );
    temps = 0;
    const neg = (s: string) => `(f32x4.neg ${s})`;
    const pair = (p: string, q: string, [s, t]: string[]) =>
      `(v128.or (f32x4.pmin (local.tee ${s} ${p}) (local.tee ${t} ${q})) (f32x4.pmin (local.get ${t}) (local.get ${s})))`;
    const inner = pair(neg('(load #8 k)'), neg('(load #7 k+)'), ['$t2', '$t3']);
    expect(render(max(max(a, b), c))).toBe(neg(pair(neg('(load #7 k)'), inner, ['$t0', '$t1'])));
  });

  for (const n of [7, 13, 37])
    it(`NaN, ±Inf and ±0 in any operand come out as the strict max/min's, over ${n} elements (tail ${n % 4})`, () => {
      // (a[i], b[2i], b[2i + 1]) of the first elements: zeros of both signs tied, a NaN or an infinity in
      // each place; random values after
      const special = [
        [-0, 0, -0],
        [0, -0, -1],
        [-0, -0, -2],
        [0, 0, -0],
        [NaN, 1, 2],
        [1, NaN, 2],
        [1, 2, NaN],
        [Infinity, -Infinity, 0],
        [-Infinity, -Infinity, -0],
        [-1, 0, Infinity],
      ];
      const a = Float32Array.from(rand(n, 11), (val, i) => special[i]?.[0] ?? val);
      const b = Float32Array.from(rand(2 * n + 2, 12), (val, i) => special[i >> 1]?.[1 + (i & 1)] ?? val);
      const { vectorized, out } = compile(
        [
          { dtype: 'float32', length: n, data: a },
          { dtype: 'float32', length: 2 * n + 2, data: b },
          { dtype: 'float32', length: 2 * n },
        ],
        ([A, B, O]) => {
          const [ai, b0, b1] = [
            load(A, v('i')),
            load(B, mul(v('i'), i32(2))),
            load(B, add(mul(v('i'), i32(2)), i32(1))),
          ];
          return [
            loop('i', n, [
              store(O, v('i'), max(max(ai, b0), b1)),
              store(O, add(v('i'), i32(n)), min(b1, min(mul(ai, f32(2)), b0))),
            ]),
          ];
        },
      );
      expect(vectorized).toBe(true);
      const strict = (f: (...xs: number[]) => number, xs: number[]) =>
        xs.some(Number.isNaN) ? NaN : f(...xs);
      const want = [
        ...Array.from({ length: n }, (_, i) => strict(Math.max, [a[i], b[2 * i], b[2 * i + 1]])),
        ...Array.from({ length: n }, (_, i) => strict(Math.min, [b[2 * i + 1], fr(a[i] * 2), b[2 * i]])),
      ];
      // zeros too: -0 < +0, as Math.max/min
      expect(out.map((y) => Object.is(y, -0))).toEqual(want.map((y) => Object.is(y, -0)));
      expect(out).toEqual(want);
    });
});

describe('selects with a +0 side', () => {
  const data = Float32Array.from([NaN, -0, 0, -1.5, 2.25, 7, Infinity, -Infinity, NaN, 3, -0, 0.5, -64.5]);
  const n = data.length;
  const selectLoop = (zeroFirst: boolean, zero: Expr = f32(0)) => {
    const specs = [
      { dtype: 'float32' as const, length: n, data },
      { dtype: 'float32' as const, length: n },
    ];
    const body = ([X, O]: BufRef[]) => {
      const x = load(X, v('i'));
      const cond = cmp('lt', x, f32(1));
      const other = mul(x, f32(3));
      return [
        loop('i', n, [store(O, v('i'), zeroFirst ? select(cond, zero, other) : select(cond, other, zero))]),
      ];
    };
    const wat = programToWat(programOf(place(specs), body(place(specs))));
    return { wat, ...compile(specs, body) };
  };

  it('render as an andnot or and with the compare mask (no bitselect), NaN, ±0 and ±Inf kept as the scalar select', () => {
    const ref = (zeroFirst: boolean) => Array.from(data, (x) => (x < 1 === zeroFirst ? 0 : fr(x * 3)));
    const zeroFirst = selectLoop(true);
    expect(zeroFirst.wat).toContain('v128.andnot');
    expect(zeroFirst.wat).not.toContain('v128.bitselect');
    expect(zeroFirst.out).toEqual(ref(true));
    const zeroSecond = selectLoop(false);
    expect(zeroSecond.wat).toMatch(/v128\.and /);
    expect(zeroSecond.wat).not.toContain('v128.bitselect');
    expect(zeroSecond.out).toEqual(ref(false));
  });

  it('keep the bitselect for a -0 side (its sign bit is set)', () => {
    const { wat, out } = selectLoop(true, f32(-0));
    expect(wat).toContain('v128.bitselect');
    expect(out.map((y, i) => Object.is(y, -0) === data[i] < 1)).not.toContain(false);
  });
});

describe('multiply-adds through the lane tables', () => {
  const x: BufRef = { id: 7, dtype: 'float32', length: 64 };
  /** `e` over loop k, each loop-invariant operand hoisted as $inv<n> in the order rendering meets it */
  const render = (e: Expr, lanes: Lanes) => {
    let hoisted = 0;
    return renderVector(
      e,
      'k',
      () => 'scalar',
      (buf) => `(load #${buf.id})`,
      lanes,
      () => `$inv${++hoisted}`,
    );
  };
  const [c, a, b] = [f32(1), load(x, v('k')), f32(2)];

  it('renders c + a·b, a·b + c and c − a·b as mul and add/sub in SIMD128, operands in text order', () => {
    expect(render(add(c, mul(a, b)), SIMD128_LANES)).toBe('(f32x4.add $inv1 (f32x4.mul (load #7) $inv2))');
    expect(render(add(mul(a, b), c), SIMD128_LANES)).toBe('(f32x4.add (f32x4.mul (load #7) $inv1) $inv2)');
    expect(render(sub(c, mul(a, b)), SIMD128_LANES)).toBe('(f32x4.sub $inv1 (f32x4.mul (load #7) $inv2))');
  });

  it('renders them as one relaxed_madd / relaxed_nmadd in the relaxed module, operands in text order', () => {
    expect(render(add(c, mul(a, b)), RELAXED_LANES)).toBe('(f32x4.relaxed_madd (load #7) $inv1 $inv2)');
    expect(render(add(mul(a, b), c), RELAXED_LANES)).toBe('(f32x4.relaxed_madd (load #7) $inv1 $inv2)');
    expect(render(sub(c, mul(a, b)), RELAXED_LANES)).toBe('(f32x4.relaxed_nmadd (load #7) $inv1 $inv2)');
  });
});
