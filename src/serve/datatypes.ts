/**
 * Open Inference Protocol datatype names ⇄ Kiln dtypes, and float16 bits ⇄ numbers for JSON tensors.
 * (serve may not import the compiler's IR, so this table lives here, the only copy.)
 */
import type { NumericDType } from '../bundle/elements.js';

export const DATATYPE_OF: Record<NumericDType, string> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
};

/** Every datatype name the protocol defines; BYTES is known but not served (Kiln has no string tensors). */
export const PROTOCOL_DATATYPES: readonly string[] = [...Object.values(DATATYPE_OF), 'BYTES'];

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
