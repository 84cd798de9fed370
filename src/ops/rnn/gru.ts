/**
 * GRU (gates z, r, h): z = f(X·Wzᵀ + H·Rzᵀ + b), r likewise, h̃ = g(X·Whᵀ + (r ⊙ H)·Rhᵀ + Rbh + Wbh)
 * (or g(X·Whᵀ + r ⊙ (H·Rhᵀ + Rbh) + Wbh) with linear_before_reset), H' = (1 − z) ⊙ h̃ + z ⊙ H.
 */
import type { Expr, Stmt } from '../../kernels/ir.js';
import { add, cnst, load, local, mul, store, sub, v } from '../../kernels/build.js';
import { attrInt, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { fail } from '../nn/common.js';
import { lowerRecurrence, recurrentOutputs, recurrentShape, type Cell, type Step } from './recurrence.js';

/** H' = (1 − z) ⊙ h̃ + z ⊙ H */
const update = (z: Expr, candidate: Expr, h: Expr): Expr =>
  add(mul(sub(cnst(z.t, 1), z), candidate), mul(z, h));

/** linear_before_reset: one recurrent product covers all three gates. */
const linearBeforeReset: Cell = {
  recurrentGates: 3,
  extraStates: [],
  step: (s: Step) =>
    s.forActiveOutput('h', (lane, emit) => {
      const [f, g] = s.act;
      const z = v('z', s.t);
      const r = v('r', s.t);
      return [
        local('z', s.t, f(s.clip(add(lane.xw(0), lane.hr(0))))),
        local('r', s.t, f(s.clip(add(lane.xw(1), lane.hr(1))))),
        local('hc', s.t, g(s.clip(add(lane.xw(2), mul(r, lane.hr(2)))))),
        ...emit(update(z, v('hc', s.t), load(s.h, lane.at))),
      ];
    }),
};

/** The default: r gates H before the h gate's recurrent product, which therefore comes second. */
const resetBeforeProduct: Cell = {
  recurrentGates: 2,
  extraStates: [],
  step: (s: Step): Stmt[] => {
    const [f, g] = s.act;
    const zs = s.stateScratch();
    const gated = s.stateScratch();
    const hh = s.stateScratch();
    return [
      ...s.forActive('zr', (lane) => [
        local('r', s.t, f(s.clip(add(lane.xw(1), lane.hr(1))))),
        store(zs, lane.at, f(s.clip(add(lane.xw(0), lane.hr(0))))),
        store(gated, lane.at, mul(v('r', s.t), load(s.h, lane.at))),
      ]),
      ...s.recurrentProduct(gated, 2, hh),
      ...s.forActiveOutput('h', (lane, emit) => [
        local('hc', s.t, g(s.clip(add(lane.xw(2), load(hh, lane.at))))),
        ...emit(update(load(zs, lane.at), v('hc', s.t), load(s.h, lane.at))),
      ]),
    ];
  },
};

function cellOf(ctx: OpContext): Cell {
  const lbr = attrInt(ctx.node, 'linear_before_reset', 0);
  if (lbr !== 0 && lbr !== 1) fail(ctx, `linear_before_reset ${lbr} must be 0 or 1`);
  return lbr ? linearBeforeReset : resetBeforeProduct;
}

const def: OpDef = {
  infer(ctx: OpContext) {
    cellOf(ctx);
    return recurrentOutputs(recurrentShape(ctx, 3), 1);
  },
  lower: (ctx: OpContext, io: LowerIO) =>
    lowerRecurrence(ctx, io, recurrentShape(ctx, 3), ['Sigmoid', 'Tanh'], cellOf(ctx)),
};

registerOp('GRU', { ...def, sinceVersion: 7 });
registerOp('GRU', { ...def, sinceVersion: 14 });
