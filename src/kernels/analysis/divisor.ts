/** Facts about Kernel IR that code generators and rewrites ask for. */
import type { Expr } from '../ir.js';

/**
 * A constant integer divisor other than 0 and -1 can neither trap nor overflow, so a code generator may
 * emit its raw division/remainder instruction instead of a guarded helper (much faster).
 */
export function isSafeDivisor(b: Expr): boolean {
  return b.k === 'const' && BigInt(b.v) !== 0n && BigInt(b.v) !== -1n;
}
