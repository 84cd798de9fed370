/** float16 conversions against their definition: the nearest half (ties to even), exact widening. */
import { describe, expect, it } from 'vitest';
import { floatToHalf, halfToFloat } from '../../src/ir/float16.js';

/** The nearest of all finite halves to v by brute force, ties to the even bit pattern; ±∞ past the max. */
function nearestHalf(v: number): number {
  const f = Math.fround(v);
  if (Math.abs(f) >= 65520) return f > 0 ? 0x7c00 : 0xfc00;
  let best = -1;
  let bestErr = Infinity;
  for (let bits = 0; bits < 0x7c00; bits++) {
    const h = (f < 0 || Object.is(f, -0) ? 0x8000 : 0) | bits;
    const err = Math.abs(halfToFloat(h) - f);
    if (err < bestErr || (err === bestErr && (h & 1) === 0)) [best, bestErr] = [h, err];
  }
  return best;
}

describe('float16', () => {
  it('widens every bit pattern exactly', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('rounds to the nearest half, ties to even, for normals, subnormals, overflow and signed zeros', () => {
    const values = [0, -0, 1, -1, 0.1, 65504, 65519, 65520, 1e6, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 6e-8];
    values.push(1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 2 ** -11));
    for (let i = 0; i < 150; i++) values.push(Math.sin(i) * 10 ** ((i % 12) - 6));
    for (const v of values) expect(floatToHalf(v), String(v)).toBe(nearestHalf(v));
    expect(floatToHalf(Infinity)).toBe(0x7c00);
    expect(floatToHalf(-Infinity)).toBe(0xfc00);
    expect(floatToHalf(NaN) & 0x7c00).toBe(0x7c00);
    expect(floatToHalf(NaN) & 0x3ff).not.toBe(0);
  });

  it('round-trips every finite half', () => {
    for (let h = 0; h < 0x10000; h++)
      if ((h & 0x7c00) !== 0x7c00) expect(floatToHalf(halfToFloat(h))).toBe(h);
  });
});
