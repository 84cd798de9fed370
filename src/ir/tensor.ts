import { DTYPES, type DType, type TypedArray } from './dtype.js';

/** A tensor held in host memory: constants, initializers, runtime inputs and outputs. */
export interface HostTensor {
  dtype: DType;
  dims: number[];
  /** row-major, little-endian; `string[]` only for dtype 'string' */
  data: TypedArray | string[];
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function allocTensor(dtype: DType, dims: number[]): HostTensor {
  if (dtype === 'string') return { dtype, dims, data: new Array<string>(sizeOf(dims)).fill('') };
  return { dtype, dims, data: new DTYPES[dtype].array(sizeOf(dims)) };
}

/** Element i as a JS number (int64 converted; precision loss past 2^53 is acceptable for shapes/indices). */
export function elementAsNumber(t: HostTensor, i: number): number {
  const v = t.data[i];
  return typeof v === 'bigint' ? Number(v) : Number(v);
}

/** All elements as JS numbers — for small shape-like tensors (shapes, axes, pads, indices). */
export function tensorToNumbers(t: HostTensor): number[] {
  const out: number[] = [];
  for (let i = 0; i < t.data.length; i++) out.push(elementAsNumber(t, i));
  return out;
}

export function tensorBytes(t: HostTensor): Uint8Array {
  if (t.dtype === 'string') throw new Error('string tensors have no byte representation');
  const d = t.data as TypedArray;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Build a tensor of the given dtype from JS numbers (used for shape tensors and tests). */
export function tensorFromNumbers(dtype: DType, dims: number[], values: ArrayLike<number>): HostTensor {
  const t = allocTensor(dtype, dims);
  const data = t.data as TypedArray;
  for (let i = 0; i < values.length; i++) {
    if (data instanceof BigInt64Array || data instanceof BigUint64Array)
      data[i] = BigInt(Math.trunc(values[i]));
    else data[i] = values[i];
  }
  return t;
}
