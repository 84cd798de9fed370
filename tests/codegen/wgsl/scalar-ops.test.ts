/**
 * Every scalar op and cast of the float32/int32 compute types on the GPU, over edge values, against the
 * wasm generator: integers exactly; floats exactly for the ops IEEE rounds once, within a tolerance for
 * the transcendental functions (WGSL's accuracy is not wasm's correctly rounded f64 math library).
 */
import { describe, expect, it } from 'vitest';
import { bin, cast, cmp, load, loop, store, un, v } from '../../../src/kernels/build.js';
import type { BinOp, CmpOp, Expr, Stmt, UnOp } from '../../../src/kernels/ir.js';
import { place, programOf, typed, type NumDType } from '../harness.js';
import { expectClose, runBoth } from './harness.js';

const I32_EDGES = [0, 1, -1, 2, -2, 7, -7, 31, 32, 33, 100, -100, 2147483647, -2147483648, 65536];
// no NaN here: lavapipe's compiler folds x - x to 0 and x / c to x · (1/c), so NaN does not always
// propagate through arithmetic on the GPU; NaN gets its own cases below
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
  3.14159,
  1e-40,
];

type Op = (a: Expr, b: Expr) => Expr;

/**
 * One kernel per op over all pairs of `values` (or each value, for unary ops), all in one program so
 * the GPU compiles once; returns per-op GPU and wasm results.
 */
async function runOps(
  dtype: NumDType,
  outDtype: (name: string) => NumDType,
  values: number[],
  ops: Record<string, Op>,
) {
  const a = values.flatMap((x) => values.map(() => x));
  const b = values.flatMap(() => values);
  const n = a.length;
  const names = Object.keys(ops);
  const bufs = place([
    { dtype, length: n },
    { dtype, length: n },
    ...names.map((name) => ({ dtype: outDtype(name), length: n })),
  ]);
  const [A, B] = bufs;
  const program = programOf(bufs, []);
  program.run = names.map((name, i) => ({
    name,
    body: [loop('i', n, [store(bufs[i + 2], v('i'), ops[name](load(A, v('i')), load(B, v('i'))))])] as Stmt[],
  }));
  const inputs = [
    { buf: A, data: typed(dtype, a) },
    { buf: B, data: typed(dtype, b) },
  ];
  const { results, wasm } = await runBoth(program, inputs, bufs.slice(2));
  return Object.fromEntries(names.map((name, i) => [name, { gpu: results[i], wasm: wasm[i] }]));
}

const binary = (ops: readonly BinOp[]) =>
  Object.fromEntries(ops.map((op) => [op, (a: Expr, b: Expr) => bin(op, a, b)]));
const compare = (ops: readonly CmpOp[]) =>
  Object.fromEntries(ops.map((op) => [op, (a: Expr, b: Expr) => cmp(op, a, b)]));
const unary = (ops: readonly UnOp[]) => Object.fromEntries(ops.map((op) => [op, (a: Expr) => un(op, a)]));

const I32_BIN = [
  'add',
  'sub',
  'mul',
  'div',
  'rem',
  'div_u',
  'rem_u',
  'min',
  'max',
  'and',
  'or',
  'xor',
  'shl',
  'shr_s',
  'shr_u',
] as const;
const CMPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
const U_CMPS = ['lt_u', 'le_u', 'gt_u', 'ge_u'] as const;

describe('wgsl scalar ops', () => {
  it('i32 binary ops, comparisons, unary ops and casts agree exactly (division by 0 and INT_MIN / -1 give 0)', async () => {
    const ops = {
      ...binary(I32_BIN),
      ...compare([...CMPS, ...U_CMPS]),
      ...Object.fromEntries(
        (['neg', 'abs', 'not', 'floor', 'nearest'] as const).map((op) => [
          `un ${op}`,
          (a: Expr) => un(op, a),
        ]),
      ),
    };
    const res = await runOps('int32', () => 'int32', I32_EDGES, ops);
    for (const [op, { gpu, wasm }] of Object.entries(res)) expectClose(gpu, wasm, {}, op);
    // the cases WGSL would define differently on its own
    const at = (x: number, y: number) => I32_EDGES.indexOf(x) * I32_EDGES.length + I32_EDGES.indexOf(y);
    expect(res.div.gpu[at(5 + 2, 0)]).toBe(0);
    expect(res.div.gpu[at(-2147483648, -1)]).toBe(0);
    expect(res.rem.gpu[at(-7, 0)]).toBe(0);
    expect(res.shl.gpu[at(1, 33)]).toBe(2);
  });

  it('i32 → f32 casts, signed and unsigned, round to nearest', async () => {
    const res = await runOps('int32', () => 'float32', [...I32_EDGES, 16777217, -16777219, 2147483520], {
      signed: (a) => cast('f32', a),
      unsigned: (a) => cast('f32', a, true),
    });
    for (const [op, { gpu, wasm }] of Object.entries(res)) expectClose(gpu, wasm, {}, op);
  });

  it('f32 arithmetic, min/max (-0 < +0), C fmod, comparisons and rounding agree exactly', async () => {
    const ops = {
      ...binary(['add', 'sub', 'mul', 'div', 'min', 'max', 'rem']),
      ...Object.fromEntries(
        (['neg', 'abs', 'sqrt', 'floor', 'ceil', 'trunc', 'nearest'] as const).map((op) => [
          `un ${op}`,
          (a: Expr) => un(op, a),
        ]),
      ),
    };
    const values = [...F_EDGES, 0.49999997, -0.5, -1.5, 4.5, 5.5, -3.7, 1e10, 7e-39];
    const res = await runOps('float32', () => 'float32', values, ops);
    for (const [op, { gpu, wasm }] of Object.entries(res)) expectClose(gpu, wasm, {}, op);
  });

  it('f32 comparisons and tests, NaN included, give 0/1 as IEEE says', async () => {
    const ops = {
      ...compare(CMPS),
      ...Object.fromEntries(
        (['isnan', 'isinf_pos', 'isinf_neg'] as const).map((op) => [op, (a: Expr) => un(op, a)]),
      ),
      'min NaN': (a: Expr, b: Expr) => cmp('ne', bin('min', a, b), bin('min', a, b)),
    };
    const res = await runOps('float32', () => 'int32', [...F_EDGES, NaN, -NaN], ops);
    for (const [op, { gpu, wasm }] of Object.entries(res)) expectClose(gpu, wasm, {}, op);
    expect(res.ne.gpu[res.ne.gpu.length - 1]).toBe(1); // NaN != NaN
  });

  it('f32 → i32 casts truncate and saturate, NaN → 0, signed and unsigned', async () => {
    const values = [
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
      2147483520,
      -2147483648,
      -0.5,
      4294967040,
    ];
    const res = await runOps('float32', () => 'int32', values, {
      signed: (a) => cast('i32', a),
      unsigned: (a) => cast('i32', a, true),
    });
    for (const [op, { gpu, wasm }] of Object.entries(res)) expectClose(gpu, wasm, {}, op);
  });

  it('f32 math functions agree within WGSL accuracy', async () => {
    const values = [0, -0, 0.1, -0.3, 0.5, 0.9, -0.99, 1, -1, 1.5, 2, -3, 10, 20, -40, 100];
    const ops = unary([
      'exp',
      'log',
      'sin',
      'cos',
      'tan',
      'asin',
      'acos',
      'atan',
      'sinh',
      'cosh',
      'tanh',
      'asinh',
      'acosh',
      'atanh',
      'erf',
    ]);
    const res = await runOps('float32', () => 'float32', values, ops);
    for (const [op, { gpu, wasm }] of Object.entries(res))
      expectClose(gpu, wasm, { rel: 4e-6, abs: 1e-6 }, op);
  });

  it('f32 pow follows C (negative bases with integer exponents, zeros, infinities) and atan2 its quadrants', async () => {
    const values = [0, -0, 0.5, -0.5, 1, -1, 2, -2, 3, -3, 0.25, 10, 30, -7, Infinity, -Infinity, NaN];
    const res = await runOps('float32', () => 'float32', values, binary(['pow', 'atan2']));
    expectClose(res.pow.gpu, res.pow.wasm, { rel: 1e-5 }, 'pow');
    expectClose(res.atan2.gpu, res.atan2.wasm, { rel: 1e-6, abs: 1e-7 }, 'atan2');
  });
});
