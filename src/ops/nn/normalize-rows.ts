/**
 * The kernel shared by InstanceNormalization, LayerNormalization and GroupNormalization: for every
 * contiguous row of X, mean and then (population) variance as Σ(x − mean)²/n, summed in f64 or (for
 * LayerNormalization's rows of a hidden size) in f32, where both sums are f32x4 loops in wasm; then
 * y = (x − mean)·invStd, mapped through an affine step (scale and bias indexed by the row and column
 * indices).
 */
import type { BufRef, Expr, Scalar, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  cast,
  div,
  f32,
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
  /** the type the mean and variance are summed in (f32: vectorized, two passes as onnxruntime's one) */
  sums: 'f32' | 'f64';
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
    const s = n.sums;
    const c = (value: number) => (s === 'f64' ? f64(value) : f32(value));
    const x = (colIdx: Expr[]): Expr => loadAs(s, n.X, add(base, linearIndex(colIdx, colStrides)));
    const mean = v('mean', s);
    const meanOf = forEachIndex(n.row, 'a', (col) => [set('sum', add(v('sum', s), x(col)))]);
    // f32: one statement, (x − mean)² written out, so the loop is a reduction the vectorizer takes
    const varOf = forEachIndex(n.row, 'b', (col) =>
      s === 'f32'
        ? [set('sq', add(v('sq', s), mul(sub(x(col), mean), sub(x(col), mean))))]
        : [local('dev', s, sub(x(col), mean)), set('sq', add(v('sq', s), mul(v('dev', s), v('dev', s))))],
    );
    const write = forEachIndex(n.row, 'c', (col) => {
      const xt = loadAs(t, n.X, add(base, linearIndex(col, colStrides)));
      const normalized = mul(sub(xt, cast(t, mean)), cast(t, v('inv', s)));
      return [store(n.Y, add(base, linearIndex(col, colStrides)), n.affine(normalized, rowIdx, col))];
    });
    return [
      local('sum', s, c(0)),
      ...meanOf,
      local('mean', s, div(v('sum', s), c(len))),
      local('sq', s, c(0)),
      ...varOf,
      local('inv', s, div(c(1), un('sqrt', add(div(v('sq', s), c(len)), c(n.epsilon))))),
      ...write,
      ...(n.mean ? [store(n.mean, rowLinear, cast(scalarOf(n.mean.dtype), mean))] : []),
      ...(n.invStdDev ? [store(n.invStdDev, rowLinear, cast(scalarOf(n.invStdDev.dtype), v('inv', s)))] : []),
    ];
  });
}
