/** TensorProto → HostTensor: every ONNX data field, raw and external data, validated before allocating. */
import { DTYPES, dtypeFromOnnx, type DType, type TypedArray } from '../../ir/dtype.js';
import type { HostTensor } from '../../ir/tensor.js';
import { INVALID, invalid, q, fail } from './errors.js';
import { checkExternalLocation, type ReadExternal } from './external.js';
import { hasField, onnx, protoIntToBigInt, protoIntToNumber, type OnnxTypes } from './proto.js';

/** Largest tensor accepted (bytes): the wasm32 memory it must live in is at most 4 GiB. */
export const MAX_TENSOR_BYTES = 2 ** 31;

export interface TensorSource {
  /** reads external data; undefined when the caller gave no way to reach files */
  readExternal?: ReadExternal;
}

/** Validate ONNX dims (int64, possibly Long) as non-negative safe integers. */
export function dimsFromProto(raw: readonly (number | { toNumber(): number })[], what: string): number[] {
  return raw.map((d, i) => {
    const n = typeof d === 'number' ? d : d.toNumber();
    if (!Number.isSafeInteger(n) || n < 0)
      throw invalid(`${what}: dim ${i} is ${n}, expected a non-negative integer`);
    return n;
  });
}

/** Element count of `dims`, refusing anything whose data would exceed MAX_TENSOR_BYTES. */
function checkedCount(dims: number[], elemBytes: number, what: string): number {
  if (dims.includes(0)) return 0;
  let n = 1;
  for (const d of dims) {
    n *= d;
    if (n * elemBytes > MAX_TENSOR_BYTES)
      throw invalid(
        `${what}: shape [${dims.join(', ')}] is larger than the ${MAX_TENSOR_BYTES} bytes supported`,
      );
  }
  return n;
}

/** The typed data fields and the dtypes allowed to use each (ONNX onnx.proto comments). */
const FIELD_DTYPES: Record<string, readonly DType[]> = {
  floatData: ['float32'],
  int32Data: ['int32', 'int8', 'uint8', 'int16', 'uint16', 'bool', 'float16'],
  int64Data: ['int64'],
  doubleData: ['float64'],
  uint64Data: ['uint32', 'uint64'],
  stringData: ['string'],
};

const utf8 = new TextDecoder('utf-8');

export function tensorFromProto(tp: OnnxTypes.ITensorProto, what: string, src: TensorSource): HostTensor {
  const code = tp.dataType ?? 0;
  let dtype: DType;
  try {
    dtype = dtypeFromOnnx(code);
  } catch (e) {
    throw fail(`${what}: ${(e as Error).message}`);
  }
  if (tp.segment) throw fail(`${what}: segmented tensors (TensorProto.segment) are not supported`);
  const dims = dimsFromProto(tp.dims ?? [], what);
  const elemBytes = dtype === 'string' ? 1 : DTYPES[dtype].bytes;
  const count = checkedCount(dims, elemBytes, what);

  if (tp.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    if (dtype === 'string') throw invalid(`${what}: string tensors cannot use external data`);
    return {
      dtype,
      dims,
      data: fromBytes(dtype, readExternalData(tp, count * elemBytes, what, src), count, what),
    };
  }
  if (tp.dataLocation !== undefined && tp.dataLocation !== null && tp.dataLocation !== 0)
    throw invalid(`${what}: unknown data_location ${tp.dataLocation}`);

  const used = Object.keys(FIELD_DTYPES).filter(
    (f) => ((tp as Record<string, unknown[]>)[f]?.length ?? 0) > 0,
  );
  const hasRaw = hasField(tp, 'rawData') && tp.rawData !== null && tp.rawData !== undefined;
  if (used.length + (hasRaw ? 1 : 0) > 1)
    throw invalid(
      `${what}: data is given in several fields (${[...used, ...(hasRaw ? ['rawData'] : [])].join(', ')})`,
    );
  if (hasRaw) {
    if (dtype === 'string') throw invalid(`${what}: string tensors cannot use raw_data`);
    return { dtype, dims, data: fromBytes(dtype, tp.rawData!, count, what) };
  }
  if (used.length === 0) {
    if (count !== 0) throw invalid(`${what}: shape [${dims.join(', ')}] has ${count} elements but no data`);
    return { dtype, dims, data: dtype === 'string' ? [] : new DTYPES[dtype].array(0) };
  }
  const field = used[0];
  if (!FIELD_DTYPES[field].includes(dtype))
    throw invalid(`${what}: element type ${dtype} cannot be stored in ${field}`);
  const values = (tp as Record<string, unknown[]>)[field];
  if (values.length !== count)
    throw invalid(
      `${what}: shape [${dims.join(', ')}] has ${count} elements but ${field} holds ${values.length}`,
    );
  return { dtype, dims, data: fromField(dtype, values) };
}

/** Copy little-endian bytes into a fresh, aligned typed array (the source may be an unaligned view). */
function fromBytes(
  dtype: Exclude<DType, 'string'>,
  bytes: Uint8Array,
  count: number,
  what: string,
): TypedArray {
  const info = DTYPES[dtype];
  if (bytes.byteLength !== count * info.bytes)
    throw invalid(
      `${what}: ${count} elements of ${dtype} need ${count * info.bytes} bytes of data, found ${bytes.byteLength}`,
    );
  const out = new info.array(count);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function fromField(dtype: DType, values: unknown[]): TypedArray | string[] {
  if (dtype === 'string') return (values as Uint8Array[]).map((b) => utf8.decode(b));
  const out = new DTYPES[dtype].array(values.length);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    const unsigned = out instanceof BigUint64Array;
    values.forEach((v, i) => (out[i] = protoIntToBigInt(v as number, unsigned)));
  } else if (dtype === 'uint32') {
    values.forEach((v, i) => (out[i] = protoIntToNumber(v as number)));
  } else {
    // Assignment into the typed array wraps int32_data into int8/uint8/int16/uint16 (and float16 bits).
    (out as Exclude<TypedArray, BigInt64Array | BigUint64Array>).set(values as number[]);
  }
  return out;
}

function readExternalData(
  tp: OnnxTypes.ITensorProto,
  byteLength: number,
  what: string,
  src: TensorSource,
): Uint8Array {
  const entries = new Map<string, string>();
  for (const e of tp.externalData ?? []) entries.set(e.key ?? '', e.value ?? '');
  const location = entries.get('location');
  if (location === undefined) throw invalid(`${what}: external data without a 'location' entry`);
  checkExternalLocation(location, what);
  const offset = parseByteCount(entries.get('offset') ?? '0', 'offset', what);
  const length = entries.has('length') ? parseByteCount(entries.get('length')!, 'length', what) : undefined;
  if (length !== undefined && length !== byteLength)
    throw invalid(
      `${what}: external data length ${length} does not match the ${byteLength} bytes its shape needs`,
    );
  if (!src.readExternal)
    throw fail(
      `${what}: its data is in external file ${q(location)}, but no model directory (baseDir) was given`,
    );
  let bytes: Uint8Array;
  try {
    bytes = src.readExternal(location, offset, length ?? byteLength);
  } catch (e) {
    const msg = (e as Error).message;
    if (msg.startsWith(INVALID)) throw invalid(`${what}: ${msg.slice(INVALID.length)}`);
    throw fail(`${what}: cannot read external data ${q(location)}: ${msg}`);
  }
  return bytes;
}

function parseByteCount(s: string, key: string, what: string): number {
  const n = /^\d{1,16}$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`${what}: external data ${key} ${q(s)} is not a byte count`);
  return n;
}
