/**
 * Element sizes and typed arrays per dtype, for the bundle reader and the runtime. The runtime may
 * not import the compiler's IR (src/ir), so this is a deliberate small copy of part of
 * src/ir/dtype.ts; tests/runtime/elements.test.ts keeps the two in agreement.
 */
import type { DType, TypedArray } from '../ir/dtype.js';

export type NumericDType = Exclude<DType, 'string'>;

/** The typed arrays element data lives in (ir/dtype's TypedArray). */
export type ElementArray = TypedArray;

interface ElementArrayConstructor {
  new (length: number): ElementArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): ElementArray;
  readonly BYTES_PER_ELEMENT: number;
}

/** float16 travels as its raw bits (Uint16Array), bool as one byte per element (Uint8Array). */
export const ELEMENT_ARRAY: Record<NumericDType, ElementArrayConstructor> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

export function isNumericDType(dtype: string): dtype is NumericDType {
  return Object.hasOwn(ELEMENT_ARRAY, dtype);
}

export function elementBytes(dtype: NumericDType): number {
  return ELEMENT_ARRAY[dtype].BYTES_PER_ELEMENT;
}

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}
