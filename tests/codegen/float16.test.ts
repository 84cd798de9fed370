import { describe, expect, it } from 'vitest';
import { load, loop, store, v } from '../../src/kernels/build.js';
import { runKernel } from './harness.js';

/** Reference half → float (exact). */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 0x3ff;
  if (e === 31) return m ? NaN : s * Infinity;
  if (e === 0) return s * m * 2 ** -24;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Reference float → half, round to nearest even, by bisecting the finite halves. */
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

describe('float16 storage', () => {
  it('every half value loads exactly and stores back to the same bits (NaNs stay NaN)', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const [, f, back] = runKernel(
      [
        { dtype: 'float16', length: 65536, data: all },
        { dtype: 'float32', length: 65536 },
        { dtype: 'float16', length: 65536 },
      ],
      ([H, F, H2]) => [
        loop('i', 65536, [store(F, v('i'), load(H, v('i'))), store(H2, v('i'), load(H, v('i')))]),
      ],
    );
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaN) {
        expect(Number.isNaN(f[h])).toBe(true);
        expect(back[h] & 0x7e00).toBe(0x7e00);
      } else {
        expect(Object.is(f[h], halfToFloat(h)) || f[h] === halfToFloat(h)).toBe(true);
        expect(back[h]).toBe(h);
      }
    }
  });

  it('float32 → float16 rounds to nearest even, overflows to inf, keeps subnormals and signed zero', () => {
    const specials = [
      0,
      -0,
      1,
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
      -6.1e-5,
      0.1,
      1 / 3,
    ];
    const rand = Array.from({ length: 2000 }, (_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 14) - 9));
    const data = Float32Array.from([...specials, ...rand]);
    const [, out] = runKernel(
      [
        { dtype: 'float32', length: data.length, data },
        { dtype: 'float16', length: data.length },
      ],
      ([F, H]) => [loop('i', data.length, [store(H, v('i'), load(F, v('i')))])],
    );
    const ref = Array.from(data, floatToHalf);
    expect(Array.from(out)).toEqual(ref);
  });
});
