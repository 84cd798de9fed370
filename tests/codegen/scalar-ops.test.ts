import { describe, expect, it } from 'vitest';
import { bin, cast, cmp, f32, load, loop, store, un, v } from '../../src/kernels/build.js';
import type { BinOp, CmpOp, Scalar, UnOp } from '../../src/kernels/ir.js';
import { runKernel, typed, type Elements, type NumDType } from './harness.js';

const I32_EDGES = [0, 1, -1, 2, -2, 7, -7, 31, 32, 33, 100, -100, 2147483647, -2147483648, 65536];
const I64_EDGES = [
  0n,
  1n,
  -1n,
  3n,
  -3n,
  63n,
  64n,
  65n,
  1n << 40n,
  -(1n << 40n),
  (1n << 63n) - 1n,
  -(1n << 63n),
];
const F_EDGES = [
  0,
  -0,
  1,
  -1,
  1.5,
  -2.5,
  0.5,
  2.5,
  3,
  -7.25,
  1e-30,
  1e30,
  Infinity,
  -Infinity,
  NaN,
  3.14159,
  1e-310,
];

const DTYPE: Record<Scalar, NumDType> = { f32: 'float32', f64: 'float64', i32: 'int32', i64: 'int64' };

function edges(t: Scalar): (number | bigint)[] {
  return t === 'i64' ? I64_EDGES : t === 'i32' ? I32_EDGES : F_EDGES;
}

/** All pairs of edge values, as two typed arrays of type t. */
function pairs(t: Scalar) {
  const e = edges(t);
  const a = e.flatMap((x) => e.map(() => x));
  const b = e.flatMap(() => e);
  return { a: typed(DTYPE[t], a), b: typed(DTYPE[t], b), n: a.length };
}

/** out[i] = f(A[i], B[i]) compiled both without and with binaryen's optimizer. */
function runBinary(t: Scalar, outT: Scalar, f: (a: never, b: never) => never) {
  const { a, b, n } = pairs(t);
  const results = [false, true].map(
    (optimize) =>
      runKernel(
        [
          { dtype: DTYPE[t], length: n, data: a },
          { dtype: DTYPE[t], length: n, data: b },
          { dtype: DTYPE[outT], length: n },
        ],
        ([A, B, C]) => [
          loop('i', n, [store(C, v('i'), f(load(A, v('i')) as never, load(B, v('i')) as never))]),
        ],
        { optimize },
      )[2],
  );
  expect(Array.from(results[1])).toEqual(Array.from(results[0]));
  return {
    a: Array.from(a as Elements) as never[],
    b: Array.from(b as Elements) as never[],
    out: Array.from(results[0]),
  };
}

const MIN32 = -2147483648;
const I32_REF: Partial<Record<BinOp, (a: number, b: number) => number>> = {
  add: (a, b) => (a + b) | 0,
  sub: (a, b) => (a - b) | 0,
  mul: (a, b) => Math.imul(a, b),
  div: (a, b) => (b === 0 || (a === MIN32 && b === -1) ? 0 : Math.trunc(a / b) | 0),
  rem: (a, b) => (b === 0 ? 0 : (a % b) | 0),
  div_u: (a, b) => (b === 0 ? 0 : Math.trunc((a >>> 0) / (b >>> 0)) | 0),
  rem_u: (a, b) => (b === 0 ? 0 : ((a >>> 0) % (b >>> 0)) | 0),
  min: Math.min,
  max: Math.max,
  and: (a, b) => a & b,
  or: (a, b) => a | b,
  xor: (a, b) => a ^ b,
  shl: (a, b) => a << b,
  shr_s: (a, b) => a >> b,
  shr_u: (a, b) => (a >>> b) | 0,
};

const w = (x: bigint) => BigInt.asIntN(64, x);
const u = (x: bigint) => BigInt.asUintN(64, x);
const MIN64 = -(1n << 63n);
const I64_REF: Partial<Record<BinOp, (a: bigint, b: bigint) => bigint>> = {
  add: (a, b) => w(a + b),
  sub: (a, b) => w(a - b),
  mul: (a, b) => w(a * b),
  div: (a, b) => (b === 0n || (a === MIN64 && b === -1n) ? 0n : a / b),
  rem: (a, b) => (b === 0n ? 0n : a % b),
  div_u: (a, b) => (b === 0n ? 0n : w(u(a) / u(b))),
  rem_u: (a, b) => (b === 0n ? 0n : w(u(a) % u(b))),
  min: (a, b) => (a < b ? a : b),
  max: (a, b) => (a > b ? a : b),
  and: (a, b) => a & b,
  or: (a, b) => a | b,
  xor: (a, b) => a ^ b,
  shl: (a, b) => w(a << (b & 63n)),
  shr_s: (a, b) => a >> (b & 63n),
  shr_u: (a, b) => w(u(a) >> (b & 63n)),
};

const F_REF: Partial<Record<BinOp, (a: number, b: number) => number>> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  rem: (a, b) => a % b,
  min: Math.min,
  max: Math.max,
};

describe('binary ops', () => {
  for (const [op, ref] of Object.entries(I32_REF))
    it(`i32 ${op}`, () => {
      const { a, b, out } = runBinary('i32', 'i32', (x, y) => bin(op as BinOp, x, y) as never);
      expect(out).toEqual(a.map((x, i) => ref(x, b[i])));
    });
  for (const [op, ref] of Object.entries(I64_REF))
    it(`i64 ${op}`, () => {
      const { a, b, out } = runBinary('i64', 'i64', (x, y) => bin(op as BinOp, x, y) as never);
      expect(out).toEqual(a.map((x, i) => ref(x, b[i])));
    });
  for (const t of ['f32', 'f64'] as const)
    for (const [op, ref] of Object.entries(F_REF))
      it(`${t} ${op}`, () => {
        const { a, b, out } = runBinary(t, t, (x, y) => bin(op as BinOp, x, y) as never);
        const round = t === 'f32' ? Math.fround : (x: number) => x;
        expect(out).toEqual(a.map((x, i) => round(ref(x, b[i]))));
      });
  it('constant divisors take the raw instruction path and agree', () => {
    const n = I32_EDGES.length;
    const [, , out] = runKernel(
      [
        { dtype: 'int32', length: n, data: Int32Array.from(I32_EDGES) },
        { dtype: 'int32', length: 1 },
        { dtype: 'int32', length: 4 * n },
      ],
      ([A, , C]) => [
        loop('i', n, [
          store(C, v('i'), bin('div', load(A, v('i')), { k: 'const', t: 'i32', v: 3 })),
          store(
            C,
            bin('add', v('i'), { k: 'const', t: 'i32', v: n }),
            bin('rem', load(A, v('i')), { k: 'const', t: 'i32', v: -7 }),
          ),
          store(
            C,
            bin('add', v('i'), { k: 'const', t: 'i32', v: 2 * n }),
            bin('div', load(A, v('i')), { k: 'const', t: 'i32', v: 0 }),
          ),
          store(
            C,
            bin('add', v('i'), { k: 'const', t: 'i32', v: 3 * n }),
            bin('div', load(A, v('i')), { k: 'const', t: 'i32', v: -1 }),
          ),
        ]),
      ],
    );
    expect(Array.from(out)).toEqual([
      ...I32_EDGES.map((a) => Math.trunc(a / 3) | 0),
      ...I32_EDGES.map((a) => (a % -7) | 0),
      ...I32_EDGES.map(() => 0),
      ...I32_EDGES.map((a) => (a === MIN32 ? 0 : -a | 0)),
    ]);
  });
});

const CMP_REF: Record<CmpOp, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  lt_u: (a, b) => a >>> 0 < b >>> 0,
  le_u: (a, b) => a >>> 0 <= b >>> 0,
  gt_u: (a, b) => a >>> 0 > b >>> 0,
  ge_u: (a, b) => a >>> 0 >= b >>> 0,
};

describe('comparisons', () => {
  for (const [op, ref] of Object.entries(CMP_REF)) {
    it(`i32 ${op}`, () => {
      const { a, b, out } = runBinary('i32', 'i32', (x, y) => cmp(op as CmpOp, x, y) as never);
      expect(out).toEqual(a.map((x, i) => +ref(x, b[i])));
    });
    it(`i64 ${op}`, () => {
      const { a, b, out } = runBinary('i64', 'i32', (x, y) => cmp(op as CmpOp, x, y) as never);
      const ref64 = (x: bigint, y: bigint) =>
        op.endsWith('_u') ? CMP_REF[op.slice(0, 2) as CmpOp](Number(u(x) - u(y)), 0) : ref(Number(x - y), 0);
      expect(out).toEqual(a.map((x, i) => +ref64(x, b[i])));
    });
    if (!op.endsWith('_u'))
      it(`f64 ${op}`, () => {
        const { a, b, out } = runBinary('f64', 'i32', (x, y) => cmp(op as CmpOp, x, y) as never);
        expect(out).toEqual(a.map((x, i) => +ref(x, b[i])));
      });
  }
  it('unsigned comparisons are rejected on floats', () => {
    expect(() => runBinary('f32', 'i32', (x, y) => cmp('lt_u', x, y) as never)).toThrow(
      /lt_u is not defined on f32/,
    );
  });
});

/** out[i] = f(A[i]) for the edge values of type t. */
function runUnary(t: Scalar, outT: Scalar, f: (a: never) => never, values: (number | bigint)[] = edges(t)) {
  const data = typed(DTYPE[t], values);
  const [, out] = runKernel(
    [
      { dtype: DTYPE[t], length: data.length, data },
      { dtype: DTYPE[outT], length: data.length },
    ],
    ([A, B]) => [loop('i', data.length, [store(B, v('i'), f(load(A, v('i')) as never))])],
  );
  return { a: Array.from(data as Elements) as never[], out: Array.from(out) };
}

const F_UN: Partial<Record<UnOp, (a: number) => number>> = {
  neg: (a) => -a,
  abs: Math.abs,
  sqrt: Math.sqrt,
  floor: Math.floor,
  ceil: Math.ceil,
  trunc: Math.trunc,
  nearest: (a) => {
    const r = Math.round(a);
    return r - a === 0.5 && r % 2 !== 0 ? r - 1 : r;
  },
  isnan: (a) => +Number.isNaN(a),
  isinf_pos: (a) => +(a === Infinity),
  isinf_neg: (a) => +(a === -Infinity),
};

describe('unary ops', () => {
  for (const t of ['f32', 'f64'] as const)
    for (const [op, ref] of Object.entries(F_UN))
      it(`${t} ${op}`, () => {
        const vals = [...F_EDGES, 0.49999997, -0.5, -1.5, 4.5, 5.5, -3.7];
        const outT = op.startsWith('is') ? 'i32' : t;
        const { a, out } = runUnary(t, outT, (x) => un(op as UnOp, x) as never, vals);
        const round = t === 'f32' ? Math.fround : (x: number) => x;
        expect(out).toEqual(a.map((x) => round(ref(x))));
      });
  it('i32 neg, abs, not and identity rounding', () => {
    for (const [op, ref] of [
      ['neg', (a: number) => -a | 0],
      ['abs', (a: number) => Math.abs(a) | 0],
      ['not', (a: number) => ~a],
      ['floor', (a: number) => a],
    ] as const) {
      const { a, out } = runUnary('i32', 'i32', (x) => un(op, x) as never);
      expect(out).toEqual(a.map(ref));
    }
  });
  it('i64 neg, abs, not', () => {
    for (const [op, ref] of [
      ['neg', (a: bigint) => w(-a)],
      ['abs', (a: bigint) => w(a < 0n ? -a : a)],
      ['not', (a: bigint) => ~a],
    ] as const) {
      const { a, out } = runUnary('i64', 'i64', (x) => un(op, x) as never);
      expect(out).toEqual(a.map(ref));
    }
  });
  it('rejects float-only ops on integers with a clear message', () => {
    expect(() => runUnary('i32', 'i32', (x) => un('sqrt', x) as never)).toThrow(
      /kernel 'test kernel'.*sqrt is not defined on i32/,
    );
  });
});

describe('casts', () => {
  const F = [0, -0, 1.9, -1.9, 2.5, 1e10, -1e10, 4e9, NaN, Infinity, -Infinity, 2147483647.5, -2147483649];
  it('float → int saturates and truncates', () => {
    const { a, out } = runUnary('f64', 'i32', (x) => cast('i32', x) as never, F);
    const sat = (x: number) =>
      Number.isNaN(x) ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(x))) | 0;
    expect(out).toEqual(a.map((x: number) => sat(x)));
    const un32 = runUnary('f32', 'i32', (x) => cast('i32', x, true) as never, F);
    const satU = (x: number) => (Number.isNaN(x) ? 0 : Math.max(0, Math.min(4294967295, Math.trunc(x))) | 0);
    expect(un32.out).toEqual(un32.a.map((x: number) => satU(x)));
    const to64 = runUnary('f64', 'i64', (x) => cast('i64', x) as never, F);
    expect(to64.out).toEqual(
      to64.a
        .map((x: number) => (Number.isNaN(x) ? 0n : BigInt(Math.trunc(Math.max(-1e19, Math.min(1e19, x))))))
        .map((x) => (x > (1n << 63n) - 1n ? (1n << 63n) - 1n : x < MIN64 ? MIN64 : x)),
    );
  });
  it('int → float per signedness', () => {
    const s = runUnary('i32', 'f64', (x) => cast('f64', x) as never);
    expect(s.out).toEqual(s.a);
    const uns = runUnary('i32', 'f64', (x) => cast('f64', x, true) as never);
    expect(uns.out).toEqual(uns.a.map((x: number) => x >>> 0));
    const f = runUnary('i64', 'f32', (x) => cast('f32', x, true) as never);
    expect(f.out).toEqual(f.a.map((x: bigint) => Math.fround(Number(u(x)))));
  });
  it('i32 ↔ i64 extend and wrap, f32 ↔ f64', () => {
    const s = runUnary('i32', 'i64', (x) => cast('i64', x) as never);
    expect(s.out).toEqual(s.a.map((x: number) => BigInt(x)));
    const z = runUnary('i32', 'i64', (x) => cast('i64', x, true) as never);
    expect(z.out).toEqual(z.a.map((x: number) => BigInt(x >>> 0)));
    const wr = runUnary('i64', 'i32', (x) => cast('i32', x) as never);
    expect(wr.out).toEqual(wr.a.map((x: bigint) => Number(BigInt.asIntN(32, x))));
    const d = runUnary('f64', 'f32', (x) => cast('f32', x) as never, [1 / 3, 1e300, -1e-300, NaN]);
    expect(d.out).toEqual(d.a.map(Math.fround));
    const p = runUnary('f32', 'f64', (x) => cast('f64', x) as never, [1 / 3, -0]);
    expect(p.out).toEqual(p.a.map(Math.fround));
  });
  it('constants of every type, including -0, inf and nan', () => {
    const vals = [f32(-0), f32(Infinity), f32(NaN), f32(0.1), { k: 'const', t: 'f32', v: 1e39 }] as const;
    const [out] = runKernel([{ dtype: 'float32', length: vals.length }], ([A]) =>
      vals.map((c, i) => store(A, { k: 'const', t: 'i32', v: i }, c as never)),
    );
    expect(Array.from(out)).toEqual([-0, Infinity, NaN, Math.fround(0.1), Infinity]);
    const [o64] = runKernel([{ dtype: 'int64', length: 2 }], ([A]) => [
      store(A, { k: 'const', t: 'i32', v: 0 }, { k: 'const', t: 'i64', v: -(1n << 63n) }),
      store(A, { k: 'const', t: 'i32', v: 1 }, { k: 'const', t: 'i64', v: (1n << 64n) - 1n }),
    ]);
    expect(Array.from(o64)).toEqual([-(1n << 63n), -1n]);
  });
});
