/** A kernel's signature filled from what its lowering knows: its node's buffers with their roles. */
import type { Kernel, KernelParam } from './ir.js';
import { forEachExpr } from './walk.js';

/**
 * Signature parameters for buffers given in order of precedence: a buffer listed twice (an output that
 * reuses an input's buffer) keeps its later role.
 */
export function paramsOf(list: KernelParam[]): KernelParam[] {
  const byId = new Map<number, KernelParam>();
  for (const p of list) byId.set(p.buf.id, p);
  return [...byId.values()];
}

/** `kernel` with a signature: `buffers`, and the shape symbols its body reads. */
export function withSignature(kernel: Kernel, buffers: KernelParam[]): Kernel {
  const dims = new Set<string>();
  for (const s of kernel.body) forEachExpr(s, (e) => e.k === 'dim' && dims.add(e.name));
  return { ...kernel, signature: { buffers, dims: [...dims] } };
}
