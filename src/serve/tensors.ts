/**
 * Tensor data as the protocol carries it ⇄ the runtime's typed arrays. JSON data may be nested
 * arrays (flattened row-major); binary data is little-endian, row-major, one byte per BOOL.
 * Non-finite floats travel in JSON as the strings "NaN", "Infinity" and "-Infinity".
 */
import { ELEMENT_ARRAY, elementBytes, type ElementArray, type NumericDType } from '../bundle/elements.js';
import { halfBitsFromNumber, numberFromHalfBits } from './datatypes.js';
import { badRequest } from './http-error.js';

const INTEGER_RANGE: Partial<Record<NumericDType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  // JSON numbers are doubles: 64-bit values beyond 2^53 need the binary extension
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** Nested arrays flattened row-major; anything but arrays and scalars is refused. */
export function flattenData(where: string, data: unknown): unknown[] {
  if (!Array.isArray(data)) throw badRequest(`${where}: "data" must be an array, got ${typeName(data)}`);
  const flat: unknown[] = [];
  const visit = (items: unknown[]) => {
    for (const item of items) {
      if (Array.isArray(item)) visit(item);
      else flat.push(item);
    }
  };
  visit(data);
  return flat;
}

/** JSON scalars checked against `dtype` (type, range, integrality) into the runtime's typed array. */
export function typedFromJson(where: string, dtype: NumericDType, values: unknown[]): ElementArray {
  const out = new ELEMENT_ARRAY[dtype](values.length);
  const range = INTEGER_RANGE[dtype];
  // built only on failure: a closure per element costs more than the conversion itself
  const badElement = (i: number, value: unknown, expected: string) =>
    badRequest(`${where}: element ${i} is ${JSON.stringify(value) ?? typeName(value)}, expected ${expected}`);
  values.forEach((value, i) => {
    if (dtype === 'bool') {
      if (typeof value !== 'boolean') throw badElement(i, value, 'true or false');
      out[i] = value ? 1 : 0;
    } else if (range) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1])
        throw badElement(i, value, `an integer in [${range[0]}, ${range[1]}]`);
      out[i] = out instanceof BigInt64Array || out instanceof BigUint64Array ? BigInt(value) : value;
    } else {
      const number =
        typeof value === 'string' && Object.hasOwn(NON_FINITE, value) ? NON_FINITE[value] : value;
      if (typeof number !== 'number')
        throw badElement(i, value, 'a number (or "NaN", "Infinity", "-Infinity")');
      out[i] = dtype === 'float16' ? halfBitsFromNumber(number) : number;
    }
  });
  return out;
}

/** Raw little-endian bytes into a fresh, aligned typed array (wasm hosts are little-endian). */
export function typedFromBytes(dtype: NumericDType, bytes: Uint8Array): ElementArray {
  const copy = bytes.slice();
  // BOOL is one byte per element; any non-zero byte means true, stored as the 1 the kernels expect
  if (dtype === 'bool') for (let i = 0; i < copy.length; i++) copy[i] = copy[i] ? 1 : 0;
  return new ELEMENT_ARRAY[dtype](copy.buffer, 0, copy.byteLength / elementBytes(dtype));
}

export function bytesOfTyped(data: ElementArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A runtime output as flat JSON scalars. */
export function jsonFromTyped(dtype: NumericDType, data: ElementArray): (number | boolean | string)[] {
  const out: (number | boolean | string)[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const raw = data[i];
    if (dtype === 'bool') out[i] = raw !== 0;
    else if (typeof raw === 'bigint') out[i] = Number(raw);
    else {
      const number = dtype === 'float16' ? numberFromHalfBits(raw) : raw;
      out[i] = Number.isFinite(number) ? number : String(number);
    }
  }
  return out;
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
