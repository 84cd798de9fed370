/**
 * The Kernel IR's runnable spec: a slow, strict interpreter for testing op lowerings without the wasm
 * code generator. Every load and store is bounds-checked, so a lowering that could touch memory outside a buffer
 * fails loudly here instead of silently corrupting the arena.
 */
import type { BufRef, Expr, Kernel, Stmt } from '../../src/kernels/ir.js';
import { DTYPES, type TypedArray } from '../../src/ir/dtype.js';
import { floatToHalf, halfToFloat } from './float16.js';

type Val = number | bigint;

export class Memory {
  readonly bufs = new Map<number, TypedArray>();
  get(buf: BufRef): TypedArray {
    let a = this.bufs.get(buf.id);
    if (!a) {
      if (buf.dtype === 'string') throw new Error('string buffer');
      a = new DTYPES[buf.dtype].array(buf.length);
      this.bufs.set(buf.id, a);
    }
    if (a.length !== buf.length) throw new Error(`buffer ${buf.id}: length ${a.length} vs ref ${buf.length}`);
    return a;
  }
}

const wrapI32 = (x: number) => x | 0;
const wrapI64 = (x: bigint) => BigInt.asIntN(64, x);

function loadValue(buf: BufRef, a: TypedArray, i: number): Val {
  if (!Number.isInteger(i) || i < 0 || i >= a.length)
    throw new Error(`out-of-bounds load: buffer ${buf.id} (${buf.dtype}[${a.length}]) index ${i}`);
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
  if (!Number.isInteger(i) || i < 0 || i >= a.length)
    throw new Error(`out-of-bounds store: buffer ${buf.id} (${buf.dtype}[${a.length}]) index ${i}`);
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

export function evalExpr(e: Expr, env: Map<string, Val>, mem: Memory): Val {
  switch (e.k) {
    case 'const':
      return e.t === 'i64' ? BigInt(e.v) : e.t === 'f32' ? Math.fround(Number(e.v)) : Number(e.v);
    case 'var': {
      const x = env.get(e.name);
      if (x === undefined) throw new Error(`unknown var ${e.name}`);
      return x;
    }
    case 'load': {
      if (e.index.t !== 'i32') throw new Error('load index must be i32');
      return loadValue(e.buf, mem.get(e.buf), evalExpr(e.index, env, mem) as number);
    }
    case 'bin': {
      const a = evalExpr(e.a, env, mem);
      const b = evalExpr(e.b, env, mem);
      if (e.a.t !== e.t || e.b.t !== e.t) throw new Error(`bin ${e.op}: operand types`);
      return binop(e.op, e.t, a, b);
    }
    case 'cmp': {
      if (e.a.t !== e.b.t) throw new Error('cmp types');
      const a = evalExpr(e.a, env, mem);
      const b = evalExpr(e.b, env, mem);
      const ua = e.a.t === 'i64' ? BigInt.asUintN(64, a as bigint) : (a as number) >>> 0;
      const ub = e.a.t === 'i64' ? BigInt.asUintN(64, b as bigint) : (b as number) >>> 0;
      switch (e.op) {
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
        case 'ge':
          return a >= b ? 1 : 0;
        case 'lt_u':
          return ua < ub ? 1 : 0;
        case 'le_u':
          return ua <= ub ? 1 : 0;
        case 'gt_u':
          return ua > ub ? 1 : 0;
        case 'ge_u':
          return ua >= ub ? 1 : 0;
      }
      throw new Error('cmp op');
    }
    case 'un': {
      const a = evalExpr(e.a, env, mem);
      return unop(e.op, e.a.t, a);
    }
    case 'cast': {
      const a = evalExpr(e.a, env, mem);
      let n: number | bigint = a;
      if (e.unsigned && e.a.t === 'i32') n = (a as number) >>> 0;
      if (e.unsigned && e.a.t === 'i64') n = BigInt.asUintN(64, a as bigint);
      switch (e.t) {
        case 'f32':
          return Math.fround(Number(n));
        case 'f64':
          return Number(n);
        case 'i32':
          return typeof n === 'bigint' ? Number(BigInt.asIntN(32, n)) : truncSat(n, -(2 ** 31), 2 ** 31 - 1);
        case 'i64':
          return typeof n === 'bigint' ? n : BigInt(truncSat(n, -(2 ** 63), 2 ** 63 - 1024));
      }
      throw new Error('cast');
    }
    case 'select': {
      const c = evalExpr(e.cond, env, mem);
      const a = evalExpr(e.a, env, mem);
      const b = evalExpr(e.b, env, mem);
      return c ? a : b;
    }
  }
}

function binop(op: string, t: string, a: Val, b: Val): Val {
  if (t === 'i64') {
    const x = a as bigint;
    const y = b as bigint;
    switch (op) {
      case 'add':
        return wrapI64(x + y);
      case 'sub':
        return wrapI64(x - y);
      case 'mul':
        return wrapI64(x * y);
      case 'div':
        if (y === 0n) throw new Error('div by zero');
        return wrapI64(x / y);
      case 'rem':
        if (y === 0n) throw new Error('rem by zero');
        return x % y;
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
    }
    throw new Error(`i64 ${op}`);
  }
  if (t === 'i32') {
    const x = a as number;
    const y = b as number;
    switch (op) {
      case 'add':
        return wrapI32(x + y);
      case 'sub':
        return wrapI32(x - y);
      case 'mul':
        return Math.imul(x, y);
      case 'div':
        if (y === 0) throw new Error('div by zero');
        return wrapI32(Math.trunc(x / y));
      case 'rem':
        if (y === 0) throw new Error('rem by zero');
        return wrapI32(x % y);
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
    }
    throw new Error(`i32 ${op}`);
  }
  const x = a as number;
  const y = b as number;
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
    case 'min':
      return Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y);
    case 'max':
      return Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y);
    case 'rem':
      return r(x % y);
    case 'pow':
      return r(x ** y);
  }
  throw new Error(`float ${op}`);
}

function unop(op: string, t: string, a: Val): Val {
  if (t === 'i32' || t === 'i64') {
    switch (op) {
      case 'neg':
        return t === 'i64' ? wrapI64(-(a as bigint)) : wrapI32(-(a as number));
      case 'abs':
        return t === 'i64'
          ? wrapI64((a as bigint) < 0n ? -(a as bigint) : (a as bigint))
          : wrapI32(Math.abs(a as number));
      case 'not':
        return t === 'i64' ? ~(a as bigint) : ~(a as number);
    }
    throw new Error(`int un ${op}`);
  }
  const x = a as number;
  const r = (v: number) => (t === 'f32' ? Math.fround(v) : v);
  switch (op) {
    case 'neg':
      return -x;
    case 'abs':
      return Math.abs(x);
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'trunc':
      return Math.trunc(x);
    case 'sqrt':
      return r(Math.sqrt(x));
    case 'nearest': {
      const f = Math.floor(x);
      const d = x - f;
      return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
    }
    case 'isnan':
      return Number.isNaN(x) ? 1 : 0;
  }
  throw new Error(`float un ${op}`);
}

export function runKernels(kernels: Kernel[], mem: Memory): void {
  for (const k of kernels) {
    const env = new Map<string, Val>();
    const declared = new Set<string>();
    execBlock(k.body, env, mem, declared, k.name);
  }
}

function execBlock(
  stmts: Stmt[],
  env: Map<string, Val>,
  mem: Memory,
  declared: Set<string>,
  kname: string,
): void {
  for (const s of stmts) {
    switch (s.k) {
      case 'loop':
        if (!Number.isInteger(s.n) || s.n < 0) throw new Error(`${kname}: loop ${s.v} extent ${s.n}`);
        for (let i = 0; i < s.n; i++) {
          env.set(s.v, i);
          execBlock(s.body, env, mem, declared, kname);
        }
        break;
      case 'local':
        if (s.init.t !== s.t) throw new Error(`${kname}: local ${s.name} is ${s.t} but init is ${s.init.t}`);
        env.set(s.name, evalExpr(s.init, env, mem));
        break;
      case 'set':
        if (!env.has(s.name)) throw new Error(`${kname}: set of undeclared ${s.name}`);
        env.set(s.name, evalExpr(s.value, env, mem));
        break;
      case 'store': {
        const want =
          s.buf.dtype === 'float16' || s.buf.dtype === 'float32'
            ? 'f32'
            : s.buf.dtype === 'float64'
              ? 'f64'
              : s.buf.dtype === 'int64' || s.buf.dtype === 'uint64'
                ? 'i64'
                : 'i32';
        if (s.value.t !== want) throw new Error(`${kname}: store of ${s.value.t} into ${s.buf.dtype}`);
        storeValue(s.buf, mem.get(s.buf), evalExpr(s.index, env, mem) as number, evalExpr(s.value, env, mem));
        break;
      }
      case 'if':
        if (evalExpr(s.cond, env, mem)) execBlock(s.then, env, mem, declared, kname);
        else if (s.else) execBlock(s.else, env, mem, declared, kname);
        break;
      case 'gemm':
        throw new Error('gemm not interpreted');
    }
  }
}

/** Check the kernel-IR naming rule: loop variables and locals unique within one kernel. */
export function checkUniqueNames(k: Kernel): void {
  const seen = new Set<string>();
  const walk = (stmts: Stmt[]) => {
    for (const s of stmts) {
      const name = s.k === 'loop' ? s.v : s.k === 'local' ? s.name : undefined;
      if (name !== undefined) {
        if (seen.has(name)) throw new Error(`kernel ${k.name}: name ${name} declared twice`);
        seen.add(name);
      }
      if (s.k === 'loop') walk(s.body);
      if (s.k === 'if') {
        walk(s.then);
        if (s.else) walk(s.else);
      }
    }
  };
  walk(k.body);
}
