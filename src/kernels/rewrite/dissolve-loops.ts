/** Loops of one iteration dissolved into their body, so the loop nests that remain can be spread. */
import type { Stmt } from '../ir.js';
import { i32 } from '../build.js';
import { substStmt } from '../walk.js';

/** Loops of one iteration become their body with the counter 0; loops of none disappear. */
export function dissolveTrivialLoops(body: Stmt[]): Stmt[] {
  return body.flatMap((s): Stmt[] => {
    switch (s.k) {
      case 'loop': {
        if (typeof s.n === 'number' && s.n <= 0) return [];
        const inner = dissolveTrivialLoops(s.body);
        if (typeof s.n !== 'number' || s.n > 1) return [{ ...s, body: inner }];
        return inner.map((b) => substStmt(b, s.v, i32(0)));
      }
      case 'if':
        return [
          {
            ...s,
            then: dissolveTrivialLoops(s.then),
            ...(s.else ? { else: dissolveTrivialLoops(s.else) } : {}),
          },
        ];
      default:
        return [s];
    }
  });
}
