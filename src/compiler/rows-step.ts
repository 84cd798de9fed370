/** A graph node on its way to kernels when some operand has a dim known only at run time. */
import type { Node, TensorType } from '../ir/graph.js';
import type { Kernel } from '../kernels/ir.js';
import type { LowerIO, OpContext } from '../ops/registry.js';

export interface RowsStep {
  node: Node;
  ctx: OpContext;
  /** graph types of the node's inputs (undefined where omitted) and outputs */
  inputTypes: (TensorType | undefined)[];
  outputTypes: TensorType[];
  /** whether input i is a shape value (its `ctx.consts` entry only the upper bounds) */
  computedAtRunTime(i: number): boolean;
  /** lowers the node for the types in `ctx` (its activation applied) */
  build(ctx: OpContext, io: LowerIO): Kernel[];
}
