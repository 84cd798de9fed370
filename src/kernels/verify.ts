/**
 * The Kernel IR verifier: what every kernel must satisfy before a code generator sees it, so a broken
 * lowering or rewrite fails here with the kernel and statement named, not as invalid WAT/WGSL or as a
 * wrong answer. Checked: every variable declared before use and used at its declared type; loop
 * variables and locals declared once per kernel; operand types of every expression; load/store
 * indices i32 and stored values of the buffer's compute type; static loop extents non-negative
 * integers, symbolic ones shape expressions over declared shape symbols whose bounds fit an i32;
 * constant indices inside their buffer; gemm shapes positive with every view inside its buffer. With a
 * signature: every buffer the kernel touches is one of its parameters (same dtype and length, the
 * length the product of its shape), nothing is stored into an input, weight or state, and every `dim`
 * read is among its dims.
 */
import type {
  BufRef,
  Expr,
  GemmStmt,
  Kernel,
  KernelParam,
  MatView,
  PlacedBuffer,
  Program,
  Scalar,
  ShapeSymbol,
  Stmt,
} from './ir.js';
import { DTYPES, type DType } from '../ir/dtype.js';
import { READ_ONLY_ROLES, scalarOf } from './ir.js';
import { extentRange, rangesOf, shapeExprOf, type SymbolRanges } from './extent.js';
import { bounds } from '../ir/symbolic.js';
import { int8ActivationBytes } from './int8-gemm.js';

export class KernelVerifyError extends Error {
  constructor(
    readonly kernel: string,
    readonly where: string,
    message: string,
  ) {
    super(`kernel '${kernel}': ${where}: ${message}`);
    this.name = 'KernelVerifyError';
  }
}

const FLOAT_ONLY = new Set(['pow', 'atan2']);
const INT_ONLY = new Set(['and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'div_u', 'rem_u']);
const UN_TO_I32 = new Set(['isnan', 'isinf_pos', 'isinf_neg']);
const isFloat = (t: Scalar) => t === 'f32' || t === 'f64';
const I32_MAX = 2 ** 31 - 1;

/** A constant i32 index, when the expression is one. */
function constIndex(e: Expr): number | undefined {
  return e.k === 'const' ? Number(e.v) : undefined;
}

class Verifier {
  /** declared names and their types, in scope order */
  private readonly scope = new Map<string, Scalar>();
  private readonly declared = new Set<string>();
  private where = 'body';

  private readonly ranges: SymbolRanges;
  /** the signature's buffers by id, when the kernel has one */
  private readonly params?: Map<number, KernelParam>;

  constructor(
    private readonly kernel: Kernel,
    symbols: readonly ShapeSymbol[],
  ) {
    const names = new Set<string>();
    for (const s of symbols) {
      if (names.has(s.name)) this.fail(`shape symbol '${s.name}' is declared twice`);
      names.add(s.name);
      if (
        !Number.isInteger(s.min) ||
        !Number.isInteger(s.max) ||
        s.min < 0 ||
        s.min > s.max ||
        s.max > I32_MAX
      )
        this.fail(
          `shape symbol '${s.name}' has bounds ${s.min}..${s.max}, not integers 0 ≤ min ≤ max < 2^31`,
        );
    }
    this.ranges = rangesOf(symbols);
    if (kernel.signature) {
      this.where = 'signature';
      this.params = new Map();
      for (const p of kernel.signature.buffers) {
        if (this.params.has(p.buf.id)) this.fail(`buffer #${p.buf.id} is a parameter twice`);
        const elements = p.shape.reduce((n, d) => n * d, 1);
        if (elements !== p.buf.length)
          this.fail(`${p.role} buffer #${p.buf.id} has shape [${p.shape}] but ${p.buf.length} elements`);
        this.params.set(p.buf.id, p);
      }
      this.where = 'body';
    }
  }

  private fail(message: string): never {
    throw new KernelVerifyError(this.kernel.name, this.where, message);
  }

  private buffer(buf: BufRef): void {
    if (!Number.isInteger(buf.id) || buf.id < 0)
      this.fail(`buffer id ${buf.id} is not a non-negative integer`);
    if (!Number.isInteger(buf.length) || buf.length < 0)
      this.fail(`buffer #${buf.id} has length ${buf.length}`);
    if (buf.dtype === 'string') this.fail(`buffer #${buf.id} is a string buffer`);
    if (!this.params) return;
    const p = this.params.get(buf.id);
    if (!p) this.fail(`buffer #${buf.id} (${buf.dtype}[${buf.length}]) is not in the kernel's signature`);
    if (p.buf.dtype !== buf.dtype || p.buf.length !== buf.length)
      this.fail(
        `buffer #${buf.id} is used as ${buf.dtype}[${buf.length}] but the signature has ${p.buf.dtype}[${p.buf.length}]`,
      );
  }

  /** A buffer the statement writes: a parameter the kernel may write. */
  private written(buf: BufRef): void {
    const role = this.params?.get(buf.id)?.role;
    if (role && READ_ONLY_ROLES.has(role))
      this.fail(`stores into buffer #${buf.id}, which the kernel only reads (its ${role})`);
  }

  private index(buf: BufRef, index: Expr, what: string): void {
    this.expr(index);
    if (index.t !== 'i32') this.fail(`${what} index into buffer #${buf.id} is ${index.t}, not i32`);
    const c = constIndex(index);
    if (c !== undefined && (c < 0 || c >= buf.length))
      this.fail(`${what} at constant index ${c} outside buffer #${buf.id} (${buf.dtype}[${buf.length}])`);
  }

  expr(e: Expr): void {
    switch (e.k) {
      case 'const':
        if (e.t === 'i64' ? typeof e.v !== 'bigint' : typeof e.v !== 'number')
          this.fail(`${e.t} constant holds a ${typeof e.v}`);
        if (e.t === 'i32' && !Number.isInteger(e.v)) this.fail(`i32 constant ${e.v} is not an integer`);
        return;
      case 'var': {
        const t = this.scope.get(e.name);
        if (t === undefined) this.fail(`variable '${e.name}' is used before it is declared`);
        if (t !== e.t) this.fail(`variable '${e.name}' is ${t} but used as ${e.t}`);
        return;
      }
      case 'dim':
        if (!this.ranges[e.name]) this.fail(`shape symbol '${e.name}' is not declared`);
        if (this.kernel.signature && !this.kernel.signature.dims.includes(e.name))
          this.fail(`shape symbol '${e.name}' is not among the kernel's dims`);
        return;
      case 'load':
        this.buffer(e.buf);
        this.index(e.buf, e.index, 'load');
        if (e.t !== scalarOf(e.buf.dtype))
          this.fail(
            `load from ${e.buf.dtype} buffer #${e.buf.id} typed ${e.t}, not ${scalarOf(e.buf.dtype)}`,
          );
        return;
      case 'bin':
        this.expr(e.a);
        this.expr(e.b);
        if (e.a.t !== e.t || e.b.t !== e.t) this.fail(`${e.op} of ${e.a.t} and ${e.b.t} typed ${e.t}`);
        if (FLOAT_ONLY.has(e.op) && !isFloat(e.t)) this.fail(`${e.op} of ${e.t}: floats only`);
        if (INT_ONLY.has(e.op) && isFloat(e.t)) this.fail(`${e.op} of ${e.t}: integers only`);
        return;
      case 'cmp':
        this.expr(e.a);
        this.expr(e.b);
        if (e.a.t !== e.b.t) this.fail(`${e.op} compares ${e.a.t} with ${e.b.t}`);
        if (e.op.endsWith('_u') && isFloat(e.a.t)) this.fail(`${e.op} of ${e.a.t}: integers only`);
        return;
      case 'un': {
        this.expr(e.a);
        const want = UN_TO_I32.has(e.op) ? 'i32' : e.a.t;
        if (e.t !== want) this.fail(`${e.op} of ${e.a.t} typed ${e.t}, not ${want}`);
        if (UN_TO_I32.has(e.op) && !isFloat(e.a.t)) this.fail(`${e.op} of ${e.a.t}: floats only`);
        if (e.op === 'not' && isFloat(e.a.t)) this.fail(`not of ${e.a.t}: integers only`);
        return;
      }
      case 'cast':
        this.expr(e.a);
        if (e.unsigned && isFloat(e.a.t)) this.fail(`unsigned cast from ${e.a.t}`);
        return;
      case 'select':
        this.expr(e.cond);
        this.expr(e.a);
        this.expr(e.b);
        if (e.cond.t !== 'i32') this.fail(`select condition is ${e.cond.t}, not i32`);
        if (e.a.t !== e.t || e.b.t !== e.t) this.fail(`select of ${e.a.t} and ${e.b.t} typed ${e.t}`);
        return;
    }
  }

  private declare(name: string, t: Scalar): void {
    if (this.declared.has(name)) this.fail(`'${name}' is declared twice (names are unique within a kernel)`);
    this.declared.add(name);
    this.scope.set(name, t);
  }

  private view(v: MatView, rows: number, cols: number, what: string, dtype: DType = 'float32'): void {
    this.buffer(v.buf);
    this.expr(v.offset);
    if (v.offset.t !== 'i32') this.fail(`gemm ${what} offset is ${v.offset.t}, not i32`);
    if (v.buf.dtype !== dtype) this.fail(`gemm ${what} is a ${v.buf.dtype} buffer; it must be ${dtype}`);
    // a run-time row stride is a shape expression, checked at its largest value
    if (typeof v.rs !== 'number') this.symbolicExtent(v.rs);
    const rs = typeof v.rs === 'number' ? v.rs : extentRange(v.rs, this.ranges).max;
    const off = constIndex(v.offset);
    if (off === undefined) return;
    const last = off + (rows - 1) * rs + (cols - 1) * v.cs;
    const first = off + Math.min(0, (rows - 1) * rs) + Math.min(0, (cols - 1) * v.cs);
    if (first < 0 || last >= v.buf.length)
      this.fail(
        `gemm ${what} (${rows}×${cols} at ${off}, strides ${rs},${v.cs}) reaches outside buffer #${v.buf.id}[${v.buf.length}]`,
      );
  }

  private gemm(g: GemmStmt): void {
    for (const [d, n] of [
      ['M', g.M],
      ['N', g.N],
      ['K', g.K],
    ] as const) {
      if (typeof n !== 'number') this.fail(`gemm ${d} is a run-time size; gemm sizes must be static`);
      if (!Number.isInteger(n) || n < 1) this.fail(`gemm ${d} = ${n}`);
    }
    // int8 weights: exactly one of A and B is int8 (see Int8Weights)
    const weightsInA = g.int8 !== undefined && g.a.buf.dtype === 'int8';
    this.view(g.a, g.M, g.K, 'A', weightsInA ? 'int8' : 'float32');
    this.view(g.b, g.K, g.N, 'B', g.int8 && !weightsInA ? 'int8' : 'float32');
    if (g.int8) {
      this.view(g.int8.scales, g.M, g.N, 'int8 scales');
      const scratch = g.int8.activations;
      this.buffer(scratch);
      const bytes = int8ActivationBytes(weightsInA ? g.N : g.M, g.K);
      if (scratch.dtype !== 'int8' || scratch.length < bytes)
        this.fail(
          `gemm int8 activations buffer #${scratch.id} is ${scratch.dtype}[${scratch.length}]; it must be int8[≥ ${bytes}]`,
        );
    }
    this.view(g.c, g.M, g.N, 'C');
    this.written(g.c.buf);
    if (g.c.cs !== 1) this.fail(`gemm C has column stride ${g.c.cs}; it must be 1`);
    if (g.bias) this.view(g.bias, g.M, g.N, 'bias');
    if (g.residual) {
      this.view(g.residual, g.M, g.N, 'residual');
      if (g.int8) this.fail('an int8 gemm has no residual');
      // a row stride known at run time is not compared (two equal shape expressions may differ in form)
      const [rs, cRs] = [g.residual.rs, g.c.rs];
      const rsDiffers = (typeof rs === 'number' || typeof cRs === 'number') && rs !== cRs;
      if (g.residual.cs !== g.c.cs || rsDiffers) this.fail(`gemm residual's strides must be C's`);
    }
  }

  block(stmts: Stmt[], path: string): void {
    const before = new Set(this.scope.keys());
    stmts.forEach((s, i) => {
      this.where = `${path}[${i}] ${s.k}${s.k === 'loop' ? ` ${s.v}` : s.k === 'local' || s.k === 'set' ? ` ${s.name}` : ''}`;
      this.stmt(s, `${path}[${i}]`);
    });
    // names declared in this block go out of scope at its end (they stay reserved: unique per kernel)
    for (const name of [...this.scope.keys()]) if (!before.has(name)) this.scope.delete(name);
  }

  /** A run-time extent: a shape expression whose every value over the symbols' bounds fits an i32. */
  private symbolicExtent(n: Expr): void {
    this.expr(n);
    const e = shapeExprOf(n, this.ranges);
    if (typeof e === 'string') this.fail(`extent is not a shape expression: ${e}`);
    const r = bounds(e, this.ranges);
    if (r.min < -I32_MAX || r.max > I32_MAX)
      this.fail(`extent ${e.key} reaches ${r.min}..${r.max}, beyond i32`);
  }

  private stmt(s: Stmt, path: string): void {
    switch (s.k) {
      case 'loop':
        if (typeof s.n !== 'number') this.symbolicExtent(s.n);
        else if (!Number.isInteger(s.n) || s.n < 0) this.fail(`extent ${s.n} is not a non-negative integer`);
        this.declare(s.v, 'i32');
        this.block(s.body, `${path}.body`);
        this.scope.delete(s.v);
        return;
      case 'local':
        this.expr(s.init);
        if (s.init.t !== s.t) this.fail(`local '${s.name}' is ${s.t} but its initial value is ${s.init.t}`);
        this.declare(s.name, s.t);
        return;
      case 'set': {
        const t = this.scope.get(s.name);
        if (t === undefined) this.fail(`set of undeclared '${s.name}'`);
        this.expr(s.value);
        if (s.value.t !== t) this.fail(`set of ${t} '${s.name}' to a ${s.value.t}`);
        return;
      }
      case 'store':
        this.buffer(s.buf);
        this.written(s.buf);
        this.index(s.buf, s.index, 'store');
        this.expr(s.value);
        if (s.value.t !== scalarOf(s.buf.dtype))
          this.fail(`store of ${s.value.t} into ${s.buf.dtype} buffer #${s.buf.id}`);
        return;
      case 'if': {
        const where = this.where;
        this.expr(s.cond);
        if (s.cond.t !== 'i32') this.fail(`condition is ${s.cond.t}, not i32`);
        this.block(s.then, `${path}.then`);
        this.where = where;
        if (s.else) this.block(s.else, `${path}.else`);
        return;
      }
      case 'gemm':
        this.gemm(s);
        return;
    }
  }
}

/**
 * Whether `b` is a computed symbol's word of the dims block (ShapeSymbol.computedBy): the one buffer that
 * lies there, 4-byte aligned, which the kernel computing the size stores into.
 */
export function isDimsWord(program: Program, b: PlacedBuffer): boolean {
  const dims = program.dims;
  if (!dims || b.dtype !== 'int32' || b.length !== 1 || (b.offset - dims.offset) % 4 !== 0) return false;
  return dims.symbols[(b.offset - dims.offset) / 4]?.computedBy !== undefined;
}

/**
 * Where a Program's dims block may lie: 16-byte aligned, inside the program's memory and clear of every
 * buffer (a kernel storing over it would change the sizes under the kernels after it) but the words of
 * computed symbols (ShapeSymbol.computedBy). Returns what is wrong, or undefined.
 */
export function dimsBlockProblem(program: Program): string | undefined {
  const dims = program.dims;
  if (!dims) return undefined;
  const end = dims.offset + 4 * dims.symbols.length;
  if (dims.offset % 16 !== 0) return `the dims block at ${dims.offset} is not 16-byte aligned`;
  if (end > program.memoryBytes)
    return `the dims block [${dims.offset}, ${end}) ends past the program's ${program.memoryBytes} bytes of memory`;
  for (const b of program.buffers) {
    const bytes = b.dtype === 'string' ? 0 : b.length * DTYPES[b.dtype].bytes;
    if (b.offset < end && dims.offset < b.offset + bytes && !isDimsWord(program, b))
      return `the dims block [${dims.offset}, ${end}) overlaps buffer #${b.id} [${b.offset}, ${b.offset + bytes})`;
  }
  return undefined;
}

/**
 * Throws a KernelVerifyError naming the kernel and the statement when `kernel` breaks a rule; `symbols`
 * are the shape symbols its `dim`s may read.
 */
export function verifyKernel(kernel: Kernel, symbols: readonly ShapeSymbol[] = []): void {
  new Verifier(kernel, symbols).block(kernel.body, 'body');
}
