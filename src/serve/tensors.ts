/**
 * Tensor data as the protocol carries it ⇄ the runtime's typed arrays. JSON data may be nested
 * arrays (flattened row-major); binary data is little-endian, row-major, one byte per BOOL.
 * Non-finite floats travel in JSON as the strings "NaN", "Infinity" and "-Infinity".
 */
import { ELEMENT_ARRAY, elementBytes, type ElementArray, type NumericDType } from '../bundle/elements.js';
import { numberFromHalfBits } from '../runtime/element-values.js';
import { badRequest } from './http-error.js';

/** Nested arrays flattened row-major; anything but arrays and scalars is refused. */
export function flattenData(where: string, data: unknown): unknown[] {
  if (!Array.isArray(data)) throw badRequest(`${where}: "data" must be an array, got ${typeName(data)}`);
  if (!data.some(Array.isArray)) return data; // already flat, as most clients send it: no copy
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

/**
 * Raw little-endian bytes (wasm hosts are little-endian) as the runtime's typed array: a view of them
 * when they sit aligned for it, since the runtime copies feeds into the model's memory anyway; else an
 * aligned copy. BOOL is always copied: any non-zero byte means true, stored as the 1 the kernels expect.
 */
export function typedFromBytes(dtype: NumericDType, bytes: Uint8Array): ElementArray {
  const size = elementBytes(dtype);
  if (dtype !== 'bool' && bytes.byteOffset % size === 0)
    return new ELEMENT_ARRAY[dtype](bytes.buffer, bytes.byteOffset, bytes.byteLength / size);
  const copy = bytes.slice();
  if (dtype === 'bool') for (let i = 0; i < copy.length; i++) copy[i] = copy[i] ? 1 : 0;
  return new ELEMENT_ARRAY[dtype](copy.buffer, 0, copy.byteLength / size);
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
