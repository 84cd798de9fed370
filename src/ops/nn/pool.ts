/**
 * MaxPool (with optional Indices), AveragePool and LpPool: window loops with bounds checks for padding;
 * float32 2-D MaxPool (without Indices) and AveragePool go through window-runs.ts instead (no checks,
 * interior vectorized).
 */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { BufRef, Expr, Kernel, Scalar, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  cast,
  cmp,
  cnst,
  div,
  f32,
  forEachIndex,
  i32,
  linearIndex,
  load,
  local,
  loop,
  max,
  mul,
  set,
  store,
  stridesOf,
  un,
  v,
  when,
} from '../../kernels/build.js';
import {
  attrFloat,
  attrInt,
  attrInts,
  registerOp,
  type LowerIO,
  type OpContext,
  type OpDef,
} from '../registry.js';
import {
  FLOAT_TYPES,
  allOf,
  fail,
  fmtShape,
  inRange,
  loadAs,
  lowestValue,
  requireMinRank,
  typedInput,
  wantsOutput,
} from './common.js';
import { forwardWindow, insideInput, tapCoord, type Window } from './window.js';
import { windowPlane2d, windowRunsFit, type WindowOutput } from './window-runs.js';

export interface PoolGeometry {
  /** N·C: pools treat batch and channel alike */
  planes: number;
  outer: number[];
  inSpatial: number[];
  window: Window;
}

function poolGeometry(ctx: OpContext, allowed: readonly DType[], hasCeil: boolean): PoolGeometry {
  const x = typedInput(ctx, 0, 'X', allowed);
  requireMinRank(ctx, x, 3, 'X');
  const [N, C, ...inSpatial] = x.shape;
  const kernel = attrInts(ctx.node, 'kernel_shape');
  if (kernel.length !== inSpatial.length)
    fail(
      ctx,
      `kernel_shape ${fmtShape(kernel)} has ${kernel.length} dims; X ${fmtShape(x.shape)} has ${inSpatial.length} spatial dims`,
    );
  if (kernel.some((k) => k < 1)) fail(ctx, `kernel_shape ${fmtShape(kernel)} must be positive`);
  const ceil = hasCeil && attrInt(ctx.node, 'ceil_mode', 0) !== 0;
  return { planes: N * C, outer: [N, C], inSpatial, window: forwardWindow(ctx, inSpatial, kernel, ceil) };
}

/**
 * One kernel visiting every output element of every plane; `reduce` gets the plane and output
 * indices and returns the statements that compute and store it.
 */
function perOutput(g: PoolGeometry, reduce: (p: Expr, o: Expr[], yi: Expr) => Stmt[]): Stmt[] {
  return forEachIndex([g.planes, ...g.window.out], 'y', (idx) => {
    const [p, ...o] = idx;
    return reduce(p, o, linearIndex(idx, stridesOf([g.planes, ...g.window.out])));
  });
}

/** Window taps of output `o`: calls `visit` with the input coordinates and the in-bounds condition. */
function taps(
  g: PoolGeometry,
  o: Expr[],
  visit: (coords: Expr[], inside: Expr | undefined) => Stmt[],
): Stmt[] {
  return forEachIndex(g.window.kernel, 'k', (k) => {
    const coords = o.map((od, d) => tapCoord(g.window, d, od, k[d]));
    return visit(coords, insideInput(g.window, coords, g.inSpatial));
  });
}

const guarded = (cond: Expr | undefined, body: Stmt[]): Stmt[] => (cond ? [when(cond, body)] : body);

const inputIndex = (g: PoolGeometry, p: Expr, coords: Expr[]): Expr =>
  add(mul(p, i32(sizeOf(g.inSpatial))), linearIndex(coords, stridesOf(g.inSpatial)));

// ---- MaxPool -------------------------------------------------------------------------------------

const MAXPOOL_TYPES: readonly DType[] = ['float16', 'float32', 'float64', 'int8', 'uint8'];

export function maxPoolGeometry(ctx: OpContext): PoolGeometry {
  const g = poolGeometry(ctx, ctx.opset >= 12 ? MAXPOOL_TYPES : FLOAT_TYPES, ctx.opset >= 10);
  const order = attrInt(ctx.node, 'storage_order', 0);
  if (order !== 0 && order !== 1)
    fail(ctx, `storage_order ${order} must be 0 (row major) or 1 (column major)`);
  return g;
}

function maxPoolInfer(ctx: OpContext): TensorType[] {
  const g = maxPoolGeometry(ctx);
  const shape = [...g.outer, ...g.window.out];
  const types: TensorType[] = [{ dtype: ctx.inputs[0]!.dtype, shape }];
  if (ctx.node.outputs.length > 1) types.push({ dtype: 'int64', shape });
  return types;
}

/** Flat index of an input element as the Indices output reports it (spatial part row- or column-major). */
function argIndex(g: PoolGeometry, p: Expr, coords: Expr[], columnMajor: boolean): Expr {
  if (!columnMajor) return inputIndex(g, p, coords);
  const strides: number[] = [];
  let acc = 1;
  for (const d of g.inSpatial) {
    strides.push(acc);
    acc *= d;
  }
  return add(mul(p, i32(sizeOf(g.inSpatial))), linearIndex(coords, strides));
}

/**
 * Per plane, the 2-D window as window-runs.ts lays it out (no bounds checks, interior vectorized, no scalar
 * tail columns); each output is `value` of the taps inside the input.
 */
function planeRuns(
  g: PoolGeometry,
  X: BufRef,
  Y: BufRef,
  value: (o: WindowOutput, x: Expr[]) => Expr,
): Stmt[] {
  const [H, W] = g.inSpatial;
  const [OH, OW] = g.window.out;
  // one nest per row run, counters named per run (see windowPlane2d)
  const p = (run: number) => v(`p${run}`);
  const xPlane = (run: number) => [mul(p(run), i32(H * W))];
  const yPlane = (run: number) => [mul(p(run), i32(OH * OW))];
  const tapsOf = (o: WindowOutput) => {
    const x: Expr[] = [];
    for (let i = o.rows.taps[0]; i < o.rows.taps[1]; i++)
      for (let j = o.cols.taps[0]; j < o.cols.taps[1]; j++) x.push(load(X, o.at(i, j)));
    return value(o, x);
  };
  const runs = windowPlane2d(
    g.window,
    g.inSpatial,
    xPlane,
    Y,
    yPlane,
    tapsOf,
    undefined,
    undefined,
    'overlapping',
  );
  return runs.map((body, run) => loop(`p${run}`, g.planes, body));
}

/**
 * The max of a window's taps (float32 or another MaxPool dtype), the lowest value for a window without
 * any: max, not the loops' `x > best` select (that would name `best` twice per tap): a NaN in the window
 * gives NaN, as ONNX's reference MaxPool (numpy max) does.
 */
export const maxOfTaps = (xs: Expr[], dtype: DType): Expr =>
  xs.length ? xs.slice(1).reduce((best, x) => max(best, x), xs[0]) : lowestValue(dtype);

const runsFit = (g: PoolGeometry, X: BufRef) =>
  X.dtype === 'float32' && g.inSpatial.length === 2 && windowRunsFit(g.window, g.inSpatial);

function maxPoolLower(ctx: OpContext, io: LowerIO): Kernel[] {
  const g = maxPoolGeometry(ctx);
  const X = io.inputs[0]!;
  const [Y, I] = io.outputs;
  const withIndices = wantsOutput(ctx, 1) && I !== undefined;
  const columnMajor = attrInt(ctx.node, 'storage_order', 0) === 1;
  const t = scalarOf(X.dtype);
  if (runsFit(g, X) && !io.forGpu && !withIndices) {
    const body = planeRuns(g, X, Y, (_, xs) => maxOfTaps(xs, X.dtype));
    return [{ name: ctx.node.name, body }];
  }
  const body = perOutput(g, (p, o, yi) => [
    local('best', t, lowestValue(X.dtype)),
    ...(withIndices ? [local('arg', 'i32', i32(-1))] : []),
    ...taps(g, o, (coords, inside) =>
      guarded(inside, [
        local('x', t, loadAs(t, X, inputIndex(g, p, coords))),
        when(cmp('gt', v('x', t), v('best', t)), [
          set('best', v('x', t)),
          ...(withIndices ? [set('arg', argIndex(g, p, coords, columnMajor))] : []),
        ]),
      ]),
    ),
    store(Y, yi, v('best', t)),
    ...(withIndices ? [store(I, yi, cast('i64', v('arg')))] : []),
  ]);
  return [{ name: ctx.node.name, body }];
}

// ---- AveragePool ---------------------------------------------------------------------------------

function averagePoolGeometry(ctx: OpContext): PoolGeometry {
  return poolGeometry(ctx, FLOAT_TYPES, ctx.opset >= 10);
}

function averagePoolLower(ctx: OpContext, io: LowerIO): Kernel[] {
  const g = averagePoolGeometry(ctx);
  const X = io.inputs[0]!;
  const Y = io.outputs[0];
  const t = scalarOf(X.dtype);
  const includePad = attrInt(ctx.node, 'count_include_pad', 0) !== 0;
  const w = g.window;
  if (runsFit(g, X) && !io.forGpu) {
    const body = planeRuns(g, X, Y, ({ rows, cols }, xs) => {
      const count = includePad ? rows.padded * cols.padded : xs.length;
      return div(
        xs.reduce((acc, x) => add(acc, x), f32(0)),
        f32(count),
      );
    });
    return [{ name: ctx.node.name, body }];
  }
  const body = perOutput(g, (p, o, yi) => [
    local('sum', t, cnst(t, 0)),
    local('count', 'i32', i32(0)),
    ...taps(g, o, (coords, inside) => {
      const addX = set('sum', add(v('sum', t), loadAs(t, X, inputIndex(g, p, coords))));
      const countIt = set('count', add(v('count'), i32(1)));
      if (!includePad) return guarded(inside, [addX, countIt]);
      // Padded positions count, but not the part of a ceil_mode window beyond the end padding.
      const inPadded = allOf(
        coords.map((c, d) =>
          inRange(add(c, i32(w.padBegin[d])), g.inSpatial[d] + w.padBegin[d] + w.padEnd[d]),
        ),
      );
      return [...guarded(inside, [addX]), ...guarded(inPadded, [countIt])];
    }),
    store(Y, yi, div(v('sum', t), cast(t, v('count')))),
  ]);
  return [{ name: ctx.node.name, body }];
}

// ---- LpPool --------------------------------------------------------------------------------------

/** |x|^p and its inverse, specialised for the common p = 1 and p = 2. */
export function lpTerms(t: Scalar, p: number): { power: (x: Expr) => Expr; root: (s: Expr) => Expr } {
  if (p === 1) return { power: (x) => un('abs', x), root: (s) => s };
  if (p === 2) return { power: (x) => mul(x, x), root: (s) => un('sqrt', s) };
  return {
    power: (x) => ({ k: 'bin', t, op: 'pow', a: un('abs', x), b: cnst(t, p) }),
    root: (s) => ({ k: 'bin', t, op: 'pow', a: s, b: cnst(t, 1 / p) }),
  };
}

export function lpOrder(ctx: OpContext): number {
  const p = attrFloat(ctx.node, 'p', 2);
  if (!(p > 0)) fail(ctx, `p ${p} must be positive`);
  return p;
}

function lpPoolGeometry(ctx: OpContext): PoolGeometry {
  lpOrder(ctx);
  return poolGeometry(ctx, FLOAT_TYPES, ctx.opset >= 18);
}

function lpPoolLower(ctx: OpContext, io: LowerIO): Kernel[] {
  const g = lpPoolGeometry(ctx);
  const X = io.inputs[0]!;
  const Y = io.outputs[0];
  const t = scalarOf(X.dtype);
  const { power, root } = lpTerms(t, lpOrder(ctx));
  const body = perOutput(g, (p, o, yi) => [
    local('sum', t, cnst(t, 0)),
    ...taps(g, o, (coords, inside) =>
      guarded(inside, [set('sum', add(v('sum', t), power(loadAs(t, X, inputIndex(g, p, coords)))))]),
    ),
    store(Y, yi, root(v('sum', t))),
  ]);
  return [{ name: ctx.node.name, body }];
}

const sameTypeOut =
  (geometry: (ctx: OpContext) => PoolGeometry) =>
  (ctx: OpContext): TensorType[] => {
    const g = geometry(ctx);
    return [{ dtype: ctx.inputs[0]!.dtype, shape: [...g.outer, ...g.window.out] }];
  };

registerOp('MaxPool', { infer: maxPoolInfer, lower: maxPoolLower } satisfies OpDef);
registerOp('AveragePool', {
  infer: sameTypeOut(averagePoolGeometry),
  lower: averagePoolLower,
} satisfies OpDef);
registerOp('LpPool', { infer: sameTypeOut(lpPoolGeometry), lower: lpPoolLower } satisfies OpDef);
