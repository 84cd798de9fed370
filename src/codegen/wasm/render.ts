/** Renders one Kernel IR kernel as a WAT function. */
import type { BufRef, Expr, Kernel, Scalar, Stmt } from '../../kernels/ir.js';
import { binCode, castCode, cmpCode, unCode, type Code, type UnCode } from './ops.js';
import { constText, storageOf, WASM_TYPE } from './types.js';
import { renderGemm } from './gemm.js';
import { renderVector, vectorizableStores } from './vectorize.js';

/** What a kernel needs from the whole program: where buffers live, and which helpers were used. */
export interface ProgramContext {
  offsets: Map<number, number>;
  helpers: Set<string>;
  /** relaxed-SIMD instructions allowed */
  relaxedSimd: boolean;
  /**
   * Scratch memory the generated code owns, past the program's buffers (e.g. gemm's packed B panels):
   * `base` is its byte offset, `bytes` grows to the most any kernel asked for. Kernels run one at a time,
   * so they all share it.
   */
  scratch: { base: number; bytes: number };
}

/** An element address split as wasm wants it: a dynamic i32 byte address plus a constant `offset=`. */
export interface Address {
  addr: string;
  offset: number;
}

export class KernelEmitter {
  private readonly locals: string[] = [];
  private readonly names = new Map<string, { id: string; t: Scalar }>();
  /** IR names bound by loops: counters that only count up from 0 */
  private readonly loopVars = new Set<string>();
  private labels = 0;

  constructor(
    readonly kernel: Kernel,
    readonly program: ProgramContext,
  ) {}

  /** A fresh wasm local of type t (for loop counters and temporaries). */
  temp(t: Scalar | 'v128', hint = 't'): string {
    const id = `$${this.locals.length}_${hint.replace(/[^A-Za-z0-9_]/g, '_')}`;
    this.locals.push(`(local ${id} ${t === 'v128' ? 'v128' : WASM_TYPE[t]})`);
    return id;
  }

  label(hint: string): string {
    return `$${hint}${this.labels++}`;
  }

  /** Whether an i32 index expression is provably ≥ 0: loop counters and sums/products of them. */
  private nonNegative(e: Expr): boolean {
    switch (e.k) {
      case 'const':
        return Number(e.v) >= 0;
      case 'var':
        return this.loopVars.has(e.name);
      case 'bin':
        return (
          ['add', 'mul', 'div', 'rem', 'shl', 'min', 'max'].includes(e.op) &&
          this.nonNegative(e.a) &&
          this.nonNegative(e.b)
        );
      default:
        return false;
    }
  }

  /** Bind an IR variable name to a fresh wasm local. */
  bind(name: string, t: Scalar): string {
    const id = this.temp(t, name);
    this.names.set(name, { id, t });
    return id;
  }

  private lookup(name: string, t: Scalar): string {
    const found = this.names.get(name);
    if (!found) throw new Error(`variable '${name}' is used before it is declared`);
    if (found.t !== t) throw new Error(`variable '${name}' is ${found.t} but used as ${t}`);
    return found.id;
  }

  /** Byte address of a scratch area of `bytes` bytes, valid until this kernel returns. */
  scratch(bytes: number): number {
    this.program.scratch.bytes = Math.max(this.program.scratch.bytes, bytes);
    return this.program.scratch.base;
  }

  useHelper(name: string): void {
    this.program.helpers.add(name);
  }

  private apply(code: Code | UnCode, args: string[]): string {
    if ('wrap' in code) return code.wrap(args[0]);
    if ('instr' in code) return `(${code.instr} ${args.join(' ')})`;
    this.useHelper(code.helper);
    return `(call $${code.helper} ${args.join(' ')})`;
  }

  /** Byte address of element `index` of `buf`, with constant parts folded into the `offset=` immediate. */
  address(buf: BufRef, index: Expr, what: string): Address {
    const base = this.program.offsets.get(buf.id);
    if (base === undefined)
      throw new Error(`${what} buffer #${buf.id} (${buf.dtype}) is not placed in the program`);
    const { bytes } = storageOf(buf.dtype, `${what} buffer #${buf.id}`);
    if (index.t !== 'i32') throw new Error(`${what} buffer #${buf.id}: index must be i32, found ${index.t}`);
    let constant = 0;
    const terms: Expr[] = [];
    const split = (e: Expr): void => {
      if (e.k === 'bin' && e.op === 'add') {
        split(e.a);
        split(e.b);
      } else if (e.k === 'const') constant += Number(e.v);
      else terms.push(e);
    };
    split(index);
    let offset = base + constant * bytes;
    if (constant < 0 || !terms.every((t) => this.nonNegative(t))) {
      // wasm adds the immediate to the dynamic address without wrapping, so a constant moved there is
      // only right when the dynamic part cannot be negative (e.g. `n - 1 - i` in a reversed Slice)
      if (constant !== 0) terms.push({ k: 'const', t: 'i32', v: constant });
      offset = base;
    }
    if (terms.length === 0) return { addr: '(i32.const 0)', offset };
    let elems = this.expr(terms[0]);
    for (const term of terms.slice(1)) elems = `(i32.add ${elems} ${this.expr(term)})`;
    const shift = Math.log2(bytes);
    return { addr: shift === 0 ? elems : `(i32.shl ${elems} (i32.const ${shift}))`, offset };
  }

  expr(e: Expr): string {
    switch (e.k) {
      case 'const':
        return constText(e.t, e.v);
      case 'var':
        return `(local.get ${this.lookup(e.name, e.t)})`;
      case 'load': {
        const st = storageOf(e.buf.dtype, 'load from');
        const { addr, offset } = this.address(e.buf, e.index, 'load from');
        const raw = `(${st.load} offset=${offset} ${addr})`;
        if (!st.decode) return raw;
        this.useHelper(st.decode);
        return `(call $${st.decode} ${raw})`;
      }
      case 'bin':
        return this.apply(binCode(e.op, e.t, e.b), [this.expr(e.a), this.expr(e.b)]);
      case 'cmp':
        return this.apply(cmpCode(e.op, e.a.t), [this.expr(e.a), this.expr(e.b)]);
      case 'un':
        return this.apply(unCode(e.op, e.a.t), [this.expr(e.a)]);
      case 'cast':
        return this.apply(castCode(e.a.t, e.t, e.unsigned ?? false), [this.expr(e.a)]);
      case 'select':
        return `(select ${this.expr(e.a)} ${this.expr(e.b)} ${this.expr(e.cond)})`;
    }
  }

  store(buf: BufRef, index: Expr, valueText: string): string {
    const st = storageOf(buf.dtype, 'store to');
    const { addr, offset } = this.address(buf, index, 'store to');
    let value = valueText;
    if (st.encode) {
      this.useHelper(st.encode);
      value = `(call $${st.encode} ${value})`;
    }
    return `(${st.store} offset=${offset} ${addr} ${value})`;
  }

  /** `for (v = 0; v < n; v++) body` as a bottom-tested wasm loop (n > 0 is known statically). */
  countedLoop(counter: string, n: number, body: string): string {
    return this.rangeLoop(counter, 0, n, 1, body);
  }

  /** `for (v = start; v < end; v += step) body`, bottom-tested (bounds are static). */
  rangeLoop(counter: string, start: number, end: number, step: number, body: string): string {
    if (start >= end) return '';
    const init = `(local.set ${counter} (i32.const ${start}))`;
    if (start + step >= end) return `${init}\n${body}`;
    const l = this.label('L');
    return `${init}
(loop ${l}
${body}
(br_if ${l} (i32.lt_s (local.tee ${counter} (i32.add (local.get ${counter}) (i32.const ${step}))) (i32.const ${end}))))`;
  }

  /** Bytes [start, end) of a placed buffer, for alias checks. */
  private region = (buf: BufRef): [number, number] | undefined => {
    const base = this.program.offsets.get(buf.id);
    if (base === undefined || buf.dtype === 'string') return undefined;
    return [base, base + buf.length * storageOf(buf.dtype, 'buffer').bytes];
  };

  /**
   * An f32x4 main loop over whole groups of four, then the scalar loop for the rest. Loop-invariant f32
   * operands are splatted into v128 locals once, before the main loop.
   */
  private vectorLoop(s: Extract<Stmt, { k: 'loop' }>, stores: Extract<Stmt, { k: 'store' }>[]): string {
    const counter = this.bind(s.v, 'i32');
    this.loopVars.add(s.v);
    const vload = (buf: BufRef, index: Expr, stride: number) => {
      const { addr, offset } = this.address(buf, index, 'load from');
      if (stride === 1) return `(v128.load offset=${offset} ${addr})`;
      // elements 0, 2, 4, 6 from [0..3] and [3..6]: lanes 0, 2 of the first load, 1, 3 of the second
      // (reading nothing past element 6, the last one the four lanes need)
      return `(i8x16.shuffle 0 1 2 3 8 9 10 11 20 21 22 23 28 29 30 31 (v128.load offset=${offset} ${addr}) (v128.load offset=${offset + 12} ${addr}))`;
    };
    const hoisted = new Map<string, string>();
    const splats: string[] = [];
    const invariant = (e: Expr) => {
      const key = JSON.stringify(e, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
      let id = hoisted.get(key);
      if (!id) {
        id = this.temp('v128', 'splat');
        hoisted.set(key, id);
        splats.push(`(local.set ${id} (f32x4.splat ${this.expr(e)}))`);
      }
      return `(local.get ${id})`;
    };
    const vectorBody = stores.map((st) => {
      const { addr, offset } = this.address(st.buf, st.index, 'store to');
      const value = renderVector(st.value, s.v, (e) => this.expr(e), vload, invariant);
      return `(v128.store offset=${offset} ${addr} ${value})`;
    });
    const main = s.n - (s.n % 4);
    return [
      ...splats,
      this.rangeLoop(counter, 0, main, 4, vectorBody.join('\n')),
      this.rangeLoop(counter, main, s.n, 1, this.stmts(s.body)),
    ].join('\n');
  }

  stmts(list: Stmt[]): string {
    return list.map((s) => this.stmt(s)).join('\n');
  }

  stmt(s: Stmt): string {
    switch (s.k) {
      case 'loop': {
        if (s.n <= 0) return '';
        const stores = vectorizableStores(s, this.region);
        if (stores) return this.vectorLoop(s, stores);
        const counter = this.bind(s.v, 'i32');
        this.loopVars.add(s.v);
        return this.countedLoop(counter, s.n, this.stmts(s.body));
      }
      case 'local': {
        const value = this.expr(s.init);
        if (s.init.t !== s.t)
          throw new Error(`local '${s.name}' is ${s.t} but its initial value is ${s.init.t}`);
        return `(local.set ${this.bind(s.name, s.t)} ${value})`;
      }
      case 'set':
        return `(local.set ${this.lookup(s.name, s.value.t)} ${this.expr(s.value)})`;
      case 'store':
        return this.store(s.buf, s.index, this.expr(s.value));
      case 'if': {
        const otherwise = s.else && s.else.length ? ` (else ${this.stmts(s.else)})` : '';
        return `(if ${this.expr(s.cond)} (then ${this.stmts(s.then)})${otherwise})`;
      }
      case 'gemm':
        return renderGemm(s, this);
    }
  }

  /** The whole kernel as `(func $id ...)`. */
  render(id: string): string {
    const body = this.stmts(this.kernel.body);
    return `(func ${id}\n${this.locals.join(' ')}\n${body})`;
  }
}

export function renderKernel(kernel: Kernel, id: string, program: ProgramContext): string {
  try {
    return new KernelEmitter(kernel, program).render(id);
  } catch (err) {
    throw new Error(`wasm codegen: kernel '${kernel.name}': ${(err as Error).message}`, { cause: err });
  }
}
