/**
 * A scalar in a kernel body: an f32 or i32 that is a Kernel IR expression while tracing and a plain
 * number while the body runs as the JavaScript reference. Every operation checks its operands' types
 * (a mismatch is a trace error naming the user's line) and, for i32, keeps the interval the value can
 * take, so that indexes are proved to stay inside their buffers.
 */
import type { BinOp, CmpOp, Expr, UnOp } from '../kernels/ir.js';
import { bin, cast, cmp, cnst, select as selectExpr, un } from '../kernels/build.js';
import { kernelExprOf } from '../kernels/extent.js';
import { FLOAT_MATH, powC } from '../kernels/interpret.js';
import * as sym from '../ir/symbolic.js';
import type { Scope } from './scope.js';

/** The element types of kernel parameters. */
export type ElementType = 'f32' | 'i32';
/**
 * The types of scalars: the element types, and f64, which an elementwise op traces at for float64
 * tensors (`elementwise.ts`).
 */
export type ScalarType = ElementType | 'f64';

/**
 * Inclusive bounds of an i32 value, when they are known at trace time: numbers, or shape expressions
 * over the dims known only at run time (a loop over `rows` runs its variable over 0..rows-1).
 */
export type Range = readonly [sym.SymLike, sym.SymLike];

/** A shape expression with a constant folded to its number. */
export const canonical = (x: sym.SymLike): sym.SymLike => sym.constValue(x) ?? x;

/** `lo..hi` of a range, for messages. */
export const rangeText = (r: Range): string => `${sym.symText(r[0])}..${sym.symText(r[1])}`;

/** A value or a JavaScript number, which takes the other operand's type. */
export type Operand = Value | number;

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

const round = (t: ScalarType, x: number) => (t === 'f32' ? Math.fround(x) : t === 'f64' ? x : x | 0);

type ArithOp = 'add' | 'sub' | 'mul' | 'div' | 'rem' | 'min' | 'max' | 'pow';

function arith(op: ArithOp, t: ScalarType, a: number, b: number): number {
  switch (op) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return t === 'i32' ? Math.imul(a, b) : a * b;
    case 'div':
      return t === 'i32' ? Math.trunc(a / b) : a / b;
    case 'rem':
      return a % b;
    case 'min':
      return Math.min(a, b);
    case 'max':
      return Math.max(a, b);
    case 'pow':
      return powC(a, b);
  }
}

const COMPARE: Record<CmpOp & ('eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'), (a: number, b: number) => boolean> =
  {
    eq: (a, b) => a === b,
    ne: (a, b) => a !== b,
    lt: (a, b) => a < b,
    le: (a, b) => a <= b,
    gt: (a, b) => a > b,
    ge: (a, b) => a >= b,
  };

/** Interval arithmetic for i32 results; undefined when a bound is unknown or may wrap. */
function rangeOf(op: ArithOp, a: Range | undefined, b: Range | undefined, scope: Scope): Range | undefined {
  if (!a || !b) return undefined;
  const bounds = [...a, ...b].map(sym.constValue);
  const r = bounds.every((x) => x !== undefined)
    ? staticRange(op, [bounds[0]!, bounds[1]!], [bounds[2]!, bounds[3]!])
    : symbolicRange(op, a, b, scope);
  if (!r) return undefined;
  return scope.bounds(r[0]).min >= I32_MIN && scope.bounds(r[1]).max <= I32_MAX ? r : undefined;
}

function staticRange(
  op: ArithOp,
  a: readonly [number, number],
  b: readonly [number, number],
): Range | undefined {
  switch (op) {
    case 'add':
      return [a[0] + b[0], a[1] + b[1]];
    case 'sub':
      return [a[0] - b[1], a[1] - b[0]];
    case 'mul': {
      const p = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]];
      return [Math.min(...p), Math.max(...p)];
    }
    case 'div':
      return b[0] > 0 && a[0] >= 0 ? [Math.trunc(a[0] / b[1]), Math.trunc(a[1] / b[0])] : undefined;
    case 'rem':
      return b[0] > 0 && a[0] >= 0 ? [0, Math.min(a[1], b[1] - 1)] : undefined;
    case 'min':
      return [Math.min(a[0], b[0]), Math.min(a[1], b[1])];
    case 'max':
      return [Math.max(a[0], b[0]), Math.max(a[1], b[1])];
    case 'pow':
      return undefined;
  }
}

/**
 * Bounds over run-time dims, as shape expressions: sums and differences of bounds, and for operands
 * that cannot be negative (what sizes and loop variables are) products, quotients and remainders.
 */
function symbolicRange(op: ArithOp, a: Range, b: Range, scope: Scope): Range | undefined {
  const pair = (lo: sym.SymLike, hi: sym.SymLike): Range => [canonical(lo), canonical(hi)];
  const natural = scope.bounds(a[0]).min >= 0 && scope.bounds(b[0]).min >= 0;
  const positiveDivisor = natural && scope.bounds(b[0]).min > 0;
  switch (op) {
    case 'add':
      return pair(sym.add(a[0], b[0]), sym.add(a[1], b[1]));
    case 'sub':
      return pair(sym.sub(a[0], b[1]), sym.sub(a[1], b[0]));
    case 'mul':
      return natural ? pair(sym.mul(a[0], b[0]), sym.mul(a[1], b[1])) : undefined;
    case 'div':
      return positiveDivisor ? pair(sym.floorDiv(a[0], b[1]), sym.floorDiv(a[1], b[0])) : undefined;
    case 'rem':
      return positiveDivisor ? pair(0, sym.min(a[1], sym.sub(b[1], 1))) : undefined;
    case 'min':
      return pair(sym.min(a[0], b[0]), sym.min(a[1], b[1]));
    case 'max':
      return pair(sym.max(a[0], b[0]), sym.max(a[1], b[1]));
    case 'pow':
      return undefined;
  }
}

export class Value {
  /** @internal use the kernel context's and the module's functions to make values */
  constructor(
    readonly scope: Scope,
    readonly t: ScalarType,
    /** the expression (tracing) */
    readonly expr: Expr | undefined,
    /** the number (reference run) */
    readonly num: number | undefined,
    /** bounds of an i32 value, when known */
    readonly range?: Range,
    /** what a value computed from a dim known only at run time was computed from (`x.shape[0]`), for errors */
    readonly dim?: string,
  ) {}

  /**
   * A size: `e` (a shape expression) as an i32 value, named `label` in errors. A static size is a
   * constant; one known only at run time reads the dims block (`dim`).
   */
  static size(scope: Scope, e: sym.SymLike, label: string): Value {
    const n = sym.constValue(e);
    if (n !== undefined) return Value.constant(scope, 'i32', n);
    return new Value(scope, 'i32', kernelExprOf(e), undefined, [e, e], label);
  }

  /** The shape expression this value equals, when it is one (a size, or arithmetic on sizes). */
  get exact(): sym.SymLike | undefined {
    return this.range && sym.symEqual(this.range[0], this.range[1]) ? this.range[0] : undefined;
  }

  /** A constant of type `t` in `scope`. */
  static constant(scope: Scope, t: ScalarType, x: number): Value {
    if (t === 'i32' && !Number.isInteger(x)) scope.fail(`${x} is not an i32; write an integer or use f32`);
    const n = round(t, x);
    const range: Range | undefined = t === 'i32' ? [n, n] : undefined;
    return new Value(scope, t, scope.tracing ? cnst(t, n) : undefined, scope.tracing ? undefined : n, range);
  }

  /** `b` as a value of this one's type (a number converts; a value must already match). */
  private operand(op: string, b: Operand): Value {
    if (typeof b === 'number') return Value.constant(this.scope, this.t, b);
    if (b.t !== this.t)
      this.scope.fail(`${op} of ${this.t} and ${b.t}: convert one side with .toF32() or .toI32()`);
    return b;
  }

  private arith(op: ArithOp, other: Operand): Value {
    const b = this.operand(op, other);
    if (op === 'pow' && this.t === 'i32') this.scope.fail('pow takes float values');
    const range = this.t === 'i32' ? rangeOf(op, this.range, b.range, this.scope) : undefined;
    if (!this.scope.tracing) {
      if (this.t === 'i32' && (op === 'div' || op === 'rem') && b.num === 0)
        this.scope.fail(`i32 ${op} by zero`);
      return new Value(
        this.scope,
        this.t,
        undefined,
        round(this.t, arith(op, this.t, this.num!, b.num!)),
        range,
      );
    }
    const dim = this.dim ?? b.dim;
    return new Value(this.scope, this.t, bin(op as BinOp, this.expr!, b.expr!), undefined, range, dim);
  }

  add(b: Operand): Value {
    return this.arith('add', b);
  }
  sub(b: Operand): Value {
    return this.arith('sub', b);
  }
  mul(b: Operand): Value {
    return this.arith('mul', b);
  }
  /** f32: division; i32: truncating division */
  div(b: Operand): Value {
    return this.arith('div', b);
  }
  /** remainder with the sign of the dividend */
  rem(b: Operand): Value {
    return this.arith('rem', b);
  }
  min(b: Operand): Value {
    return this.arith('min', b);
  }
  max(b: Operand): Value {
    return this.arith('max', b);
  }
  pow(b: Operand): Value {
    return this.arith('pow', b);
  }
  neg(): Value {
    return unary('neg', this);
  }

  private compare(op: keyof typeof COMPARE, other: Operand): Value {
    const b = this.operand(op, other);
    if (!this.scope.tracing)
      return new Value(this.scope, 'i32', undefined, COMPARE[op](this.num!, b.num!) ? 1 : 0, [0, 1]);
    return new Value(this.scope, 'i32', cmp(op, this.expr!, b.expr!), undefined, [0, 1]);
  }

  /** comparisons give an i32 0 or 1, for `select` and `k.if` */
  eq(b: Operand): Value {
    return this.compare('eq', b);
  }
  ne(b: Operand): Value {
    return this.compare('ne', b);
  }
  lt(b: Operand): Value {
    return this.compare('lt', b);
  }
  le(b: Operand): Value {
    return this.compare('le', b);
  }
  gt(b: Operand): Value {
    return this.compare('gt', b);
  }
  ge(b: Operand): Value {
    return this.compare('ge', b);
  }

  /** i32 → f32 (exact below 2^24) */
  toF32(): Value {
    if (this.t === 'f32') return this;
    if (!this.scope.tracing) return new Value(this.scope, 'f32', undefined, Math.fround(this.num!));
    return new Value(this.scope, 'f32', cast('f32', this.expr!), undefined);
  }

  /** f32 → i32, truncating toward zero (saturating) */
  toI32(): Value {
    if (this.t === 'i32') return this;
    if (!this.scope.tracing) {
      const x = this.num!;
      const n = Number.isNaN(x) ? 0 : Math.min(I32_MAX, Math.max(I32_MIN, Math.trunc(x)));
      return new Value(this.scope, 'i32', undefined, n);
    }
    return new Value(this.scope, 'i32', cast('i32', this.expr!), undefined);
  }

  /**
   * A kernel value is not a JavaScript number or boolean: `if (x > 0)` cannot be traced. A size known
   * only at run time prints as its expression in a string (`${x.shape}` in a message).
   */
  [Symbol.toPrimitive](hint: string): string {
    const exact = this.exact;
    if (hint === 'string' && this.dim && exact !== undefined) return sym.symText(exact);
    if (this.dim) {
      const what = exact === undefined ? `a value computed from ${this.dim}` : this.dim;
      const b = exact === undefined ? undefined : this.scope.bounds(exact);
      const known = b ? ` (${sym.symText(exact!)}: ${b.min}..${b.max})` : '';
      this.scope.fail(
        `${what} is known only at run time${known} but was used as a JavaScript number or boolean (%, <, ?:, if...): this kernel needs it static there — fix it with --shape — or compute with the value methods (.rem(), .lt()...) and k.if()`,
      );
    }
    this.scope.fail(
      'a kernel value was used as a JavaScript number or boolean (if, ?:, <, +, template string...); use k.if(), select() and the value methods (.lt(), .add()...)',
    );
  }
}

type FloatFn = 'exp' | 'log' | 'sqrt' | 'tanh' | 'erf' | 'sin' | 'cos' | 'floor' | 'ceil';
const FLOAT_ONLY: Record<FloatFn, (x: number) => number> = {
  exp: FLOAT_MATH.exp,
  log: FLOAT_MATH.log,
  sqrt: Math.sqrt,
  tanh: FLOAT_MATH.tanh,
  erf: FLOAT_MATH.erf,
  sin: FLOAT_MATH.sin,
  cos: FLOAT_MATH.cos,
  floor: Math.floor,
  ceil: Math.ceil,
};

/** The bounds of -x or |x|. */
function unaryRange(op: 'neg' | 'abs', r: Range, scope: Scope): Range | undefined {
  const [lo, hi] = r.map(sym.constValue);
  if (lo !== undefined && hi !== undefined)
    return op === 'neg'
      ? [-hi, -lo]
      : [lo >= 0 ? lo : hi <= 0 ? -hi : 0, Math.max(Math.abs(lo), Math.abs(hi))];
  if (op === 'abs') return scope.bounds(r[0]).min >= 0 ? r : undefined;
  return [canonical(sym.sub(0, r[1])), canonical(sym.sub(0, r[0]))];
}

function unary(op: FloatFn | 'neg' | 'abs', a: Value): Value {
  if (op !== 'neg' && op !== 'abs' && a.t === 'i32') a.scope.fail(`${op} takes a float value, got ${a.t}`);
  const range =
    a.t === 'i32' && a.range ? unaryRange(op === 'neg' ? 'neg' : 'abs', a.range, a.scope) : undefined;
  if (a.scope.tracing) return new Value(a.scope, a.t, un(op as UnOp, a.expr!), undefined, range);
  const x = a.num!;
  const y = op === 'neg' ? -x : op === 'abs' ? Math.abs(x) : FLOAT_ONLY[op](x);
  return new Value(a.scope, a.t, undefined, round(a.t, y), range);
}

export const exp = (x: Value) => unary('exp', x);
export const log = (x: Value) => unary('log', x);
export const sqrt = (x: Value) => unary('sqrt', x);
export const tanh = (x: Value) => unary('tanh', x);
export const erf = (x: Value) => unary('erf', x);
export const sin = (x: Value) => unary('sin', x);
export const cos = (x: Value) => unary('cos', x);
export const floor = (x: Value) => unary('floor', x);
export const ceil = (x: Value) => unary('ceil', x);
export const abs = (x: Value) => unary('abs', x);
/** 1 / (1 + e^-x) */
export const sigmoid = (x: Value) =>
  Value.constant(x.scope, x.t, 1).div(Value.constant(x.scope, x.t, 1).add(exp(x.neg())));
/** 1 / √x */
export const rsqrt = (x: Value) => Value.constant(x.scope, x.t, 1).div(sqrt(x));
/** min(a, b); a number takes the other operand's type */
export const min = (a: Operand, b: Operand) => valueOf(a, b).min(b);
/** max(a, b); a number takes the other operand's type */
export const max = (a: Operand, b: Operand) => valueOf(a, b).max(b);

/** `a` as a value: a number takes the type of `other`, which must then be a value. */
function valueOf(a: Operand, other: Operand): Value {
  if (typeof a !== 'number') return a;
  if (typeof other === 'number')
    throw new TypeError('min/max of two numbers: make one a value (k.f32(), k.i32())');
  return Value.constant(other.scope, other.t, a);
}

/** cond (an i32, nonzero = true) ? a : b; both sides are computed. */
export function select(cond: Value, a: Operand, b: Operand): Value {
  const scope = cond.scope;
  if (cond.t !== 'i32')
    scope.fail(`select's condition is ${cond.t}; compare values (.lt(), .gt()...) to get one`);
  const [x, y] =
    typeof a === 'number' && typeof b === 'number'
      ? [Value.constant(scope, 'f32', a), Value.constant(scope, 'f32', b)]
      : typeof a === 'number'
        ? [Value.constant(scope, (b as Value).t, a), b as Value]
        : [a, typeof b === 'number' ? Value.constant(scope, a.t, b) : b];
  if (x.t !== y.t) scope.fail(`select of ${x.t} and ${y.t}: convert one side with .toF32() or .toI32()`);
  const range: Range | undefined =
    x.range && y.range
      ? [canonical(sym.min(x.range[0], y.range[0])), canonical(sym.max(x.range[1], y.range[1]))]
      : undefined;
  if (!scope.tracing) return new Value(scope, x.t, undefined, cond.num !== 0 ? x.num : y.num, range);
  return new Value(scope, x.t, selectExpr(cond.expr!, x.expr!, y.expr!), undefined, range);
}
