/**
 * A kernel body split into runs of top-level statements that share no variables: each run can be its own
 * dispatch (dispatches run in order, so this keeps the kernel's meaning).
 */
import type { Stmt } from '../ir.js';
import { names } from '../walk.js';

/** Runs of `body`'s statements; a statement that uses a name an earlier one declares stays in its run. */
export function splitIndependent(body: Stmt[]): Stmt[][] {
  const info = body.map((s) => {
    const declared = new Set<string>();
    const used = new Set<string>();
    names(s, declared, used);
    return { declared, used };
  });
  // joined[t]: statements t and t+1 must stay together
  const joined = new Array<boolean>(body.length).fill(false);
  for (let j = 0; j < body.length; j++)
    for (let i = 0; i < j; i++)
      if ([...info[j].used].some((n) => info[i].declared.has(n)))
        for (let t = i; t < j; t++) joined[t] = true;
  const runs: Stmt[][] = [];
  let current: Stmt[] = [];
  body.forEach((s, t) => {
    current.push(s);
    if (!joined[t]) {
      runs.push(current);
      current = [];
    }
  });
  return runs;
}
