/** Data tables for the wasm backend: how each storage dtype is loaded/stored and how constants are written. */
import type { DType } from '../../ir/dtype.js';
import type { Scalar } from '../../kernels/ir.js';

/** wasm value type of each Kernel IR scalar (they coincide; kept as a table so the mapping is explicit). */
export const WASM_TYPE: Record<Scalar, string> = { f32: 'f32', f64: 'f64', i32: 'i32', i64: 'i64' };

interface Storage {
  bytes: number;
  /** instruction that loads one element as its compute type, or a helper call */
  load: string;
  /** instruction that stores one compute-typed value */
  store: string;
  /** helper converting the compute value to its stored form (float16 only) */
  encode?: string;
  /** helper converting the loaded raw value to the compute value (float16 only) */
  decode?: string;
}

const STORAGE: Record<Exclude<DType, 'string'>, Storage> = {
  float32: { bytes: 4, load: 'f32.load', store: 'f32.store' },
  float64: { bytes: 8, load: 'f64.load', store: 'f64.store' },
  int32: { bytes: 4, load: 'i32.load', store: 'i32.store' },
  uint32: { bytes: 4, load: 'i32.load', store: 'i32.store' },
  int64: { bytes: 8, load: 'i64.load', store: 'i64.store' },
  uint64: { bytes: 8, load: 'i64.load', store: 'i64.store' },
  int8: { bytes: 1, load: 'i32.load8_s', store: 'i32.store8' },
  uint8: { bytes: 1, load: 'i32.load8_u', store: 'i32.store8' },
  bool: { bytes: 1, load: 'i32.load8_u', store: 'i32.store8' },
  int16: { bytes: 2, load: 'i32.load16_s', store: 'i32.store16' },
  uint16: { bytes: 2, load: 'i32.load16_u', store: 'i32.store16' },
  float16: {
    bytes: 2,
    load: 'i32.load16_u',
    store: 'i32.store16',
    decode: 'f16_to_f32',
    encode: 'f32_to_f16',
  },
};

export function storageOf(dtype: DType, what: string): Storage {
  if (dtype === 'string')
    throw new Error(`wasm codegen: ${what} is a string buffer; strings cannot be computed on`);
  return STORAGE[dtype];
}

/** A float literal the WAT parser reads back bit-exactly (shortest round-trip decimal, -0, inf, nan). */
function floatLiteral(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

export function constText(t: Scalar, v: number | bigint): string {
  const int = (): bigint => {
    if (typeof v === 'bigint') return v;
    if (!Number.isFinite(v)) throw new Error(`wasm codegen: ${t} constant ${v} is not a finite number`);
    return BigInt(Math.trunc(v));
  };
  switch (t) {
    case 'f32':
      return `(f32.const ${floatLiteral(Math.fround(Number(v)))})`;
    case 'f64':
      return `(f64.const ${floatLiteral(Number(v))})`;
    case 'i32':
      return `(i32.const ${Number(BigInt.asIntN(32, int()))})`;
    case 'i64':
      return `(i64.const ${BigInt.asIntN(64, int())})`;
  }
}
