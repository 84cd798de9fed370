/**
 * The kernel shared by InstanceNormalization, LayerNormalization and GroupNormalization: for every
 * contiguous row of X, mean and (population) variance in f64, then y = (x − mean)·invStd, mapped
 * through an affine step (scale and bias indexed by the row and column indices).
 */
import type { BufRef, Expr, Scalar, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  cast,
  div,
  f64,
  forEachIndex,
  i32,
  linearIndex,
  local,
  mul,
  set,
  store,
  stridesOf,
  sub,
  un,
  v,
} from '../../kernels/build.js';
import { sizeOf } from '../../ir/tensor.js';
import { loadAs } from './common.js';

export interface RowNormalization {
  X: BufRef;
  Y: BufRef;
  /** shape of the row grid (outer dims), and of one row (inner dims, contiguous) */
  rows: number[];
  row: number[];
  epsilon: number;
  /** y from the normalized value, given row and column indices, in the compute type of Y */
  affine: (normalized: Expr, rowIdx: Expr[], colIdx: Expr[]) => Expr;
  /** optional per-row outputs */
  mean?: BufRef;
  invStdDev?: BufRef;
}

export function normalizeRows(n: RowNormalization): Stmt[] {
  const t: Scalar = scalarOf(n.Y.dtype);
  const len = sizeOf(n.row);
  const colStrides = stridesOf(n.row);
  return forEachIndex(n.rows, 'r', (rowIdx) => {
    const rowLinear = linearIndex(rowIdx, stridesOf(n.rows));
    const base = mul(rowLinear, i32(len));
    const x = (colIdx: Expr[]): Expr => loadAs('f64', n.X, add(base, linearIndex(colIdx, colStrides)));
    const meanOf = forEachIndex(n.row, 'a', (c) => [set('sum', add(v('sum', 'f64'), x(c)))]);
    const varOf = forEachIndex(n.row, 'b', (c) => [
      local('dev', 'f64', sub(x(c), v('mean', 'f64'))),
      set('sq', add(v('sq', 'f64'), mul(v('dev', 'f64'), v('dev', 'f64')))),
    ]);
    const write = forEachIndex(n.row, 'c', (c) => {
      const xt = loadAs(t, n.X, add(base, linearIndex(c, colStrides)));
      const normalized = mul(sub(xt, cast(t, v('mean', 'f64'))), cast(t, v('inv', 'f64')));
      return [store(n.Y, add(base, linearIndex(c, colStrides)), n.affine(normalized, rowIdx, c))];
    });
    return [
      local('sum', 'f64', f64(0)),
      ...meanOf,
      local('mean', 'f64', div(v('sum', 'f64'), f64(len))),
      local('sq', 'f64', f64(0)),
      ...varOf,
      local('inv', 'f64', div(f64(1), un('sqrt', add(div(v('sq', 'f64'), f64(len)), f64(n.epsilon))))),
      ...write,
      ...(n.mean ? [store(n.mean, rowLinear, cast(scalarOf(n.mean.dtype), v('mean', 'f64')))] : []),
      ...(n.invStdDev
        ? [store(n.invStdDev, rowLinear, cast(scalarOf(n.invStdDev.dtype), v('inv', 'f64')))]
        : []),
    ];
  });
}
