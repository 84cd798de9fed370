/**
 * NonMaxSuppression (opsets 10 and 11): per batch and class, the boxes scoring above score_threshold are
 * taken best first (equal scores: the lower index first), each kept unless its IoU with a box already kept
 * for that class exceeds iou_threshold, at most max_output_boxes_per_class of them; the output lists
 * [batch, class, box] of every kept box, in that order. How many are kept is known only during the run:
 * the kernel stores the count into its dims-block word (a data symbol, passes/data-shapes.ts), bounded by
 * max_output_boxes_per_class (the box count when it is given at run time) × classes × batch.
 * The IoU follows onnxruntime: boxes as corners [y1, x1, y2, x2] in any order (center_point_box 0) or
 * [x_center, y_center, width, height] (1); boxes that do not overlap, or one of zero area, never suppress.
 */
import type { TensorType } from '../../ir/graph.js';
import { tensorToNumbers } from '../../ir/tensor.js';
import type { BufRef, Expr, Kernel } from '../../kernels/ir.js';
import {
  add,
  bin,
  cast,
  cmp,
  f32,
  i32,
  i64,
  load,
  local,
  loop,
  max,
  min,
  mul,
  select,
  set,
  store,
  sub,
  v,
  when,
} from '../../kernels/build.js';
import { attrInt, OpError, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { typedInput } from '../elementwise/common.js';
import { computedSizeWord } from '../computed-size.js';

interface NmsPlan {
  batch: number;
  classes: number;
  boxes: number;
  centerPointBox: boolean;
  /** upper bound of the selected boxes */
  bound: number;
}

function plan(ctx: OpContext): NmsPlan {
  const boxes = typedInput(ctx, 0, ['float32']);
  const scores = typedInput(ctx, 1, ['float32']);
  const fail = (why: string): never => {
    throw new OpError(ctx.node, ctx.opset, why);
  };
  if (boxes.shape.length !== 3 || boxes.shape[2] !== 4)
    fail(`boxes must be [batch, boxes, 4], found [${boxes.shape}]`);
  if (scores.shape.length !== 3 || scores.shape[0] !== boxes.shape[0] || scores.shape[2] !== boxes.shape[1])
    fail(
      `scores must be [batch, classes, boxes] = [${boxes.shape[0]}, C, ${boxes.shape[1]}], found [${scores.shape}]`,
    );
  const scalar = (i: number, dtype: 'int64' | 'float32', what: string) => {
    if (!ctx.node.inputs[i]) return;
    const t = typedInput(ctx, i, [dtype]);
    if (t.shape.reduce((a, b) => a * b, 1) !== 1)
      fail(`${what} (input ${i}) must hold one value, found shape [${t.shape}]`);
  };
  scalar(2, 'int64', 'max_output_boxes_per_class');
  scalar(3, 'float32', 'iou_threshold');
  scalar(4, 'float32', 'score_threshold');
  const centerPointBox = attrInt(ctx.node, 'center_point_box', 0);
  if (centerPointBox !== 0 && centerPointBox !== 1)
    fail(`center_point_box must be 0 or 1, found ${centerPointBox}`);
  const [batch, classes, n] = [scores.shape[0], scores.shape[1], scores.shape[2]];
  // absent: 0 boxes; given at run time: at most every box
  const given = ctx.node.inputs[2] ? (ctx.consts[2] ? tensorToNumbers(ctx.consts[2])[0] : n) : 0;
  const bound = batch * classes * Math.max(0, Math.min(n, given));
  return { batch, classes, boxes: n, centerPointBox: centerPointBox === 1, bound };
}

/** Box `i`'s extent on one axis, [lo, hi]: corners in either order, or center ± half the size. */
function side(p: NmsPlan, boxes: BufRef, b: Expr, i: Expr, axis: 0 | 1): [Expr, Expr] {
  const at = (c: number) => load(boxes, add(mul(add(mul(b, i32(p.boxes)), i), i32(4)), i32(c)));
  if (p.centerPointBox) {
    const [center, half] = [at(axis), mul(at(axis + 2), f32(0.5))];
    return [sub(center, half), add(center, half)];
  }
  // [y1, x1, y2, x2]: y is coordinate 0 and 2, x is 1 and 3
  const [c1, c2] = axis === 0 ? [at(1), at(3)] : [at(0), at(2)];
  return [min(c1, c2), max(c1, c2)];
}

/** Whether box `a` suppresses box `c` (onnxruntime's SuppressByIOU): IoU > threshold, overlaps and areas positive. */
function suppresses(p: NmsPlan, boxes: BufRef, b: Expr, a: Expr, c: Expr, threshold: Expr): Expr {
  const [ax, ay, cx, cy] = [
    side(p, boxes, b, a, 0),
    side(p, boxes, b, a, 1),
    side(p, boxes, b, c, 0),
    side(p, boxes, b, c, 1),
  ];
  const overlap = (s: [Expr, Expr], t: [Expr, Expr]) => sub(min(s[1], t[1]), max(s[0], t[0]));
  const area = (x: [Expr, Expr], y: [Expr, Expr]) => mul(sub(x[1], x[0]), sub(y[1], y[0]));
  const positive = (e: Expr) => cmp('gt', e, f32(0));
  const and = (...xs: Expr[]) => xs.reduce((s, x) => bin('and', s, x));
  const [ix, iy] = [overlap(ax, cx), overlap(ay, cy)];
  const inter = mul(ix, iy);
  const [areaA, areaC] = [area(ax, ay), area(cx, cy)];
  const union = sub(add(areaA, areaC), inter);
  return and(
    positive(ix),
    positive(iy),
    positive(areaA),
    positive(areaC),
    positive(union),
    cmp('gt', bin('div', inter, union), threshold),
  );
}

function nmsKernel(ctx: OpContext, io: LowerIO): Kernel {
  const p = plan(ctx);
  const word = computedSizeWord(ctx, io, 'selected count');
  const [boxes, scores, maxPerClass, iou, scoreThreshold] = io.inputs;
  const out = io.outputs[0];
  const flags = io.scratch('int32', Math.max(1, p.boxes));
  const [b, c, n, q] = [v('b'), v('c'), v('n'), v('q')];
  const [count, first, best] = [v('count'), v('first'), v('best')];
  const score = (i: Expr) => load(scores!, add(mul(add(mul(b, i32(p.classes)), c), i32(p.boxes)), i));
  const limit = maxPerClass
    ? cast(
        'i32',
        select(
          cmp('gt', load(maxPerClass, i32(0)), i64(p.boxes)),
          i64(p.boxes),
          max(load(maxPerClass, i32(0)), i64(0)),
        ),
      )
    : i32(0);
  const threshold = iou ? load(iou, i32(0)) : f32(0);
  const candidate = (i: Expr) =>
    scoreThreshold ? cmp('gt', score(i), load(scoreThreshold, i32(0))) : i32(1);
  const keptBox = (row: Expr) => cast('i32', load(out, add(mul(row, i32(3)), i32(2))));
  const and = (x: Expr, y: Expr) => bin('and', x, y);
  const pick = [
    set('best', i32(-1)),
    set('bestScore', f32(0)),
    loop('n', p.boxes, [
      when(
        and(
          cmp('eq', load(flags, n), i32(1)),
          bin('or', cmp('lt', best, i32(0)), cmp('gt', score(n), v('bestScore', 'f32'))),
        ),
        [set('best', n), set('bestScore', score(n))],
      ),
    ]),
    when(
      cmp('ge', best, i32(0)),
      [
        store(flags, best, i32(0)),
        set('suppressed', i32(0)),
        // only the boxes kept for this class so far (nested: both operands of an `and` are evaluated)
        loop('q', p.boxes, [
          when(cmp('lt', q, sub(count, first)), [
            when(suppresses(p, boxes!, b, keptBox(add(first, q)), best, threshold), [
              set('suppressed', i32(1)),
            ]),
          ]),
        ]),
        when(cmp('eq', v('suppressed'), i32(0)), [
          store(out, mul(count, i32(3)), cast('i64', b)),
          store(out, add(mul(count, i32(3)), i32(1)), cast('i64', c)),
          store(out, add(mul(count, i32(3)), i32(2)), cast('i64', best)),
          set('count', add(count, i32(1))),
        ]),
      ],
      [set('left', i32(0))],
    ),
  ];
  return {
    name: ctx.node.name,
    body: [
      local('count', 'i32', i32(0)),
      local('first', 'i32', i32(0)),
      local('best', 'i32', i32(0)),
      local('bestScore', 'f32', f32(0)),
      local('suppressed', 'i32', i32(0)),
      local('left', 'i32', i32(1)),
      local('limit', 'i32', limit),
      ...(p.bound === 0
        ? []
        : [
            loop('b', p.batch, [
              loop('c', p.classes, [
                loop('f', p.boxes, [store(flags, v('f'), candidate(v('f')))]),
                set('first', count),
                set('left', i32(1)),
                // one pick per pass: the best candidate left, kept unless a kept box suppresses it; the
                // passes after the limit or the last candidate do nothing
                loop('t', p.boxes, [when(and(cmp('lt', sub(count, first), v('limit')), v('left')), pick)]),
              ]),
            ]),
          ]),
      store(word, i32(0), count),
    ],
  };
}

const nonMaxSuppression: OpDef = {
  sinceVersion: 10,
  infer: (ctx): TensorType[] => [{ dtype: 'int64', shape: [plan(ctx).bound, 3] }],
  lower: (ctx, io) => [nmsKernel(ctx, io)],
};

registerOp('NonMaxSuppression', nonMaxSuppression);
