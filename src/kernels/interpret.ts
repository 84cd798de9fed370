/**
 * The Kernel IR's runnable spec: a slow, strict interpreter. Every load and store is bounds-checked, so
 * a lowering that could touch memory outside a buffer fails loudly here instead of silently corrupting
 * the arena; float32 results are rounded after every operation, as the code generators compute them.
 * Tests run op lowerings and code-generator cases against it.
 */
import { DTYPES, type TypedArray } from '../ir/dtype.js';
import { floatToHalf, halfToFloat } from '../ir/float16.js';
import type {
  Activation,
  BinOp,
  BufRef,
  CmpOp,
  Expr,
  GemmStmt,
  Kernel,
  MatView,
  Scalar,
  Stmt,
  UnOp,
} from './ir.js';
import { EPILOGUE_INPUT, scalarOf } from './ir.js';
import { int8Gemm } from './int8-gemm.js';
import { panelIndex } from './b-panels.js';

type Val = number | bigint;

/** Buffers by id, created zero-filled on first use. */
export class Memory {
  readonly bufs = new Map<number, TypedArray>();
  get(buf: BufRef): TypedArray {
    let a = this.bufs.get(buf.id);
    if (!a) {
      if (buf.dtype === 'string') throw new Error(`buffer #${buf.id} is a string buffer`);
      a = new DTYPES[buf.dtype].array(buf.length);
      this.bufs.set(buf.id, a);
    }
    if (a.length !== buf.length)
      throw new Error(`buffer #${buf.id}: length ${a.length} vs ref ${buf.length}`);
    return a;
  }
}

const wrapI32 = (x: number) => x | 0;
const wrapI64 = (x: bigint) => BigInt.asIntN(64, x);
const u64 = (x: bigint) => BigInt.asUintN(64, x);

function checkIndex(buf: BufRef, a: TypedArray, i: number, what: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= a.length)
    throw new Error(`out-of-bounds ${what}: buffer #${buf.id} (${buf.dtype}[${a.length}]) index ${i}`);
}

function loadValue(buf: BufRef, a: TypedArray, i: number): Val {
  checkIndex(buf, a, i, 'load');
  const x = a[i];
  switch (buf.dtype) {
    case 'float16':
      return halfToFloat(x as number);
    case 'float32':
    case 'float64':
      return x as number;
    case 'uint64':
      return BigInt.asIntN(64, x as bigint);
    case 'int64':
      return x as bigint;
    default:
      return wrapI32(x as number);
  }
}

function storeValue(buf: BufRef, a: TypedArray, i: number, x: Val): void {
  checkIndex(buf, a, i, 'store');
  switch (buf.dtype) {
    case 'float16':
      a[i] = floatToHalf(x as number);
      return;
    case 'int64':
    case 'uint64':
      (a as BigInt64Array)[i] = x as bigint;
      return;
    default:
      (a as Float64Array)[i] = x as number;
  }
}

function truncSat(x: number, lo: number, hi: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.min(hi, Math.max(lo, Math.trunc(x)));
}

/** erf by its everywhere-positive series e^{-x²}·Σ 2^n x^{2n+1} / (1·3···(2n+1)), good to ~1e-15. */
function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 400 && term > sum * 1e-18; n++) {
    term *= (2 * ax * ax) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum);
}

/** C99's pow, which differs from JavaScript's only where C defines 1: pow(1, y) and pow(-1, ±∞). */
export const powC = (x: number, y: number): number =>
  x === 1 || (x === -1 && Math.abs(y) === Infinity) ? 1 : Math.pow(x, y);

/** The transcendental functions, in double precision (C99 semantics): what the math libraries approximate. */
export const FLOAT_MATH = {
  exp: Math.exp,
  log: Math.log,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
  erf,
} satisfies Partial<Record<UnOp, (x: number) => number>>;

const FLOAT_UN: Partial<Record<UnOp, (x: number) => number>> = {
  neg: (x) => -x,
  abs: Math.abs,
  sqrt: Math.sqrt,
  floor: Math.floor,
  ceil: Math.ceil,
  trunc: Math.trunc,
  nearest: (x) => {
    if (!Number.isFinite(x)) return x;
    const f = Math.floor(x);
    const d = x - f;
    const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
    return r === 0 ? (Object.is(x, -0) || x < 0 ? -0 : 0) : r;
  },
  ...FLOAT_MATH,
  isnan: (x) => (Number.isNaN(x) ? 1 : 0),
  isinf_pos: (x) => (x === Infinity ? 1 : 0),
  isinf_neg: (x) => (x === -Infinity ? 1 : 0),
};

function unop(op: UnOp, t: Scalar, a: Val): Val {
  if (t === 'i64') {
    const x = a as bigint;
    if (op === 'neg') return wrapI64(-x);
    if (op === 'abs') return wrapI64(x < 0n ? -x : x);
    if (op === 'not') return ~x;
    throw new Error(`${op} of i64`);
  }
  if (t === 'i32') {
    const x = a as number;
    if (op === 'neg') return wrapI32(-x);
    if (op === 'abs') return wrapI32(Math.abs(x));
    if (op === 'not') return ~x;
    throw new Error(`${op} of i32`);
  }
  const f = FLOAT_UN[op];
  if (!f) throw new Error(`${op} of ${t}`);
  const r = f(a as number);
  return t === 'f32' && !op.startsWith('is') ? Math.fround(r) : r;
}

function binI64(op: BinOp, x: bigint, y: bigint): bigint {
  switch (op) {
    case 'add':
      return wrapI64(x + y);
    case 'sub':
      return wrapI64(x - y);
    case 'mul':
      return wrapI64(x * y);
    case 'div':
      if (y === 0n) throw new Error('i64 division by zero');
      return wrapI64(x / y);
    case 'rem':
      if (y === 0n) throw new Error('i64 remainder by zero');
      return x % y;
    case 'div_u':
      if (y === 0n) throw new Error('i64 division by zero');
      return wrapI64(u64(x) / u64(y));
    case 'rem_u':
      if (y === 0n) throw new Error('i64 remainder by zero');
      return wrapI64(u64(x) % u64(y));
    case 'min':
      return x < y ? x : y;
    case 'max':
      return x > y ? x : y;
    case 'and':
      return x & y;
    case 'or':
      return x | y;
    case 'xor':
      return x ^ y;
    case 'shl':
      return wrapI64(x << (u64(y) & 63n));
    case 'shr_s':
      return x >> (u64(y) & 63n);
    case 'shr_u':
      return wrapI64(u64(x) >> (u64(y) & 63n));
  }
  throw new Error(`${op} of i64`);
}

function binI32(op: BinOp, x: number, y: number): number {
  switch (op) {
    case 'add':
      return wrapI32(x + y);
    case 'sub':
      return wrapI32(x - y);
    case 'mul':
      return Math.imul(x, y);
    case 'div':
      if (y === 0) throw new Error('i32 division by zero');
      return wrapI32(Math.trunc(x / y));
    case 'rem':
      if (y === 0) throw new Error('i32 remainder by zero');
      return wrapI32(x % y);
    case 'div_u':
      if (y === 0) throw new Error('i32 division by zero');
      return wrapI32(Math.trunc((x >>> 0) / (y >>> 0)));
    case 'rem_u':
      if (y === 0) throw new Error('i32 remainder by zero');
      return wrapI32((x >>> 0) % (y >>> 0));
    case 'min':
      return Math.min(x, y);
    case 'max':
      return Math.max(x, y);
    case 'and':
      return x & y;
    case 'or':
      return x | y;
    case 'xor':
      return x ^ y;
    case 'shl':
      return x << y;
    case 'shr_s':
      return x >> y;
    case 'shr_u':
      return wrapI32(x >>> y);
  }
  throw new Error(`${op} of i32`);
}

function binFloat(op: BinOp, t: Scalar, x: number, y: number): number {
  const r = (v: number) => (t === 'f32' ? Math.fround(v) : v);
  switch (op) {
    case 'add':
      return r(x + y);
    case 'sub':
      return r(x - y);
    case 'mul':
      return r(x * y);
    case 'div':
      return r(x / y);
    case 'rem':
      return r(x % y);
    case 'min':
      return Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y);
    case 'max':
      return Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y);
    case 'pow':
      return r(powC(x, y));
    case 'atan2':
      return r(Math.atan2(x, y));
  }
  throw new Error(`${op} of ${t}`);
}

function cmpop(op: CmpOp, t: Scalar, a: Val, b: Val): number {
  if (op.endsWith('_u')) {
    const [x, y] =
      t === 'i64' ? [u64(a as bigint), u64(b as bigint)] : [(a as number) >>> 0, (b as number) >>> 0];
    if (op === 'lt_u') return x < y ? 1 : 0;
    if (op === 'le_u') return x <= y ? 1 : 0;
    if (op === 'gt_u') return x > y ? 1 : 0;
    return x >= y ? 1 : 0;
  }
  switch (op) {
    case 'eq':
      return a === b ? 1 : 0;
    case 'ne':
      return a !== b ? 1 : 0;
    case 'lt':
      return a < b ? 1 : 0;
    case 'le':
      return a <= b ? 1 : 0;
    case 'gt':
      return a > b ? 1 : 0;
    default:
      return a >= b ? 1 : 0;
  }
}

function castTo(t: Scalar, from: Scalar, a: Val, unsigned: boolean): Val {
  let n: number | bigint = a;
  if (unsigned && from === 'i32') n = (a as number) >>> 0;
  if (unsigned && from === 'i64') n = u64(a as bigint);
  switch (t) {
    case 'f32':
      return Math.fround(Number(n));
    case 'f64':
      return Number(n);
    case 'i32':
      return typeof n === 'bigint' ? Number(BigInt.asIntN(32, n)) : truncSat(n, -(2 ** 31), 2 ** 31 - 1);
    case 'i64':
      return typeof n === 'bigint' ? wrapI64(n) : BigInt(truncSat(n, -(2 ** 63), 2 ** 63 - 1024));
  }
}

/** Shape symbols' values by name (what the runtime writes into the dims block). */
export type DimValues = Readonly<Record<string, number>>;

function evalExpr(e: Expr, env: Map<string, Val>, mem: Memory, dims: DimValues): Val {
  switch (e.k) {
    case 'const':
      return e.t === 'i64' ? BigInt(e.v) : e.t === 'f32' ? Math.fround(Number(e.v)) : Number(e.v);
    case 'var': {
      const x = env.get(e.name);
      if (x === undefined) throw new Error(`variable '${e.name}' has no value`);
      return x;
    }
    case 'dim': {
      const x = dims[e.name];
      if (x === undefined) throw new Error(`shape symbol '${e.name}' has no value`);
      return x;
    }
    case 'load':
      return loadValue(e.buf, mem.get(e.buf), evalExpr(e.index, env, mem, dims) as number);
    case 'bin': {
      const a = evalExpr(e.a, env, mem, dims);
      const b = evalExpr(e.b, env, mem, dims);
      if (e.t === 'i64') return binI64(e.op, a as bigint, b as bigint);
      if (e.t === 'i32') return binI32(e.op, a as number, b as number);
      return binFloat(e.op, e.t, a as number, b as number);
    }
    case 'cmp':
      return cmpop(e.op, e.a.t, evalExpr(e.a, env, mem, dims), evalExpr(e.b, env, mem, dims));
    case 'un':
      return unop(e.op, e.a.t, evalExpr(e.a, env, mem, dims));
    case 'cast':
      return castTo(e.t, e.a.t, evalExpr(e.a, env, mem, dims), e.unsigned ?? false);
    case 'select': {
      const c = evalExpr(e.cond, env, mem, dims);
      const a = evalExpr(e.a, env, mem, dims);
      const b = evalExpr(e.b, env, mem, dims);
      return c ? a : b;
    }
  }
}

/** A gemm's activation applied to one float32 value. */
export function activateValue(act: Activation | undefined, value: number): number {
  const f = Math.fround;
  if (act?.op === 'relu') return Math.max(value, 0);
  if (act?.op === 'clip') return Math.min(Math.max(value, f(act.min)), f(act.max));
  if (act?.op === 'map')
    return evalExpr(act.value, new Map([[EPILOGUE_INPUT, value]]), new Memory(), {}) as number;
  return value;
}

/** C = act(alpha·A·B + beta·bias + residual), accumulating k = 0..K-1 in float32 as the code generators do. */
function runGemm(g: GemmStmt, env: Map<string, Val>, mem: Memory, dims: DimValues): void {
  const f = Math.fround;
  const rowStride = (view: MatView) =>
    typeof view.rs === 'number' ? view.rs : (evalExpr(view.rs, env, mem, dims) as number);
  const bind = (view: MatView) => {
    const data = mem.get(view.buf);
    const off = evalExpr(view.offset, env, mem, dims) as number;
    const rs = rowStride(view);
    return (r: number, c: number) => loadValue(view.buf, data, off + r * rs + c * view.cs) as number;
  };
  const activate = (value: number) => activateValue(g.act, value);
  const packed = (view: MatView) => {
    const data = mem.get(view.buf);
    const off = evalExpr(view.offset, env, mem, dims) as number;
    return (r: number, c: number) => loadValue(view.buf, data, off + panelIndex(g.K, g.N, r, c)) as number;
  };
  const [a, b] = [bind(g.a), g.packedB ? packed(g.b) : bind(g.b)];
  const bias = g.bias ? bind(g.bias) : undefined;
  const residual = g.residual && bind(g.residual);
  const cData = mem.get(g.c.buf);
  const cOff = evalExpr(g.c.offset, env, mem, dims) as number;
  const cRs = rowStride(g.c);
  if (g.int8) {
    const scales = bind(g.int8.scales);
    const write = (m: number, n: number, value: number) =>
      storeValue(g.c.buf, cData, cOff + m * cRs + n * g.c.cs, value);
    return int8Gemm(g, { a, b, bias, scales, activate }, write);
  }
  for (let m = 0; m < g.M; m++)
    for (let n = 0; n < g.N; n++) {
      let acc = 0;
      for (let k = 0; k < g.K; k++) acc = f(acc + f(a(m, k) * b(k, n)));
      let value = g.alpha === 1 ? acc : f(acc * f(g.alpha));
      if (bias) value = f(value + (g.beta === 1 ? bias(m, n) : f(bias(m, n) * f(g.beta))));
      if (residual) value = f(value + residual(m, n));
      storeValue(g.c.buf, cData, cOff + m * cRs + n * g.c.cs, activate(value));
    }
}

function execBlock(stmts: Stmt[], env: Map<string, Val>, mem: Memory, dims: DimValues, kernel: string): void {
  for (const s of stmts) {
    switch (s.k) {
      case 'loop': {
        const n = typeof s.n === 'number' ? s.n : (evalExpr(s.n, env, mem, dims) as number);
        for (let i = 0; i < n; i++) {
          env.set(s.v, i);
          execBlock(s.body, env, mem, dims, kernel);
        }
        break;
      }
      case 'local':
        env.set(s.name, evalExpr(s.init, env, mem, dims));
        break;
      case 'set':
        if (!env.has(s.name)) throw new Error(`${kernel}: set of undeclared '${s.name}'`);
        env.set(s.name, evalExpr(s.value, env, mem, dims));
        break;
      case 'store': {
        if (s.value.t !== scalarOf(s.buf.dtype))
          throw new Error(`${kernel}: store of ${s.value.t} into ${s.buf.dtype}`);
        const index = evalExpr(s.index, env, mem, dims) as number;
        storeValue(s.buf, mem.get(s.buf), index, evalExpr(s.value, env, mem, dims));
        break;
      }
      case 'if':
        if (evalExpr(s.cond, env, mem, dims)) execBlock(s.then, env, mem, dims, kernel);
        else if (s.else) execBlock(s.else, env, mem, dims, kernel);
        break;
      case 'gemm':
        runGemm(s, env, mem, dims);
        break;
    }
  }
}

/** Run kernels in order over `mem`, `dims` giving the shape symbols' values. */
export function interpretKernels(kernels: Kernel[], mem: Memory, dims: DimValues = {}): void {
  for (const k of kernels) execBlock(k.body, new Map(), mem, dims, k.name);
}
