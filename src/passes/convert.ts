/** Convert host tensors between dtypes (for --const values and fold bookkeeping); not a hot path. */
import { allocTensor, type HostTensor } from '../ir/tensor.js';
import type { DType, TypedArray } from '../ir/dtype.js';

export function convertTensor(t: HostTensor, dtype: DType): HostTensor {
  if (t.dtype === dtype) return t;
  if (dtype === 'string' || t.dtype === 'string') throw new Error(`cannot convert ${t.dtype} to ${dtype}`);
  if (dtype === 'float16') throw new Error('constant values cannot be given for float16 inputs');
  const out = allocTensor(dtype, [...t.dims]);
  const src = t.data as TypedArray;
  const dst = out.data as TypedArray;
  const big = dst instanceof BigInt64Array || dst instanceof BigUint64Array;
  for (let i = 0; i < src.length; i++) {
    const x = Number(src[i]);
    if (big) dst[i] = BigInt(Math.trunc(x));
    else if (dtype === 'bool') dst[i] = x !== 0 ? 1 : 0;
    else dst[i] = x;
  }
  return out;
}
