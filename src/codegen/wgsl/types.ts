/**
 * The WGSL type map: compute types, how each storage dtype is read from and written to the one `mem`
 * buffer (an array<u32> mirroring the wasm module's linear memory), and constant literals. WGSL has no
 * 64-bit integers: an i64 is a vec2<u32> (low word, high word), stored as two little-endian words like
 * wasm's i64, and computed on by the i64_* helpers (helpers.ts). Nor has it f64: a float64 tensor keeps its
 * 8-byte layout, read rounded to f32 and written widened back (demoteF64 has moved its math to f32).
 */
import type { DType } from '../../ir/dtype.js';
import type { Scalar } from '../../kernels/ir.js';

/** Thrown for IR the webgpu target cannot compile yet; renderKernel adds the kernel's name. */
export class WgslUnsupported extends Error {}

const SUPPORTED_NOTE =
  '(the webgpu target supports float32, float64 computed in f32, int64/uint64, int32 and narrower types so far)';

export function unsupported(what: string): WgslUnsupported {
  return new WgslUnsupported(`${what} ${SUPPORTED_NOTE}`);
}

export type WgslScalar = 'f32' | 'i32' | 'i64';

export function wgslType(t: Scalar): WgslScalar {
  if (t === 'f32' || t === 'i32' || t === 'i64') return t;
  throw unsupported(`${t} values are not supported`);
}

/** The WGSL type a compute type's values have. */
export const WGSL_TYPE_TEXT: Record<WgslScalar, string> = { f32: 'f32', i32: 'i32', i64: 'vec2<u32>' };

/**
 * How one dtype lives in `mem`. Word-sized types are a bitcast of one array element; narrower ones are
 * bits of their containing word, read and written by helper functions that take a byte address; 64-bit
 * ones are two consecutive words, read and written by helper functions that take the first word's index.
 */
export type Storage =
  { bytes: 4; word: 'f32' | 'i32' } | { bytes: 1 | 2 | 8; load: string; store: string; t: WgslScalar };

const STORAGE: Partial<Record<DType, Storage>> = {
  float32: { bytes: 4, word: 'f32' },
  int32: { bytes: 4, word: 'i32' },
  uint32: { bytes: 4, word: 'i32' },
  int8: { bytes: 1, load: 'ld_i8', store: 'st_8', t: 'i32' },
  uint8: { bytes: 1, load: 'ld_u8', store: 'st_8', t: 'i32' },
  bool: { bytes: 1, load: 'ld_u8', store: 'st_8', t: 'i32' },
  int16: { bytes: 2, load: 'ld_i16', store: 'st_16', t: 'i32' },
  uint16: { bytes: 2, load: 'ld_u16', store: 'st_16', t: 'i32' },
  float16: { bytes: 2, load: 'ld_f16', store: 'st_f16', t: 'f32' },
  int64: { bytes: 8, load: 'ld_i64', store: 'st_i64', t: 'i64' },
  uint64: { bytes: 8, load: 'ld_i64', store: 'st_i64', t: 'i64' },
  float64: { bytes: 8, load: 'ld_f64', store: 'st_f64', t: 'f32' },
};

export function storageOf(dtype: DType, what: string): Storage {
  const st = STORAGE[dtype];
  if (!st) throw unsupported(`${what} is a ${dtype} buffer, which is not supported`);
  return st;
}

/** The compute type of a storage dtype. */
export function computeType(st: Storage): WgslScalar {
  return 'word' in st ? st.word : st.t;
}

/** Non-finite and signed-zero constants go through a function call: WGSL rejects them in constant expressions. */
function f32Literal(x: number): string {
  if (!Number.isFinite(x) || Object.is(x, -0)) {
    const bits = new Uint32Array(Float32Array.of(x).buffer)[0];
    return `f32_bits(0x${bits.toString(16)}u)`;
  }
  // the shortest decimal that reads back as this f32 exactly (String gives it for the rounded double)
  const text = String(x);
  return x < 0 ? `(${text}f)` : `${text}f`;
}

function i32Literal(x: number): string {
  if (x === -2147483648) return '(-2147483647i - 1i)';
  return x < 0 ? `(${x}i)` : `${x}i`;
}

/** (low word, high word) of the two's complement of `n` */
function i64Literal(n: bigint): string {
  const bits = BigInt.asUintN(64, n);
  const word = (w: bigint) => `0x${w.toString(16)}u`;
  return `vec2<u32>(${word(bits & 0xffffffffn)}, ${word(bits >> 32n)})`;
}

export function constText(t: Scalar, v: number | bigint): string {
  const type = wgslType(t);
  if (type === 'f32') return f32Literal(Math.fround(Number(v)));
  const n = typeof v === 'bigint' ? v : Number.isFinite(v) ? BigInt(Math.trunc(v)) : undefined;
  if (n === undefined) throw new Error(`${type} constant ${v} is not a finite number`);
  return type === 'i64' ? i64Literal(n) : i32Literal(Number(BigInt.asIntN(32, n)));
}
