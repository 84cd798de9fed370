/** A case a symbolic shape rule does not cover (symbolic-shapes.ts turns it into one compile error). */
import type { SymLike } from '../ir/symbolic.js';

export class Refusal extends Error {
  constructor(
    /** the symbolic dim that meets the case */
    readonly dim: SymLike,
    readonly why: string,
  ) {
    super(why);
  }
}
