/** Renders one dispatch (a part of a Kernel IR kernel) as a WGSL compute entry point. */
import type { BufRef, Expr, Extent, Scalar, Stmt } from '../../kernels/ir.js';
import { binCode, castCode, cmpCode, unCode } from './ops.js';
import { computeType, constText, storageOf, WGSL_TYPE_TEXT, wgslType, type WgslScalar } from './types.js';
import type { ParallelNest } from '../../kernels/analysis/parallel.js';
import { segmentVar, type MemoryBindings } from './bindings.js';
import { operands } from '../../kernels/walk.js';
import { HALF_INFIX, halfLiteral } from './half.js';

/** Reads and writes of a buffer's u32 words, at word expressions counted from `base`. */
export interface WordAccess {
  base: number;
  read(at: string): string;
  /** a statement */
  write(at: string, value: string): string;
}

export const WORKGROUP_SIZE = 64;
const MAX_GROUPS_PER_DIMENSION = 65535;

/** Workgroup counts for `invocations` invocations, in a 2-D grid past 65535 workgroups. */
export function gridFor(invocations: number): [number, number, number] {
  const groups = Math.ceil(invocations / WORKGROUP_SIZE);
  if (groups <= MAX_GROUPS_PER_DIMENSION) return [groups, 1, 1];
  const y = Math.ceil(groups / MAX_GROUPS_PER_DIMENSION);
  if (y > MAX_GROUPS_PER_DIMENSION) throw new Error(`${invocations} invocations exceed the dispatch limits`);
  return [Math.ceil(groups / y), y, 1];
}

/** Parameters of every entry point: the flat invocation id `gid` is computed from them. */
export const ENTRY_PARAMS =
  '@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lane: u32';

export class KernelEmitter {
  private readonly decls: string[] = [];
  private readonly names = new Map<string, { id: string; t: WgslScalar }>();
  /** the segments (storage bindings) this entry point touches */
  private readonly used = new Set<number>();

  constructor(
    private readonly offsets: ReadonlyMap<number, number>,
    /** byte address of each shape symbol's int32 in the dims block */
    private readonly dims: ReadonlyMap<string, number>,
    private readonly memory: MemoryBindings,
    /** the IR's f32 values as WGSL f16 (a kernel on float16 buffers only, halfEligible) */
    private readonly half = false,
  ) {}

  /** The bindings the entry point rendered so far uses, ascending. */
  bindings(): number[] {
    return [...this.used].sort((a, b) => a - b);
  }

  /** A fresh function-scope variable for an IR name; later uses of the name refer to it. */
  bind(name: string, t: Scalar): string {
    const type = wgslType(t);
    const id = `v${this.decls.length}_${name.replace(/[^A-Za-z0-9]+/g, '_').slice(0, 32)}`;
    this.decls.push(`var ${id}: ${this.half && type === 'f32' ? 'f16' : WGSL_TYPE_TEXT[type]};`);
    this.names.set(name, { id, t: type });
    return id;
  }

  /** Lets IR name `name` stand for WGSL text the caller declares itself (a hand-written shader's value). */
  alias(name: string, text: string, t: Scalar): void {
    this.names.set(name, { id: text, t: wgslType(t) });
  }

  private lookup(name: string, t: Scalar): string {
    const found = this.names.get(name);
    if (!found) throw new Error(`variable '${name}' is used before it is declared`);
    if (found.t !== t) throw new Error(`variable '${name}' is ${found.t} but used as ${t}`);
    return found.id;
  }

  /** Declarations of every variable bound so far (WGSL wants them before use; IR locals are kernel-wide). */
  declarations(indent: string): string {
    return this.decls.map((d) => indent + d).join('\n');
  }

  private base(buf: BufRef, what: string): number {
    const base = this.offsets.get(buf.id);
    if (base === undefined)
      throw new Error(`${what} buffer #${buf.id} (${buf.dtype}) is not placed in the program`);
    return base;
  }

  /**
   * The segments `buf` lies in, marked used (and written when `write`): one, or several for a buffer
   * larger than a binding.
   */
  private segmentsOf(buf: BufRef, elementBytes: number, write: boolean, what: string): [number, number] {
    const base = this.base(buf, what);
    const [first, last] = this.memory.spanOf(base, buf.length * elementBytes);
    for (let i = first; i <= last; i++) {
      this.used.add(i);
      if (write) this.memory.markWritten(i);
    }
    return [first, last];
  }

  /** Word access to a buffer of 4-byte elements. */
  words(buf: BufRef, write: boolean, what: string): WordAccess {
    const base = this.base(buf, what);
    const [first, last] = this.segmentsOf(buf, 4, write, what);
    if (first === last) {
      const mem = segmentVar(first);
      return {
        base: (base - this.memory.starts[first]) / 4,
        read: (at) => `${mem}[${at}]`,
        write: (at, value) => `${mem}[${at}] = ${value};`,
      };
    }
    return {
      base: base / 4,
      read: (at) => `${this.memory.spanHelper('ld', first, last)}(${at})`,
      write: (at, value) => `${this.memory.spanHelper('st', first, last)}(${at}, ${value});`,
    };
  }

  /** The word (4-byte and 8-byte elements) or byte (narrower ones) address of element `index`, from `base`. */
  private address(base: number, index: Expr, bytes: number, what: string, id: number): string {
    if (index.t !== 'i32') throw new Error(`${what} buffer #${id}: index must be i32, found ${index.t}`);
    const step = bytes >= 4 ? bytes / 4 : bytes;
    if (index.k === 'const') return constText('i32', base + Number(index.v) * step);
    const elems = step === 1 ? this.expr(index) : `(${this.expr(index)} * ${step}i)`;
    return base === 0 ? elems : `(${base}i + ${elems})`;
  }

  /** Byte access to a buffer of narrow elements in one binding: the binding's name and the byte base. */
  private narrow(buf: BufRef, bytes: number, write: boolean, what: string): { mem: string; base: number } {
    const [first, last] = this.segmentsOf(buf, bytes, write, what);
    if (first !== last)
      throw new Error(
        `${what} buffer #${buf.id} (${buf.dtype}) spans storage bindings ${first}..${last}; only 4-byte elements may`,
      );
    return { mem: segmentVar(first), base: this.base(buf, what) - this.memory.starts[first] };
  }

  load(buf: BufRef, index: Expr): string {
    const what = 'load from';
    const st = storageOf(buf.dtype, `load from buffer #${buf.id}`);
    if ('word' in st) {
      const w = this.words(buf, false, what);
      return `bitcast<${st.word}>(${w.read(this.address(w.base, index, 4, what, buf.id))})`;
    }
    const n = this.narrow(buf, st.bytes, false, what);
    const base = st.bytes === 8 ? n.base / 4 : n.base;
    const load = this.half && buf.dtype === 'float16' ? 'ld_h16' : st.load;
    return `${load}_${n.mem}(${this.address(base, index, st.bytes, what, buf.id)})`;
  }

  store(buf: BufRef, index: Expr, value: Expr): string {
    const what = 'store to';
    const st = storageOf(buf.dtype, `store to buffer #${buf.id}`);
    if (wgslType(value.t) !== computeType(st))
      throw new Error(`store of ${value.t} into buffer #${buf.id} (${buf.dtype})`);
    if ('word' in st) {
      const w = this.words(buf, true, what);
      const at = this.address(w.base, index, 4, what, buf.id);
      return w.write(at, `bitcast<u32>(${this.expr(value)})`);
    }
    const n = this.narrow(buf, st.bytes, true, what);
    const base = st.bytes === 8 ? n.base / 4 : n.base;
    const at = this.address(base, index, st.bytes, what, buf.id);
    const store = this.half && buf.dtype === 'float16' ? 'st_h16' : st.store;
    return `${store}_${n.mem}(${at}, ${this.expr(value)});`;
  }

  expr(e: Expr): string {
    return this.half ? this.halfExpr(e) : this.fullExpr(e);
  }

  /**
   * An expression with f32 values in f16: loads, stores, the four arithmetic operators, negation and
   * comparisons in f16; everything else (min/max, math functions, conversions) through its f32 rule.
   */
  private halfExpr(e: Expr): string {
    const f32 = (x: Expr) => (x.t === 'f32' ? `f32(${this.expr(x)})` : this.expr(x));
    switch (e.k) {
      case 'const':
        return e.t === 'f32' ? halfLiteral(Number(e.v)) : constText(e.t, e.v);
      case 'bin':
        if (e.t === 'f32' && HALF_INFIX[e.op])
          return `(${this.expr(e.a)} ${HALF_INFIX[e.op]} ${this.expr(e.b)})`;
        break;
      case 'un':
        if (e.t === 'f32' && e.op === 'neg') return `(-${this.expr(e.a)})`;
        break;
      case 'cmp':
        if (e.a.t === 'f32') return `i32(${cmpCode(e.op, 'f32')(this.expr(e.a), this.expr(e.b))})`;
        break;
      case 'cast':
        break;
      default:
        return this.fullExpr(e);
    }
    const value = this.opText(e, operands(e).map(f32));
    return e.t === 'f32' ? `f16(${value})` : value;
  }

  private fullExpr(e: Expr): string {
    switch (e.k) {
      case 'const':
        return constText(e.t, e.v);
      case 'var':
        return this.lookup(e.name, e.t);
      case 'dim': {
        const at = this.dims.get(e.name);
        if (at === undefined) throw new Error(`shape symbol '${e.name}' is not in the program's dims block`);
        const segment = this.memory.segmentAt(at);
        this.used.add(segment);
        return `bitcast<i32>(${segmentVar(segment)}[${(at - this.memory.starts[segment]) / 4}i])`;
      }
      case 'load':
        return this.load(e.buf, e.index);
      // operands first, so an error names the innermost thing that is wrong (e.g. a float64 buffer)
      case 'bin':
      case 'cmp':
      case 'un':
      case 'cast':
        return this.opText(
          e,
          operands(e).map((x) => this.expr(x)),
        );
      case 'select':
        return `select(${this.expr(e.b)}, ${this.expr(e.a)}, ${this.expr(e.cond)} != 0i)`;
    }
  }

  /** An operator's WGSL from its operands' text. */
  private opText(e: Expr & { k: 'bin' | 'cmp' | 'un' | 'cast' }, [a, b]: string[]): string {
    switch (e.k) {
      case 'bin':
        return binCode(e.op, wgslType(e.t), e.b)(a, b);
      case 'cmp':
        return `i32(${cmpCode(e.op, wgslType(e.a.t))(a, b)})`;
      case 'un':
        return unCode(e.op, wgslType(e.a.t))(a);
      case 'cast':
        return castCode(wgslType(e.a.t), wgslType(e.t), e.unsigned ?? false)(a);
    }
  }

  /** A loop extent as an i32 expression (a run-time one reads the dims block). */
  extent(n: Extent): string {
    return typeof n === 'number' ? `${n}i` : this.expr(n);
  }

  stmts(list: Stmt[], indent: string): string {
    return list.map((s) => this.stmt(s, indent)).join('\n');
  }

  private stmt(s: Stmt, indent: string): string {
    const inner = indent + '  ';
    switch (s.k) {
      case 'loop': {
        const c = this.bind(s.v, 'i32');
        return `${indent}for (${c} = 0i; ${c} < ${this.extent(s.n)}; ${c}++) {\n${this.stmts(s.body, inner)}\n${indent}}`;
      }
      case 'local': {
        if (s.init.t !== s.t)
          throw new Error(`local '${s.name}' is ${s.t} but its initial value is ${s.init.t}`);
        const value = this.expr(s.init);
        return `${indent}${this.bind(s.name, s.t)} = ${value};`;
      }
      case 'set':
        return `${indent}${this.lookup(s.name, s.value.t)} = ${this.expr(s.value)};`;
      case 'store':
        return indent + this.store(s.buf, s.index, s.value);
      case 'if': {
        const otherwise = s.else?.length ? ` else {\n${this.stmts(s.else, inner)}\n${indent}}` : '';
        return `${indent}if (${this.expr(s.cond)} != 0i) {\n${this.stmts(s.then, inner)}\n${indent}}${otherwise}`;
      }
      case 'gemm':
        throw new Error('internal: a gemm reached the statement emitter (it is lowered before)');
    }
  }
}

/** An entry point's WGSL, its dispatch size and the storage bindings it uses. */
export interface RenderedEntry {
  code: string;
  workgroups: [number, number, number];
  bindings: number[];
}

/** A u32 factor of the invocation count: a number, or WGSL text computed at run time. */
type Factor = number | string;
const factorText = (x: Factor) => (typeof x === 'number' ? `${x}u` : x);
const times = (a: Factor, b: Factor): Factor =>
  typeof a === 'number' && typeof b === 'number'
    ? a * b
    : a === 1
      ? b
      : b === 1
        ? a
        : `(${factorText(a)} * ${factorText(b)})`;

/**
 * An entry point running `body`: with `nest`, one invocation per iteration of its spread loops (their
 * counters computed from the invocation id), else one invocation. A spread loop with a run-time extent
 * is dispatched at its upper bound (the schedule's workgroup counts stay numbers, so the runtime need not
 * evaluate anything), and the invocations past the run-time count return at once.
 */
export function renderEntry(
  entry: string,
  body: Stmt[],
  nest: ParallelNest | undefined,
  offsets: ReadonlyMap<number, number>,
  dims: ReadonlyMap<string, number>,
  memory: MemoryBindings,
  /** its f32 values in f16 (half.ts) */
  half = false,
): RenderedEntry {
  const emitter = new KernelEmitter(offsets, dims, memory, half);
  const loops = nest?.loops ?? [];
  const sizes: string[] = [];
  const extents = loops.map(({ n }): Factor => {
    if (typeof n === 'number') return n;
    sizes.push(`  let n${sizes.length} = u32(max(${emitter.expr(n)}, 0i));`);
    return `n${sizes.length - 1}`;
  });
  // strides[i]: invocations per step of loop i, the product of the extents inside it
  const strides = extents.map(() => 1 as Factor);
  for (let i = loops.length - 2; i >= 0; i--) strides[i] = times(strides[i + 1], extents[i + 1]);
  const count = loops.length ? times(strides[0], extents[0]) : 1;
  const counters = loops.map(({ v }, i) => {
    const q = strides[i] === 1 ? 'gid' : `(gid / ${factorText(strides[i])})`;
    return `  ${emitter.bind(v, 'i32')} = i32(${i === 0 ? q : `${q} % ${factorText(extents[i])}`});`;
  });
  const text = emitter.stmts(nest?.body ?? body, '  ');
  const code = `@compute @workgroup_size(${WORKGROUP_SIZE})
fn ${entry}(${ENTRY_PARAMS}) {
  let gid = (wid.y * groups.x + wid.x) * ${WORKGROUP_SIZE}u + lane;
${sizes.map((line) => line + '\n').join('')}  if (gid >= ${factorText(count)}) { return; }
${emitter.declarations('  ')}
${counters.join('\n')}
${text}
}`;
  return { code, workgroups: gridFor(nest?.count ?? 1), bindings: emitter.bindings() };
}
