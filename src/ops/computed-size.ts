/**
 * Ops that count their output during the run (NonZero, NonMaxSuppression, Unique): the count is a data
 * symbol (passes/data-shapes.ts) whose dims-block word the op's kernel stores into.
 */
import type { BufRef } from '../kernels/ir.js';
import { OpError, type LowerIO, type OpContext } from './registry.js';

/**
 * The dims-block word of the node's counted size. The webgpu runtime reads such a word back after the
 * kernel's dispatch and sizes the dispatches after it; an op whose counting kernel has not been checked on
 * the webgpu target (`gpu` not set) is refused there.
 */
export function computedSizeWord(
  ctx: OpContext,
  io: LowerIO,
  what: string,
  { gpu = false }: { gpu?: boolean } = {},
): BufRef {
  const word = io.sizes?.[0]?.word;
  if (!word) throw new OpError(ctx.node, ctx.opset, `internal: no dims-block word for the ${what}`);
  if (io.forGpu && !gpu)
    throw new OpError(
      ctx.node,
      ctx.opset,
      'counting its output at run time is not supported on the webgpu target yet (build --targets wasm)',
    );
  return word;
}
