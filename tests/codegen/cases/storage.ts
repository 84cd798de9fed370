/**
 * Loads and stores of every storage dtype: round trips through the compute type (stored one element into a
 * word, where narrow elements share words), narrow stores wrapping, float16 rounding.
 */
import { add, i32, load, loop, store, v } from '../../../src/kernels/build.js';
import type { Stmt } from '../../../src/kernels/ir.js';
import type { NumDType } from '../program.js';
import type { KernelCase, Values } from './case.js';

const ROUND_TRIPS: { dtype: NumDType; values: Values }[] = [
  { dtype: 'int8', values: [0, 1, -1, 127, -128] },
  { dtype: 'uint8', values: [0, 1, 255, 128, 7] },
  { dtype: 'bool', values: [0, 1, 1, 0] },
  { dtype: 'int16', values: [0, -1, 32767, -32768, 5] },
  { dtype: 'uint16', values: [0, 65535, 32768] },
  { dtype: 'int32', values: [0, -1, 2147483647, -2147483648] },
  { dtype: 'uint32', values: [0, 4294967295, 2147483648] },
  { dtype: 'int64', values: [0n, -1n, (1n << 63n) - 1n, -(1n << 63n)] },
  { dtype: 'uint64', values: [0n, (1n << 64n) - 1n, 1n << 63n] },
  { dtype: 'float32', values: [0, -0, 1.5, NaN, -Infinity, 3.4e38, 1e-45] },
  { dtype: 'float64', values: [0, -0, 1 / 3, NaN, Infinity, 5e-324] },
  // half bits: zero, -0, one, subnormals, max, infinities, a quiet NaN
  { dtype: 'float16', values: [0, 0x8000, 0x3c00, 0x0001, 0x83ff, 0x7bff, 0x7c00, 0xfc00, 0x7e00] },
];

const zero = (dtype: NumDType) => (dtype === 'int64' || dtype === 'uint64' ? 0n : 0);

const WRAPPED = [300, -1, 65537, -129, 5];

export const STORAGE_CASES: KernelCase[] = [
  ...ROUND_TRIPS.map(({ dtype, values }): KernelCase => ({
    name: `${dtype} round-trips through its compute type`,
    buffers: [
      { dtype, data: values },
      { dtype, length: values.length + 1 },
    ],
    // B[i + 1] = A[i]: the stores start one element into a word
    program: ([A, B]) => [loop('i', values.length, [store(B, add(v('i'), i32(1)), load(A, v('i')))])],
    expect: { 1: [zero(dtype), ...values] },
  })),
  {
    name: 'narrow stores wrap and narrow loads sign- or zero-extend',
    buffers: [
      { dtype: 'int32', data: WRAPPED },
      { dtype: 'int8', length: 5 },
      { dtype: 'uint8', length: 5 },
      { dtype: 'int16', length: 5 },
      { dtype: 'uint16', length: 5 },
      { dtype: 'int32', length: 20 },
    ],
    program: ([A, ...narrow]) => {
      const R = narrow.pop()!;
      return [
        loop(
          'i',
          5,
          narrow.map((buf) => store(buf, v('i'), load(A, v('i')))),
        ),
        loop(
          'i',
          5,
          narrow.map((buf, j) => store(R, add(v('i'), i32(5 * j)), load(buf, v('i')))),
        ),
      ] as Stmt[];
    },
    expect: {
      1: [44, -1, 1, 127, 5],
      2: [44, 255, 1, 127, 5],
      3: [300, -1, 1, -129, 5],
      4: [300, 65535, 1, 65407, 5],
      5: [44, -1, 1, 127, 5, 44, 255, 1, 127, 5, 300, -1, 1, -129, 5, 300, 65535, 1, 65407, 5],
    },
  },
];

/** Reference half → float (exact). */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 0x3ff;
  if (e === 31) return m ? NaN : s * Infinity;
  if (e === 0) return s * m * 2 ** -24;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Reference float → half, round to nearest even, by bisecting the finite halves (NaN: the quiet 0x7e00). */
function floatToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  // largest finite half not above a (halves are monotone in their bits), then the nearer of it and the next
  let lo = 0;
  let hi = 0x7bff;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (halfToFloat(mid) <= a) lo = mid;
    else hi = mid - 1;
  }
  const below = a - halfToFloat(lo);
  const above = halfToFloat(lo + 1) - a;
  const best = below < above || (below === above && (lo & 1) === 0) ? lo : lo + 1;
  return sign | best;
}

const ALL_HALVES = Array.from({ length: 65536 }, (_, i) => i);
const isHalfNaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const TO_HALF = Array.from(
  Float32Array.from([
    0,
    -0,
    1,
    1 / 3,
    65504,
    65519.99,
    65520,
    1e6,
    -1e6,
    Infinity,
    -Infinity,
    NaN,
    2 ** -24,
    2 ** -25,
    2 ** -25 * 1.0001,
    3 * 2 ** -25,
    2 ** -14,
    2 ** -14 - 2 ** -25,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    1e-8,
    6e-8,
    2e-8,
    3e-8,
    -6.1e-5,
    0.1,
    ...Array.from({ length: 2000 }, (_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 14) - 9)),
  ]),
);

export const FLOAT16_CASES: KernelCase[] = [
  {
    name: 'every half value loads exactly and stores back to the same bits (NaNs quieted)',
    buffers: [
      { dtype: 'float16', data: ALL_HALVES },
      { dtype: 'float32', length: 65536 },
      { dtype: 'float16', length: 65536 },
    ],
    program: ([H, F, H2]) => [
      loop('i', 65536, [store(F, v('i'), load(H, v('i'))), store(H2, v('i'), load(H, v('i')))]),
    ],
    expect: {
      1: ALL_HALVES.map(halfToFloat),
      // a NaN keeps its sign and payload, with the quiet bit set, as IEEE conversions do
      2: ALL_HALVES.map((h) => (isHalfNaN(h) ? h | 0x200 : h)),
    },
  },
  {
    name: 'float32 → float16 rounds to nearest even, overflows to inf, keeps subnormals and signed zero',
    buffers: [
      { dtype: 'float32', data: TO_HALF },
      { dtype: 'float16', length: TO_HALF.length },
    ],
    program: ([F, H]) => [loop('i', TO_HALF.length, [store(H, v('i'), load(F, v('i')))])],
    expect: { 1: TO_HALF.map(floatToHalf) },
  },
];
