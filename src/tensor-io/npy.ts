/**
 * NumPy .npy files: read format versions 1.0, 2.0 and 3.0, write 1.0. Only little-endian, C-order data.
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { DTYPES, type DType } from '../ir/dtype.js';
import { sizeOf, tensorBytes, type HostTensor } from '../ir/tensor.js';
import { MAX_TENSOR_BYTES } from '../frontend/onnx/index.js';
import { parseNpyHeader } from './npy-header.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** dtype by descr; one-byte types carry no byte order, so NumPy writes '|' (and some writers '<'). */
const DTYPE_BY_DESCR = new Map<string, Exclude<DType, 'string'>>();
for (const [dtype, info] of Object.entries(DTYPES) as [
  Exclude<DType, 'string'>,
  (typeof DTYPES)['float32'],
][]) {
  DTYPE_BY_DESCR.set(info.npy, dtype);
  if (info.bytes === 1) DTYPE_BY_DESCR.set(`<${info.npy.slice(1)}`, dtype);
}

export function readNpy(bytes: Uint8Array): HostTensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    throw new Error('not a .npy file: bad magic bytes');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error('.npy file is truncated in its header');
    headerStart = 12;
    headerLen = view.getUint32(8, true);
  } else
    throw new Error(`unsupported .npy format version ${major}.${bytes[7]} (1.0, 2.0 and 3.0 are supported)`);
  if (headerStart + headerLen > bytes.length) throw new Error('.npy file is truncated in its header');
  // Versions 1 and 2 use latin-1 headers, version 3 utf-8; the keys and values read here are ASCII either way.
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, headerStart + headerLen),
  );
  const header = parseNpyHeader(text);

  const descr = header.descr;
  if (descr.startsWith('>'))
    throw new Error(`.npy dtype '${descr}' is big-endian; only little-endian data is supported`);
  const dtype = DTYPE_BY_DESCR.get(descr);
  if (!dtype)
    throw new Error(
      `unsupported .npy dtype '${descr}' (supported: ${[...new Set(Object.values(DTYPES).map((d) => d.npy))].join(', ')})`,
    );
  if (header.fortranOrder)
    throw new Error('.npy file is in Fortran (column-major) order; only C order is supported');
  const dims = header.shape;
  const elemBytes = DTYPES[dtype].bytes;
  const count = sizeOf(dims);
  if (count * elemBytes > MAX_TENSOR_BYTES)
    throw new Error(`.npy shape (${dims.join(', ')}) is larger than the ${MAX_TENSOR_BYTES} bytes supported`);
  const dataStart = headerStart + headerLen;
  const available = bytes.length - dataStart;
  if (available !== count * elemBytes)
    throw new Error(
      `.npy shape (${dims.join(', ')}) of ${descr} needs ${count * elemBytes} data bytes, the file has ${available}`,
    );
  const data = new DTYPES[dtype].array(count);
  new Uint8Array(data.buffer).set(bytes.subarray(dataStart));
  return { dtype, dims: [...dims], data };
}

export function writeNpy(t: HostTensor): Uint8Array {
  if (t.dtype === 'string') throw new Error('.npy output of string tensors is not supported');
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${DTYPES[t.dtype].npy}', 'fortran_order': False, 'shape': ${shape}, }`;
  // NumPy pads the header with spaces and a newline so the data starts 64-byte aligned.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  if (header.length > 0xffff) throw new Error(`.npy header for shape ${shape} is too long for format 1.0`);
  const data = tensorBytes(t);
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, total);
  return out;
}
