/**
 * Pad (modes constant, edge, wrap, reflect) of a tensor with dims known only at run time (shape rule: passes/symbolic-spatial.ts):
 * each output element reads the input at its position less the begin pads, or takes the fill where that
 * lies outside the input (other modes: the element the mode maps it to, as the static Pad does); strides
 * are shape expressions.
 */
import * as sym from '../ir/symbolic.js';
import type { Expr, Kernel } from '../kernels/ir.js';
import { bin, cmp, i32, load, store, sub, when } from '../kernels/build.js';
import { kernelExprOf } from '../kernels/extent.js';
import type { LowerIO } from '../ops/registry.js';
import { padPlan, padValue, sourcePos } from '../ops/shape/pad.js';
import { indexOf, strides } from '../kernels/extent.js';
import { forEach } from './symbolic-kernels.js';
import type { RowsStep } from './rows-step.js';

export function symbolicPad(step: RowsStep, io: LowerIO): Kernel {
  const x = step.inputTypes[0]!.symbolic ?? step.inputTypes[0]!.shape;
  const out = step.outputTypes[0].symbolic ?? step.outputTypes[0].shape;
  const { begin, mode } = padPlan(step.ctx);
  const shifted = (idx: Expr[]) => idx.map((e, i) => (begin[i] === 0 ? e : sub(e, i32(begin[i]))));
  if (mode !== 'constant') {
    // edge, wrap, reflect: every output element reads the input element the mode maps it to
    const body = forEach(out, 'd', (idx) => {
      const from = shifted(idx).map((e, i) =>
        begin[i] === 0 && sym.symEqual(out[i], x[i]) ? e : sourcePos(mode, e, kernelExprOf(x[i])),
      );
      return [
        store(io.outputs[0], indexOf(idx, strides(out)), load(io.inputs[0]!, indexOf(from, strides(x)))),
      ];
    });
    return { name: step.node.name, body };
  }
  const fill = padValue(step.ctx, io, step.outputTypes[0].dtype);
  const body = forEach(out, 'd', (idx) => {
    const from = shifted(idx);
    const checks = from.flatMap((e, i) =>
      begin[i] === 0 && sym.symEqual(out[i], x[i]) ? [] : [cmp('lt_u', e, kernelExprOf(x[i]))],
    );
    const inside = checks.reduce<Expr | undefined>((a, c) => (a ? bin('and', a, c) : c), undefined);
    const to = indexOf(idx, strides(out));
    const copy = store(io.outputs[0], to, load(io.inputs[0]!, indexOf(from, strides(x))));
    return inside ? [when(inside, [copy], [store(io.outputs[0], to, fill)])] : [copy];
  });
  return { name: step.node.name, body };
}
