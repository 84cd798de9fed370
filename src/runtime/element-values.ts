/**
 * Plain values (a JSON request's, or a plain array a caller feeds `run`) checked element by element
 * against a dtype — type, range, integrality — into the runtime's typed array. The server and the runtime
 * share this one checker, so both refuse the same data with the same message instead of storing NaN.
 * Non-finite floats may be given as the strings "NaN", "Infinity" and "-Infinity" (JSON has no others).
 */
import { ELEMENT_ARRAY, type ElementArray, type NumericDType } from '../bundle/elements.js';

const INTEGER_RANGE: Partial<Record<NumericDType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  // JSON numbers are doubles: 64-bit values beyond 2^53 need the binary extension (or bigints)
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/** the full ranges of the 64-bit types, for bigint elements */
const BIGINT_RANGE: Partial<Record<NumericDType, [bigint, bigint]>> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/**
 * `values` as `dtype`'s typed array, or `fail(message)` thrown for the first element that does not fit:
 * bool takes true/false; integer types integral numbers in range (int64/uint64 also bigints); float
 * types numbers or the non-finite strings, float16 rounded to its bits. One plain loop per kind of
 * dtype: this runs once per element of every JSON tensor. Reads each element once, by index, so holes
 * and getters cannot differ between the check and the copy.
 */
export function typedFromValues(
  where: string,
  dtype: NumericDType,
  values: ArrayLike<unknown>,
  fail: (message: string) => Error = (message) => new Error(message),
): ElementArray {
  const out = new ELEMENT_ARRAY[dtype](values.length);
  const range = INTEGER_RANGE[dtype];
  const badElement = (i: number, value: unknown, expected: string) =>
    fail(`${where}: element ${i} is ${describeValue(value)}, expected ${expected}`);
  if (dtype === 'bool') {
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (typeof value !== 'boolean') throw badElement(i, value, 'true or false');
      out[i] = value ? 1 : 0;
    }
  } else if (range) {
    const wide = BIGINT_RANGE[dtype];
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (wide && typeof value === 'bigint' && value >= wide[0] && value <= wide[1]) out[i] = value;
      else if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1])
        throw badElement(i, value, `an integer in [${range[0]}, ${range[1]}]`);
      else out[i] = wide ? BigInt(value) : value;
    }
  } else {
    const half = dtype === 'float16';
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      const number =
        typeof value === 'string' && Object.hasOwn(NON_FINITE, value) ? NON_FINITE[value] : value;
      if (typeof number !== 'number')
        throw badElement(i, value, 'a number (or "NaN", "Infinity", "-Infinity")');
      out[i] = half ? halfBitsFromNumber(number) : number;
    }
  }
  return out;
}

/** A value for a message: short, never throwing (bigints, cycles, symbols). */
function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined (a hole or a missing element)';
    case 'object':
      return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
    default:
      return `a ${typeof value}`;
  }
}

const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);

/**
 * A number rounded to the nearest float16 (ties to even), as raw bits. Rounding to float32 first
 * cannot change the result: float32's 24-bit significand is more than twice float16's 11 bits plus 2.
 */
export function halfBitsFromNumber(value: number): number {
  float32[0] = value;
  const bits = float32Bits[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const tie = 1 << (shift - 1);
    if (rest > tie || (rest === tie && half & 1)) half++;
    return sign | half;
  }
  // a carry out of the mantissa correctly bumps the exponent (up to infinity)
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function numberFromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
