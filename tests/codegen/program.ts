/** Hand-built Programs for codegen tests: buffers placed like the memory planner does, typed contents. */
import { DTYPES, type DType, type TypedArray } from '../../src/ir/dtype.js';
import type { PlacedBuffer, Program, Stmt } from '../../src/kernels/ir.js';

export type NumDType = Exclude<DType, 'string'>;

/** Kernel results as loosely typed element lists (number or bigint per dtype), so tests compare them simply. */
export type Elements = ArrayLike<any>;

/** A typed array of the given dtype holding `values`. */
export function typed(dtype: NumDType, values: readonly (number | bigint)[]): TypedArray {
  const out = new DTYPES[dtype].array(values.length);
  values.forEach((x, i) => ((out as Elements as unknown[])[i] = x));
  return out;
}

/** Place buffers one after another, 16-byte aligned, starting past a guard region. */
export function place(specs: { dtype: NumDType; length: number }[]): PlacedBuffer[] {
  let offset = 64;
  return specs.map((s, id) => {
    const buf = { id, dtype: s.dtype, length: s.length, offset };
    offset += Math.ceil((s.length * DTYPES[s.dtype].bytes) / 16) * 16 + 16;
    return buf;
  });
}

export function programOf(bufs: PlacedBuffer[], run: Stmt[], init: Stmt[] = []): Program {
  const end = Math.max(64, ...bufs.map((b) => b.offset + b.length * DTYPES[b.dtype as NumDType].bytes));
  return {
    buffers: bufs,
    memoryBytes: end + 64,
    init: init.length ? [{ name: 'init-kernel', body: init }] : [],
    run: [{ name: 'test kernel', body: run }],
  };
}
