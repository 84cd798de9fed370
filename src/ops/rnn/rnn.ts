/** RNN: H_t = f(clip(X_t·Wᵀ + H_{t−1}·Rᵀ + Wb + Rb)), f = Tanh by default. */
import { add } from '../../kernels/build.js';
import { registerOp, type OpContext, type LowerIO, type OpDef } from '../registry.js';
import { lowerRecurrence, recurrentOutputs, recurrentShape, type Cell } from './recurrence.js';

const cell: Cell = {
  recurrentGates: 1,
  extraStates: [],
  step: (s) => s.forActiveOutput('h', (lane, emit) => emit(s.act[0](s.clip(add(lane.xw(0), lane.hr(0)))))),
};

const def: OpDef = {
  infer: (ctx: OpContext) => recurrentOutputs(recurrentShape(ctx, 1), 1),
  lower: (ctx: OpContext, io: LowerIO) => lowerRecurrence(ctx, io, recurrentShape(ctx, 1), ['Tanh'], cell),
};

registerOp('RNN', { ...def, sinceVersion: 7 });
registerOp('RNN', { ...def, sinceVersion: 14 });
