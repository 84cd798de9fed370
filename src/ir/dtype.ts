/** Tensor element types Kiln knows, named as in the runtime API (DESIGN.md §3.2). */
export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string';

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

interface DTypeInfo {
  /** ONNX TensorProto.DataType enum value */
  onnx: number;
  bytes: number;
  array: new (n: number) => TypedArray;
  /** NumPy dtype descr used by .npy files (little-endian) */
  npy: string;
}

export const DTYPES: Record<Exclude<DType, 'string'>, DTypeInfo> = {
  float32: { onnx: 1, bytes: 4, array: Float32Array, npy: '<f4' },
  uint8: { onnx: 2, bytes: 1, array: Uint8Array, npy: '|u1' },
  int8: { onnx: 3, bytes: 1, array: Int8Array, npy: '|i1' },
  uint16: { onnx: 4, bytes: 2, array: Uint16Array, npy: '<u2' },
  int16: { onnx: 5, bytes: 2, array: Int16Array, npy: '<i2' },
  int32: { onnx: 6, bytes: 4, array: Int32Array, npy: '<i4' },
  int64: { onnx: 7, bytes: 8, array: BigInt64Array, npy: '<i8' },
  bool: { onnx: 9, bytes: 1, array: Uint8Array, npy: '|b1' },
  float16: { onnx: 10, bytes: 2, array: Uint16Array, npy: '<f2' },
  float64: { onnx: 11, bytes: 8, array: Float64Array, npy: '<f8' },
  uint32: { onnx: 12, bytes: 4, array: Uint32Array, npy: '<u4' },
  uint64: { onnx: 13, bytes: 8, array: BigUint64Array, npy: '<u8' },
};

const ONNX_NAMES: Record<number, string> = {
  0: 'UNDEFINED',
  8: 'STRING',
  14: 'COMPLEX64',
  15: 'COMPLEX128',
  16: 'BFLOAT16',
  17: 'FLOAT8E4M3FN',
  18: 'FLOAT8E4M3FNUZ',
  19: 'FLOAT8E5M2',
  20: 'FLOAT8E5M2FNUZ',
  21: 'UINT4',
  22: 'INT4',
};

/** Map an ONNX TensorProto.DataType to a Kiln dtype; throws a clear error for types Kiln does not support. */
export function dtypeFromOnnx(code: number): DType {
  if (code === 8) return 'string';
  for (const [name, info] of Object.entries(DTYPES)) if (info.onnx === code) return name as DType;
  throw new Error(`unsupported ONNX tensor element type ${ONNX_NAMES[code] ?? code}`);
}

export function onnxFromDtype(dtype: DType): number {
  if (dtype === 'string') return 8;
  return DTYPES[dtype].onnx;
}

export function dtypeBytes(dtype: DType): number {
  if (dtype === 'string') throw new Error('string tensors have no fixed element size');
  return DTYPES[dtype].bytes;
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
}

export function isInteger(dtype: DType): boolean {
  return !isFloat(dtype) && dtype !== 'bool' && dtype !== 'string';
}

export function isSigned(dtype: DType): boolean {
  return dtype === 'int8' || dtype === 'int16' || dtype === 'int32' || dtype === 'int64' || isFloat(dtype);
}
