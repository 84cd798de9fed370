/**
 * Softmax, LogSoftmax, Hardmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1) and
 * normalized over all trailing dims; from 13 over the single `axis` (default -1).
 */
import type { TensorType } from '../../ir/graph.js';
import type { BufRef, Expr, Extent, Kernel, Scalar, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  cmp,
  div,
  i32,
  load,
  local,
  loop,
  max,
  min,
  mul,
  parallelLoop,
  select,
  set,
  store,
  sub,
  un,
  v,
  when,
} from '../../kernels/build.js';
import { OpError, attrInt, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { FLOATS, typedInput } from '../elementwise/common.js';
import { k } from '../elementwise/scalar.js';
import { splitAt, splitIndex, type AxisSplit, type ExtentSplit } from './axis.js';

export type Variant = 'softmax' | 'logsoftmax' | 'hardmax';

function softmaxTypes(ctx: OpContext, coerce2d: boolean): { x: TensorType; split: AxisSplit } {
  const x = typedInput(ctx, 0, FLOATS);
  const rank = x.shape.length;
  const axis = attrInt(ctx.node, 'axis', coerce2d ? 1 : -1);
  // Opset < 13 allows axis == rank (an empty trailing block) and a 0-d input coerces to [1, 1].
  const lo = coerce2d ? -rank : -Math.max(rank, 1);
  const hi = coerce2d ? rank : Math.max(rank, 1) - 1;
  if (axis < lo || axis > hi)
    throw new OpError(ctx.node, ctx.opset, `axis ${axis} out of range for rank ${rank}`);
  const a = axis < 0 ? axis + rank : axis;
  const split = rank === 0 ? { outer: 1, d: 1, inner: 1 } : splitAt(x.shape, a, coerce2d);
  return { x, split };
}

/**
 * Softmax's terms e^d (d = x − max ≤ 0) below e^FLUSH_BELOW are 0: they are under 2^-92 of the row's largest
 * term (1), so far below a float32 ulp of the sum that dropping them changes no sum, and only outputs under
 * 1e-28 differ (0 instead). e^d is computed at max(d, FLUSH_BELOW) so that no lane's exp or later product
 * underflows into a subnormal: x86 takes a microcode assist (~100 cycles) for each such result, and a row with
 * masked positions (an attention mask adds −10000) or spread-out scores is full of them.
 */
const FLUSH_BELOW = -64;

/**
 * The argument is also clamped at 0, which d = x − max never exceeds: with both bounds constant, the wasm
 * vectorizer computes e^d by its bounded exp (one scale factor, no clamp inside; vectorize.ts).
 */
function flushedExp(d: Expr, t: Scalar): Expr {
  const clamped = min(max(d, k(t, FLUSH_BELOW)), k(t, 0));
  return select(cmp('lt', d, k(t, FLUSH_BELOW)), k(t, 0), un('exp', clamped));
}

/**
 * One row of Softmax, three passes as onnxruntime's: the max of the row's inputs `x(r)` (m < x ? x : m, which
 * the wasm vectorizer renders as one f32x4.pmax: a NaN input it passes over still makes its row NaN through
 * the sum, as onnxruntime's); exp once per
 * element, stored and summed in one loop (the wasm vectorizer keeps the stored vector for the sum); y scaled
 * in place by 1/sum. `x` may compute the input (fused-softmax.ts: attention's scale and mask) rather than
 * load it; `at(r)` is the element's index in `y`. Its locals are declared in the row (see `rowKernel`).
 */
export function softmaxRow(
  t: Scalar,
  d: Extent,
  x: (r: string) => Expr,
  y: BufRef,
  at: (r: string) => Expr,
): Stmt[] {
  const [m, sum] = [v('m', t), v('s', t)];
  return [
    local('m', t, k(t, -Infinity)),
    loop('r1', d, [set('m', select(cmp('lt', m, x('r1')), x('r1'), m))]),
    local('s', t, k(t, 0)),
    loop('r2', d, [
      store(y, at('r2'), flushedExp(sub(x('r2'), m), t)),
      set('s', add(sum, load(y, at('r2')))),
    ]),
    local('inv', t, div(k(t, 1), sum)),
    loop('r3', d, [store(y, at('r3'), mul(load(y, at('r3')), v('inv', t)))]),
  ];
}

/**
 * Per (outer, inner) row: max, then Σ exp(x - max), then the variant's output. The rows share nothing
 * (both loops declared parallel, a row walked sequentially inside). The extents may be known only at run
 * time (a Softmax over a symbolic axis).
 */
export function rowKernel(name: string, variant: Variant, x: BufRef, y: BufRef, s: ExtentSplit): Kernel {
  const t: Scalar = scalarOf(x.dtype);
  const [o, i] = [v('o'), v('i')];
  const at = (r: string) => splitIndex(s, o, v(r), i);
  const xr = (r: string) => load(x, at(r));
  const m = v('m', t);
  const sum = v('s', t);
  let row: Stmt[];
  if (variant === 'hardmax') {
    // First index of the maximum gets 1; a strict > keeps the first occurrence.
    row = [
      local('m', t, k(t, -Infinity)),
      local('best', 'i32', i32(0)),
      loop('r1', s.d, [when(cmp('gt', xr('r1'), m), [set('m', xr('r1')), set('best', v('r1'))])]),
      loop('r2', s.d, [store(y, at('r2'), select(cmp('eq', v('r2'), v('best')), k(t, 1), k(t, 0)))]),
    ];
  } else if (variant === 'softmax') {
    row = softmaxRow(t, s.d, xr, y, at);
  } else {
    row = [
      local('m', t, k(t, -Infinity)),
      loop('r1', s.d, [set('m', max(m, xr('r1')))]),
      local('s', t, k(t, 0)),
      loop('r2', s.d, [set('s', add(sum, un('exp', sub(xr('r2'), m))))]),
      loop('r3', s.d, [store(y, at('r3'), sub(sub(xr('r3'), m), un('log', sum)))]),
    ];
  }
  // the row's locals are declared in it, so that the wasm generator may split the row loops into chunk
  // functions (chunks.ts: a loop that sets a local declared outside it stays in the kernel's function)
  return { name, body: [parallelLoop('o', s.outer, [parallelLoop('i', s.inner, row)])] };
}

function softmaxOp(variant: Variant, sinceVersion: number): OpDef {
  const coerce2d = sinceVersion < 13;
  return {
    sinceVersion,
    infer: (ctx) => [softmaxTypes(ctx, coerce2d).x],
    lower(ctx: OpContext, io: LowerIO): Kernel[] {
      const { split } = softmaxTypes(ctx, coerce2d);
      return [rowKernel(ctx.node.name, variant, io.inputs[0]!, io.outputs[0], split)];
    },
  };
}

for (const [op, variant] of [
  ['Softmax', 'softmax'],
  ['LogSoftmax', 'logsoftmax'],
  ['Hardmax', 'hardmax'],
] as const) {
  registerOp(op, softmaxOp(variant, 1));
  registerOp(op, softmaxOp(variant, 13));
}
