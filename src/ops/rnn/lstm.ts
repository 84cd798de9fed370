/**
 * LSTM (gate blocks i, o, f, c in W, R and B; peepholes i, o, f in P):
 * i = f(X·Wiᵀ + H·Riᵀ + Pi ⊙ C + b), f likewise (or 1 − i with input_forget), c̃ = g(X·Wcᵀ + H·Rcᵀ + b),
 * C' = f ⊙ C + i ⊙ c̃, o = f(X·Woᵀ + H·Roᵀ + Po ⊙ C' + b), H' = o ⊙ h(C').
 */
import type { BufRef, Expr } from '../../kernels/ir.js';
import { add, cnst, i32, load, local, mul, store, sub, v } from '../../kernels/build.js';
import { attrInt, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { fail, requireShape, typedInput } from '../nn/common.js';
import {
  lowerRecurrence,
  recurrentOutputs,
  recurrentShape,
  stateShape,
  type Cell,
  type RecurrentShape,
  type Step,
} from './recurrence.js';

const [I, O, F, C] = [0, 1, 2, 3];

function lstmShape(ctx: OpContext): { shape: RecurrentShape; inputForget: boolean } {
  const shape = recurrentShape(ctx, 4);
  if (ctx.inputs[6])
    requireShape(ctx, typedInput(ctx, 6, 'initial_c', [shape.dtype]), stateShape(shape), 'initial_c');
  if (ctx.inputs[7])
    requireShape(ctx, typedInput(ctx, 7, 'P', [shape.dtype]), [shape.directions, 3 * shape.hidden], 'P');
  const inputForget = attrInt(ctx.node, 'input_forget', 0);
  if (inputForget !== 0 && inputForget !== 1) fail(ctx, `input_forget ${inputForget} must be 0 or 1`);
  return { shape, inputForget: inputForget === 1 };
}

function cellOf(hidden: number, P: BufRef | undefined, inputForget: boolean): Cell {
  return {
    recurrentGates: 4,
    extraStates: [6],
    step: (s: Step, [cell]) =>
      s.forActiveOutput('h', (lane, emit) => {
        const [f, g, h] = s.act;
        /** peephole weight of gate block `k` (i, o, f order in P) times a cell state */
        const peep = (k: number, c: Expr) =>
          P ? mul(load(P, add(i32((s.direction * 3 + k) * hidden), lane.j)), c) : cnst(s.t, 0);
        const gate = (k: number, c?: Expr) => {
          const pre = add(lane.xw(k), lane.hr(k));
          return s.clip(c ? add(pre, peep(k === I ? 0 : k === O ? 1 : 2, c)) : pre);
        };
        const [c, i, fg, cn] = ['c', 'i', 'f', 'cn'].map((name) => v(name, s.t));
        return [
          local('c', s.t, load(cell, lane.at)),
          local('i', s.t, f(gate(I, c))),
          local('f', s.t, inputForget ? sub(cnst(s.t, 1), i) : f(gate(F, c))),
          local('cn', s.t, add(mul(fg, c), mul(i, g(gate(C))))),
          store(cell, lane.at, cn),
          ...emit(mul(f(gate(O, cn)), h(cn))),
        ];
      }),
  };
}

const def: OpDef = {
  infer: (ctx: OpContext) => recurrentOutputs(lstmShape(ctx).shape, 2),
  lower(ctx: OpContext, io: LowerIO) {
    const { shape, inputForget } = lstmShape(ctx);
    return lowerRecurrence(
      ctx,
      io,
      shape,
      ['Sigmoid', 'Tanh', 'Tanh'],
      cellOf(shape.hidden, io.inputs[7], inputForget),
    );
  },
};

registerOp('LSTM', { ...def, sinceVersion: 7 });
registerOp('LSTM', { ...def, sinceVersion: 14 });
