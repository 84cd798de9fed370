/** Kernel IR → Kernel IR rewrites as a list a target picks and applies in order before rendering. */
import type { Kernel, Stmt } from '../ir.js';

/** One rewrite of a kernel body; its function name names it in errors. */
export type Rewrite = (body: Stmt[]) => Stmt[];

/**
 * `kernel` after each of `rewrites` in turn; `check` (the verifier, in tests) sees the kernel after every
 * one, with the rewrite's name.
 */
export function rewriteKernel(
  kernel: Kernel,
  rewrites: readonly Rewrite[],
  check?: (kernel: Kernel, after: string) => void,
): Kernel {
  return rewrites.reduce((k, rewrite) => {
    const next = { ...k, body: rewrite(k.body) };
    check?.(next, rewrite.name);
    return next;
  }, kernel);
}
