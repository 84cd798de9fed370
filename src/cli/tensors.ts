/** Conversions between the runtime's tensors and what the CLI reads, prints and writes. */
import type { HostTensor } from '../ir/tensor.js';
import type { Feed, Tensor, TensorInfo } from '../runtime/index.js';
import { ELEMENT_ARRAY, elementCount } from '../bundle/elements.js';
import { halfToFloat } from '../ir/float16.js';
import { upperBounds } from '../bundle/shape-dims.js';
import type { Manifest } from '../bundle/manifest.js';

/** An output file name: every character outside A-Z a-z 0-9 . _ - becomes '_' (DESIGN.md §3.3). */
export function outputFileName(outputName: string): string {
  return `${outputName.replace(/[^A-Za-z0-9._-]/g, '_')}.npy`;
}

export function feedFromHostTensor(inputName: string, file: string, t: HostTensor): Feed {
  if (t.dtype === 'string')
    throw new Error(`input "${inputName}" from ${file}: string tensors are not supported`);
  return { dtype: t.dtype, dims: t.dims, data: t.data as Feed['data'] };
}

export function hostTensorFromOutput(t: Tensor): HostTensor {
  return { dtype: t.dtype, dims: t.dims, data: t.data };
}

/** Elements as JS numbers for JSON and previews: float16 bits decoded, 64-bit integers converted. */
export function tensorNumbers(t: Tensor): number[] {
  const out = new Array<number>(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    out[i] = t.dtype === 'float16' ? halfToFloat(v as number) : Number(v);
  }
  return out;
}

/**
 * Deterministic pseudo-random data for an input (bench without --input): floats in [-1, 1),
 * integers in [0, 4) so index-like inputs stay in range — fewer where the manifest checks the input's
 * values as indices of a smaller range (`indexChecks`: a token-type table of 2 rows) —, booleans 0/1.
 */
export function randomFeed(info: TensorInfo, seed: number, manifest?: Pick<Manifest, 'indexChecks'>): Feed {
  const next = mulberry32(seed);
  const dims = upperBounds(info.shape);
  const count = elementCount(dims);
  const data = new ELEMENT_ARRAY[info.dtype](count);
  const indexBounds = (manifest?.indexChecks ?? [])
    .filter((c) => c.input === info.name)
    .flatMap((c) => c.bounds);
  const ints = Math.max(1, Math.min(4, ...indexBounds.map((b) => b.max + 1)));
  for (let i = 0; i < count; i++) {
    const r = next();
    if (data instanceof BigInt64Array || data instanceof BigUint64Array)
      data[i] = BigInt(Math.floor(r * ints));
    else if (info.dtype === 'float32' || info.dtype === 'float64') data[i] = r * 2 - 1;
    else if (info.dtype === 'float16') data[i] = randomHalfBits(r);
    else if (info.dtype === 'bool') data[i] = r < 0.5 ? 0 : 1;
    else data[i] = Math.floor(r * ints);
  }
  return { dtype: info.dtype, dims, data };
}

/** Random sign and mantissa with exponent 10..14, so magnitudes lie in [2^-5, 2). */
function randomHalfBits(r: number): number {
  const bits = Math.floor(r * 0x10000);
  return (bits & 0x8000) | ((10 + (((bits >> 10) & 0x1f) % 5)) << 10) | (bits & 0x3ff);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
