/**
 * Tensor data as the protocol carries it ⇄ the runtime's typed arrays. JSON data may be nested
 * arrays (flattened row-major); binary data is little-endian, row-major, one byte per BOOL.
 * Non-finite floats travel in JSON as the strings "NaN", "Infinity" and "-Infinity".
 */
import { ELEMENT_ARRAY, elementBytes, type ElementArray, type NumericDType } from '../bundle/elements.js';
import { numberFromHalfBits } from '../runtime/element-values.js';
import { badRequest } from './http-error.js';

/**
 * How deep JSON `data` may nest arrays: well-formed nested data goes as deep as the tensor's rank, and
 * ONNX models stay far below this.
 */
export const MAX_DATA_DEPTH = 64;

/**
 * Nested arrays flattened row-major, walked with an explicit stack so that no nesting can exhaust the
 * call stack; nesting deeper than MAX_DATA_DEPTH is refused. Elements that are not arrays are kept
 * as they are, for typedFromValues to check.
 */
export function flattenData(where: string, data: unknown): unknown[] {
  if (!Array.isArray(data)) throw badRequest(`${where}: "data" must be an array, got ${typeName(data)}`);
  if (!data.some(Array.isArray)) return data; // already flat, as most clients send it: no copy
  const flat: unknown[] = [];
  const stack: { items: unknown[]; next: number }[] = [{ items: data, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next === top.items.length) {
      stack.pop();
      continue;
    }
    const item = top.items[top.next++];
    if (!Array.isArray(item)) flat.push(item);
    else if (stack.length === MAX_DATA_DEPTH)
      throw badRequest(`${where}: "data" nests arrays more than ${MAX_DATA_DEPTH} deep`);
    else stack.push({ items: item, next: 0 });
  }
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

/**
 * A value from a request, for an error message: its JSON when that is a scalar or a short flat array,
 * cut at 80 characters; else its kind ("nothing" when absent). Never walks nested values, so no request can make a message
 * overflow the stack or run long.
 */
export function quoted(value: unknown): string {
  const flat = Array.isArray(value)
    ? value.length <= 16 && !value.some((v) => typeof v === 'object' && v !== null)
    : typeof value !== 'object' || value === null;
  const json = flat ? JSON.stringify(value) : undefined;
  if (json === undefined) return value === undefined ? 'nothing' : typeName(value);
  return json.length <= 80 ? json : `${json.slice(0, 79)}…`;
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
