/**
 * Det: the determinant of each square matrix in the last two dims, by LU decomposition with partial
 * pivoting (as LAPACK getrf, which NumPy uses): the product of the pivots, negated once per row swap.
 */
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { Expr, Kernel, Scalar, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  cast,
  cmp,
  cnst,
  i32,
  load,
  local,
  loop,
  mul,
  set,
  store,
  sub,
  un,
  v,
  when,
} from '../../kernels/build.js';
import { registerOp, type LowerIO, type OpContext } from '../registry.js';
import { FLOAT_TYPES, fail, fmtShape, typedInput } from '../nn/common.js';

function infer(ctx: OpContext): TensorType[] {
  const x = typedInput(ctx, 0, 'X', FLOAT_TYPES);
  const r = x.shape.length;
  if (r < 2 || x.shape[r - 1] !== x.shape[r - 2])
    fail(ctx, `input 0 (X) has shape ${fmtShape(x.shape)}; expected [..., M, M] (square matrices)`);
  return [{ dtype: x.dtype, shape: x.shape.slice(0, -2) }];
}

function lower(ctx: OpContext, io: LowerIO): Kernel[] {
  const shape = ctx.inputs[0]!.shape;
  const n = shape[shape.length - 1];
  const batch = sizeOf(shape.slice(0, -2));
  const X = io.inputs[0]!;
  const Y = io.outputs[0];
  const t: Scalar = scalarOf(Y.dtype);
  // The decomposition overwrites its matrix, so it works on a copy in the compute precision.
  const A = io.scratch(t === 'f64' ? 'float64' : 'float32', n * n);
  const base = mul(v('b'), i32(n * n));
  const at = (row: Expr, col: Expr): Expr => add(mul(row, i32(n)), col);
  const a = (row: Expr, col: Expr): Expr => load(A, at(row, col));
  const [k, i, j] = [v('k'), v('i'), v('j')];
  const zero = cnst(t, 0);

  const pivotSearch: Stmt[] = [
    local('piv', 'i32', k),
    local('best', t, un('abs', a(k, k))),
    loop('i', n, [
      when(cmp('gt', i, k), [
        local('cand', t, un('abs', a(i, k))),
        when(cmp('gt', v('cand', t), v('best', t)), [set('piv', i), set('best', v('cand', t))]),
      ]),
    ]),
  ];
  const swapRows: Stmt = when(cmp('ne', v('piv'), k), [
    loop('j', n, [
      local('tmp', t, a(k, j)),
      store(A, at(k, j), a(v('piv'), j)),
      store(A, at(v('piv'), j), v('tmp', t)),
    ]),
    set('det', un('neg', v('det', t))),
  ]);
  // Rows below k lose their column-k entries; columns ≤ k are never read again, so they stay as they are.
  const eliminate: Stmt = when(cmp('ne', v('pivot', t), zero), [
    loop('r', n, [
      when(cmp('gt', v('r'), k), [
        local('f', t, { k: 'bin', t, op: 'div', a: a(v('r'), k), b: v('pivot', t) }),
        loop('c', n, [
          when(cmp('gt', v('c'), k), [
            store(A, at(v('r'), v('c')), sub(a(v('r'), v('c')), mul(v('f', t), a(k, v('c'))))),
          ]),
        ]),
      ]),
    ]),
  ]);
  const body: Stmt[] = [
    loop('b', batch, [
      loop('e', n * n, [store(A, v('e'), cast(t, load(X, add(base, v('e')))))]),
      local('det', t, cnst(t, 1)),
      loop('k', n, [
        ...pivotSearch,
        swapRows,
        local('pivot', t, a(k, k)),
        set('det', mul(v('det', t), v('pivot', t))),
        eliminate,
      ]),
      store(Y, v('b'), v('det', t)),
    ]),
  ];
  return [{ name: ctx.node.name, body }];
}

registerOp('Det', { sinceVersion: 11, infer, lower });
