/**
 * Every scalar op, comparison and cast over edge values, against JavaScript references that spell out the
 * Kernel IR's semantics (C-like integer division with x / 0 = 0 and INT_MIN / -1 = 0, wrapping shifts,
 * IEEE floats rounded once, saturating float → int casts).
 */
import { bin, cast, cmp, f32, i32, load, loop, store, un, v } from '../../../src/kernels/build.js';
import type { BinOp, CmpOp, Expr, Scalar, UnOp } from '../../../src/kernels/ir.js';
import { typed, type NumDType } from '../program.js';
import type { KernelCase } from './case.js';

type Val = number | bigint;

const DTYPE: Record<Scalar, NumDType> = { f32: 'float32', f64: 'float64', i32: 'int32', i64: 'int64' };

export const I32_EDGES = [0, 1, -1, 2, -2, 7, -7, 31, 32, 33, 100, -100, 2147483647, -2147483648, 65536];
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
// subnormals of both float types (1e-40, 7e-39 in f32; 1e-310 in f64, 0 in f32) and halfway cases
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
  1e-40,
  7e-39,
];
const F_EXTRA = [0.49999997, -0.5, -1.5, 4.5, 5.5, -3.7, 1e10];

const edges = (t: Scalar): Val[] =>
  t === 'i64' ? I64_EDGES : t === 'i32' ? I32_EDGES : [...F_EDGES, ...F_EXTRA];

/** The values as the buffer holds them (f32 rounds, f64 → f32 flushes 1e-310). */
const stored = (t: Scalar, values: Val[]) => Array.from(typed(DTYPE[t], values) as ArrayLike<Val>);

/** out[i] = op(A[i], B[i]) over all pairs of `values`; expected from `ref` on the stored operands. */
export function binaryCase(
  name: string,
  t: Scalar,
  outT: Scalar,
  op: (a: Expr, b: Expr) => Expr,
  ref: (a: never, b: never) => Val,
  values: Val[] = edges(t),
): KernelCase {
  const a = stored(
    t,
    values.flatMap((x) => values.map(() => x)),
  );
  const b = stored(
    t,
    values.flatMap(() => values),
  );
  const n = a.length;
  return {
    name,
    buffers: [
      { dtype: DTYPE[t], data: a },
      { dtype: DTYPE[t], data: b },
      { dtype: DTYPE[outT], length: n },
    ],
    program: ([A, B, C]) => [loop('i', n, [store(C, v('i'), op(load(A, v('i')), load(B, v('i'))))])],
    expect: {
      2: stored(
        outT,
        a.map((x, i) => ref(x as never, b[i] as never)),
      ),
    },
  };
}

/** out[i] = op(A[i]); expected from `ref` on the stored operand. */
export function unaryCase(
  name: string,
  t: Scalar,
  outT: Scalar,
  op: (a: Expr) => Expr,
  ref: (a: never) => Val,
  values: Val[] = edges(t),
): KernelCase {
  const a = stored(t, values);
  return {
    name,
    buffers: [
      { dtype: DTYPE[t], data: a },
      { dtype: DTYPE[outT], length: a.length },
    ],
    program: ([A, B]) => [loop('i', a.length, [store(B, v('i'), op(load(A, v('i'))))])],
    expect: {
      1: stored(
        outT,
        a.map((x) => ref(x as never)),
      ),
    },
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

// min/max: -0 < +0 and NaN wins, as Math.min/max; stored() rounds f32 results once
const F_REF: Partial<Record<BinOp, (a: number, b: number) => number>> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  rem: (a, b) => a % b,
  min: Math.min,
  max: Math.max,
};

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

const cmp64 = (op: CmpOp) => (x: bigint, y: bigint) =>
  op.endsWith('_u')
    ? CMP_REF[op.slice(0, 2) as CmpOp](Number(u(x) - u(y)), 0)
    : CMP_REF[op](Number(x - y), 0);

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

const binOp = (op: BinOp) => (a: Expr, b: Expr) => bin(op, a, b);
const cmpOp = (op: CmpOp) => (a: Expr, b: Expr) => cmp(op, a, b);
const unOp = (op: UnOp) => (a: Expr) => un(op, a);
const entries = <K extends string, T>(table: Partial<Record<K, T>>) => Object.entries(table) as [K, T][];

export const BINARY_CASES: KernelCase[] = [
  ...entries(I32_REF).map(([op, ref]) => binaryCase(`i32 ${op}`, 'i32', 'i32', binOp(op), ref)),
  ...entries(I64_REF).map(([op, ref]) => binaryCase(`i64 ${op}`, 'i64', 'i64', binOp(op), ref)),
  ...(['f32', 'f64'] as const).flatMap((t) =>
    entries(F_REF).map(([op, ref]) => binaryCase(`${t} ${op}`, t, t, binOp(op), ref)),
  ),
  {
    name: 'constant divisors (3, -7, 0, -1) agree with variable ones',
    buffers: [
      { dtype: 'int32', data: I32_EDGES },
      { dtype: 'int32', length: 4 * I32_EDGES.length },
    ],
    program: ([A, C]) => {
      const n = I32_EDGES.length;
      const at = (part: number) => bin('add', v('i'), i32(part * n));
      return [
        loop('i', n, [
          store(C, at(0), bin('div', load(A, v('i')), i32(3))),
          store(C, at(1), bin('rem', load(A, v('i')), i32(-7))),
          store(C, at(2), bin('div', load(A, v('i')), i32(0))),
          store(C, at(3), bin('div', load(A, v('i')), i32(-1))),
        ]),
      ];
    },
    expect: {
      1: [
        ...I32_EDGES.map((a) => Math.trunc(a / 3) | 0),
        ...I32_EDGES.map((a) => (a % -7) | 0),
        ...I32_EDGES.map(() => 0),
        ...I32_EDGES.map((a) => (a === MIN32 ? 0 : -a | 0)),
      ],
    },
  },
];

export const COMPARISON_CASES: KernelCase[] = [
  ...entries(CMP_REF).flatMap(([op, ref]) => [
    binaryCase(`i32 ${op}`, 'i32', 'i32', cmpOp(op), (a: number, b: number) => +ref(a, b)),
    binaryCase(`i64 ${op}`, 'i64', 'i32', cmpOp(op), (a: bigint, b: bigint) => +cmp64(op)(a, b)),
  ]),
  ...(['f32', 'f64'] as const).flatMap((t) =>
    entries(CMP_REF)
      .filter(([op]) => !op.endsWith('_u'))
      .map(([op, ref]) =>
        binaryCase(`${t} ${op}`, t, 'i32', cmpOp(op), (a: number, b: number) => +ref(a, b), [
          ...F_EDGES,
          -NaN,
        ]),
      ),
  ),
  binaryCase(
    'f32 min propagates NaN',
    'f32',
    'i32',
    (a, b) => cmp('ne', bin('min', a, b), bin('min', a, b)),
    (a: number, b: number) => +(Number.isNaN(a) || Number.isNaN(b)),
    [...F_EDGES, -NaN],
  ),
];

export const UNARY_CASES: KernelCase[] = [
  ...(['f32', 'f64'] as const).flatMap((t) =>
    entries(F_UN).map(([op, ref]) =>
      unaryCase(`${t} ${op}`, t, op.startsWith('is') ? 'i32' : t, unOp(op), ref),
    ),
  ),
  ...(
    [
      ['neg', (a: number) => -a | 0],
      ['abs', (a: number) => Math.abs(a) | 0],
      ['not', (a: number) => ~a],
      ['floor', (a: number) => a],
      ['nearest', (a: number) => a],
    ] as const
  ).map(([op, ref]) => unaryCase(`i32 ${op}`, 'i32', 'i32', unOp(op), ref)),
  ...(
    [
      ['neg', (a: bigint) => w(-a)],
      ['abs', (a: bigint) => w(a < 0n ? -a : a)],
      ['not', (a: bigint) => ~a],
    ] as const
  ).map(([op, ref]) => unaryCase(`i64 ${op}`, 'i64', 'i64', unOp(op), ref)),
];

const TO_INT = [
  0,
  -0,
  1.9,
  -1.9,
  2.5,
  1e10,
  -1e10,
  4e9,
  NaN,
  Infinity,
  -Infinity,
  2147483647.5,
  -2147483649,
  2147483520,
  -2147483648,
  -0.5,
  4294967040,
];
const satS = (x: number) => (Number.isNaN(x) ? 0 : Math.max(MIN32, Math.min(2147483647, Math.trunc(x))) | 0);
const satU = (x: number) => (Number.isNaN(x) ? 0 : Math.max(0, Math.min(4294967295, Math.trunc(x))) | 0);
const sat64 = (x: number) => {
  const n = Number.isNaN(x) ? 0n : BigInt(Math.trunc(Math.max(-1e19, Math.min(1e19, x))));
  return n > (1n << 63n) - 1n ? (1n << 63n) - 1n : n < MIN64 ? MIN64 : n;
};
const TO_FLOAT = [...I32_EDGES, 16777217, -16777219, 2147483520];
// f32 boundaries past 2^32: 2^63 saturates, 2^64 saturates unsigned, 1.5 · 2^40 is exact
const TO_INT_64 = [...TO_INT, 2 ** 63, -(2 ** 63), 2 ** 64, 1.5 * 2 ** 40, -1.5 * 2 ** 40, 5e18, -5e18];
const satU64 = (x: number) => {
  const n = Number.isNaN(x) ? 0n : BigInt(Math.trunc(Math.max(0, Math.min(2e19, x))));
  return w(n > (1n << 64n) - 1n ? (1n << 64n) - 1n : n);
};
// halfway and just-past-halfway values above 2^24 and 2^32, where rounding to f32 is visible
const TO_F32_64 = [
  (1n << 24n) + 1n,
  (1n << 24n) + 3n,
  (1n << 40n) + (1n << 16n),
  (1n << 40n) + (1n << 16n) + 1n,
  (1n << 40n) + 3n * (1n << 16n),
  -((1n << 50n) + (1n << 26n) + 1n),
  (1n << 63n) - (1n << 38n),
];

export const CAST_CASES: KernelCase[] = [
  unaryCase('f64 → i32 truncates and saturates', 'f64', 'i32', (a) => cast('i32', a), satS, TO_INT),
  unaryCase('f32 → i32 truncates and saturates', 'f32', 'i32', (a) => cast('i32', a), satS, TO_INT),
  unaryCase('f32 → i32 unsigned', 'f32', 'i32', (a) => cast('i32', a, true), satU, TO_INT),
  unaryCase('f64 → i64 truncates and saturates', 'f64', 'i64', (a) => cast('i64', a), sat64, TO_INT),
  unaryCase(
    'i32 → f64',
    'i32',
    'f64',
    (a) => cast('f64', a),
    (a: number) => a,
  ),
  unaryCase(
    'i32 → f64 unsigned',
    'i32',
    'f64',
    (a) => cast('f64', a, true),
    (a: number) => a >>> 0,
  ),
  unaryCase(
    'i32 → f32 rounds to nearest',
    'i32',
    'f32',
    (a) => cast('f32', a),
    (a: number) => a,
    TO_FLOAT,
  ),
  unaryCase(
    'i32 → f32 unsigned',
    'i32',
    'f32',
    (a) => cast('f32', a, true),
    (a: number) => a >>> 0,
    TO_FLOAT,
  ),
  unaryCase('f32 → i64 truncates and saturates', 'f32', 'i64', (a) => cast('i64', a), sat64, TO_INT_64),
  unaryCase('f32 → i64 unsigned', 'f32', 'i64', (a) => cast('i64', a, true), satU64, TO_INT_64),
  unaryCase(
    'i64 → f32 rounds to nearest even',
    'i64',
    'f32',
    (a) => cast('f32', a),
    (a: bigint) => Number(a),
    [...I64_EDGES, ...TO_F32_64],
  ),
  unaryCase(
    'i64 → f32 unsigned',
    'i64',
    'f32',
    (a) => cast('f32', a, true),
    (a: bigint) => Number(u(a)),
  ),
  unaryCase(
    'i32 → i64 extends',
    'i32',
    'i64',
    (a) => cast('i64', a),
    (a: number) => BigInt(a),
  ),
  unaryCase(
    'i32 → i64 unsigned',
    'i32',
    'i64',
    (a) => cast('i64', a, true),
    (a: number) => BigInt(a >>> 0),
  ),
  unaryCase(
    'i64 → i32 wraps',
    'i64',
    'i32',
    (a) => cast('i32', a),
    (a: bigint) => Number(BigInt.asIntN(32, a)),
  ),
  unaryCase(
    'f64 → f32',
    'f64',
    'f32',
    (a) => cast('f32', a),
    (a: number) => a,
    [1 / 3, 1e300, -1e-300, NaN],
  ),
  unaryCase(
    'f32 → f64',
    'f32',
    'f64',
    (a) => cast('f64', a),
    (a: number) => a,
    [1 / 3, -0],
  ),
  {
    name: 'f32 constants, including -0, inf, nan and out of range',
    buffers: [{ dtype: 'float32', length: 5 }],
    program: ([A]) =>
      [f32(-0), f32(Infinity), f32(NaN), f32(0.1), { k: 'const', t: 'f32', v: 1e39 } as Expr].map((c, i) =>
        store(A, i32(i), c),
      ),
    expect: { 0: [-0, Infinity, NaN, Math.fround(0.1), Infinity] },
  },
  {
    name: 'i64 constants at the ends of the range',
    buffers: [{ dtype: 'int64', length: 2 }],
    program: ([A]) => [
      store(A, i32(0), { k: 'const', t: 'i64', v: -(1n << 63n) }),
      store(A, i32(1), { k: 'const', t: 'i64', v: (1n << 64n) - 1n }),
    ],
    expect: { 0: [-(1n << 63n), -1n] },
  },
];
