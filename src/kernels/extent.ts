/**
 * Loop extents known only at run time: Kernel IR shape expressions (i32 arithmetic over constants and
 * `dim`s) read as symbolic shape expressions, so their bounds come from the shape symbols' declared
 * ranges. The verifier, the code generators' loop analyses and the flop count ask here.
 */
import * as sym from '../ir/symbolic.js';
import type { Expr, Extent, ShapeSymbol } from './ir.js';
import { add, bin, cast, dim, f64, i32, mul } from './build.js';

export type SymbolRanges = Readonly<Record<string, sym.Range>>;

export function rangesOf(symbols: readonly ShapeSymbol[]): SymbolRanges {
  return Object.fromEntries(symbols.map((s) => [s.name, { min: s.min, max: s.max }]));
}

/**
 * `e` as a symbolic shape expression, or a reason why it is none. Kernel IR's div and rem truncate, so
 * they read as floor division and modulo only where the dividend cannot be negative and the divisor is
 * positive (what sizes are).
 */
export function shapeExprOf(e: Expr, ranges: SymbolRanges): sym.SymExpr | string {
  if (e.t !== 'i32') return `a shape expression is i32, not ${e.t}`;
  switch (e.k) {
    case 'const':
      return sym.constant(Number(e.v));
    case 'dim':
      if (!ranges[e.name]) return `shape symbol '${e.name}' is not declared`;
      return sym.sym(e.name);
    case 'bin': {
      const a = shapeExprOf(e.a, ranges);
      if (typeof a === 'string') return a;
      const b = shapeExprOf(e.b, ranges);
      if (typeof b === 'string') return b;
      switch (e.op) {
        case 'add':
          return sym.add(a, b);
        case 'sub':
          return sym.sub(a, b);
        case 'mul':
          return sym.mul(a, b);
        case 'min':
          return sym.min(a, b);
        case 'max':
          return sym.max(a, b);
        case 'div':
        case 'rem':
          if (sym.bounds(a, ranges).min < 0 || sym.bounds(b, ranges).min < 1)
            return `${e.op} of ${a.key} by ${b.key} may see a negative dividend or a divisor < 1`;
          return e.op === 'div' ? sym.floorDiv(a, b) : sym.mod(a, b);
        default:
          return `${e.op} is not shape arithmetic`;
      }
    }
    default:
      return `a shape expression holds constants, dims and add/sub/mul/div/rem/min/max, not ${e.k}`;
  }
}

/** The least and greatest trip counts of a loop extent (a verified one: see verifyKernel). */
export function extentRange(n: Extent, ranges: SymbolRanges): sym.Range {
  if (typeof n === 'number') return { min: Math.max(0, n), max: Math.max(0, n) };
  const e = shapeExprOf(n, ranges);
  if (typeof e === 'string') throw new Error(`loop extent: ${e}`);
  const r = sym.bounds(e, ranges);
  return { min: Math.max(0, r.min), max: Math.max(0, r.max) };
}

/** A loop extent or row stride as an i32 expression. */
export const extentExpr = (n: Extent): Expr => (typeof n === 'number' ? i32(n) : n);

/** A symbolic shape expression as Kernel IR (i32; its floor division and modulo see non-negative sizes). */
export function kernelExprOf(e: sym.SymLike): Expr {
  const x = typeof e === 'number' ? sym.constant(e) : e;
  const atom = (a: sym.Atom): Expr => {
    switch (a.k) {
      case 'sym':
        return dim(a.name);
      case 'floordiv':
        return bin('div', kernelExprOf(a.a), kernelExprOf(a.b));
      case 'mod':
        return bin('rem', kernelExprOf(a.a), kernelExprOf(a.b));
      case 'min':
      case 'max':
        return a.args.map(kernelExprOf).reduce((p, q) => bin(a.k, p, q));
    }
  };
  const terms = x.terms.map((t) => {
    const product = t.atoms.map(atom).reduce((p, q) => bin('mul', p, q));
    return t.coef === 1 ? product : bin('mul', product, i32(t.coef));
  });
  const sum = terms.reduce<Expr | undefined>((p, q) => (p ? bin('add', p, q) : q), undefined);
  if (!sum) return i32(x.c);
  return x.c === 0 ? sum : bin('add', sum, i32(x.c));
}

/** A loop extent as an i32 expression. */
export const extentI32 = (n: Extent): Expr => (typeof n === 'number' ? i32(n) : n);

/** A loop extent as an f64 expression. */
export const extentF64 = (n: Extent): Expr => (typeof n === 'number' ? f64(n) : cast('f64', n));

/** A shape expression as a loop extent: a number where it is constant. */
export const extentOf = (e: sym.SymLike): Extent => sym.constValue(e) ?? kernelExprOf(e);

/** Row-major strides of a shape, as expressions. */
export function strides(shape: readonly sym.SymLike[]): sym.SymLike[] {
  const out: sym.SymLike[] = [];
  let acc: sym.SymLike = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = acc;
    acc = sym.mul(acc, shape[i]);
  }
  return out;
}

/** Strides that read `shape` broadcast (right-aligned) to an output of rank `rank`: 0 where a dim is 1. */
export function broadcastStrides(shape: readonly sym.SymLike[], rank: number): sym.SymLike[] {
  const own = strides(shape);
  return Array.from({ length: rank }, (_, i) => {
    const j = i - (rank - shape.length);
    return j < 0 || sym.constValue(shape[j]) === 1 ? 0 : own[j];
  });
}

/** Σ idx[i]·strides[i], zero strides skipped. */
export function indexOf(idx: readonly Expr[], st: readonly sym.SymLike[]): Expr {
  let e: Expr | undefined;
  idx.forEach((x, i) => {
    const s = sym.constValue(st[i]);
    if (s === 0) return;
    const term = s === 1 ? x : mul(x, s === undefined ? kernelExprOf(st[i]) : i32(s));
    e = e ? add(e, term) : term;
  });
  return e ?? i32(0);
}
