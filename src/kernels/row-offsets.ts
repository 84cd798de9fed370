/**
 * Moving a kernel built for a few rows of its buffers to any row: every access to a row buffer is
 * shifted by `base` rows (index + base·rowLength), the buffer reference replaced by the whole buffer's.
 * Used to run an op over rows counted at run time (compiler/lower-rows.ts); other buffers are untouched.
 */
import type { BufRef, Expr, MatView, Stmt } from './ir.js';
import { add, i32, mul } from './build.js';

export interface RowBuffer {
  /** the whole buffer (its length at the bounds) */
  buf: BufRef;
  /** elements per row */
  rowLength: number;
}

/** `body` with every access to a buffer of `rows` (by id) shifted by `base` rows. */
export function shiftRows(body: Stmt[], rows: ReadonlyMap<number, RowBuffer>, base: Expr): Stmt[] {
  const at = (id: number, index: Expr): { buf: BufRef; index: Expr } | undefined => {
    const row = rows.get(id);
    if (!row) return undefined;
    const shift = row.rowLength === 1 ? base : mul(base, i32(row.rowLength));
    return { buf: row.buf, index: add(index, shift) };
  };
  const expr = (e: Expr): Expr => {
    switch (e.k) {
      case 'load': {
        const index = expr(e.index);
        const moved = at(e.buf.id, index);
        return moved ? { ...e, ...moved } : { ...e, index };
      }
      case 'bin':
      case 'cmp':
        return { ...e, a: expr(e.a), b: expr(e.b) };
      case 'un':
      case 'cast':
        return { ...e, a: expr(e.a) };
      case 'select':
        return { ...e, cond: expr(e.cond), a: expr(e.a), b: expr(e.b) };
      default:
        return e;
    }
  };
  const view = (v: MatView): MatView => {
    const offset = expr(v.offset);
    const moved = at(v.buf.id, offset);
    return moved ? { ...v, buf: moved.buf, offset: moved.index } : { ...v, offset };
  };
  const stmt = (s: Stmt): Stmt => {
    switch (s.k) {
      case 'loop':
        return { ...s, n: typeof s.n === 'number' ? s.n : expr(s.n), body: s.body.map(stmt) };
      case 'local':
        return { ...s, init: expr(s.init) };
      case 'set':
        return { ...s, value: expr(s.value) };
      case 'store': {
        const index = expr(s.index);
        const moved = at(s.buf.id, index);
        return { ...s, ...(moved ?? { index }), value: expr(s.value) };
      }
      case 'if':
        return {
          ...s,
          cond: expr(s.cond),
          then: s.then.map(stmt),
          ...(s.else && { else: s.else.map(stmt) }),
        };
      case 'gemm':
        return {
          ...s,
          a: view(s.a),
          b: view(s.b),
          c: view(s.c),
          ...(s.bias && { bias: view(s.bias) }),
          ...(s.residual && { residual: view(s.residual) }),
        };
    }
  };
  return body.map(stmt);
}
