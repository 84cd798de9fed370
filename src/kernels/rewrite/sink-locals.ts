/**
 * Moves local declarations into the loops that use them, so that row loops (Softmax, reductions) become
 * loop nests whose iterations share nothing and can run as separate invocations. Lowerings often declare a
 * scratch local once before a loop and reset it at the start of every iteration; when the value a local
 * holds as an iteration starts is never read, declaring it inside the loop changes nothing.
 */
import type { Expr, Stmt } from '../ir.js';
import { cnst, local } from '../build.js';
import { exprVars, mentions } from '../walk.js';

/** How running statements first touches a variable: reads its incoming value, overwrites it, or neither. */
type Access = 'read' | 'write' | 'none';

const reads = (e: Expr, name: string) => exprVars(e).has(name);

function firstAccess(stmts: Stmt[], name: string): Access {
  for (const s of stmts) {
    const access = stmtAccess(s, name);
    // 'none' also covers an `if` that writes on one path only: later statements decide
    if (access !== 'none') return access;
  }
  return 'none';
}

function stmtAccess(s: Stmt, name: string): Access {
  switch (s.k) {
    case 'set':
      if (reads(s.value, name)) return 'read';
      return s.name === name ? 'write' : 'none';
    case 'if': {
      if (reads(s.cond, name)) return 'read';
      const branches = [firstAccess(s.then, name), firstAccess(s.else ?? [], name)];
      if (branches.includes('read')) return 'read';
      return branches.every((a) => a === 'write') ? 'write' : 'none';
    }
    case 'loop':
      // the first iteration decides: a later one sees the incoming value only where no earlier one wrote it,
      // and then reads it no sooner than the first iteration did; a run-time extent may give none
      if (typeof s.n !== 'number') return firstAccess(s.body, name) === 'read' ? 'read' : 'none';
      return s.n > 0 ? firstAccess(s.body, name) : 'none';
    default:
      return mentions(s, name) ? 'read' : 'none';
  }
}

/**
 * Each local that only one later loop of its list mentions, and whose value is dead at the start of each
 * of that loop's iterations, is declared at the start of the loop's body instead (recursively, so it sinks
 * as deep as it can); its first overwrite there becomes its declaration. Locals nothing mentions go.
 */
export function sinkLocals(body: Stmt[]): Stmt[] {
  const list = [...body];
  for (let i = 0; i < list.length; i++) {
    const decl = list[i];
    if (decl.k !== 'local') continue;
    const users = list.flatMap((s, j) => (j > i && mentions(s, decl.name) ? [j] : []));
    if (users.length === 0) {
      list.splice(i--, 1);
      continue;
    }
    const first = list[users[0]];
    const dead = firstAccess(list.slice(i + 1), decl.name) === 'write';
    if (dead && first.k === 'set' && first.name === decl.name) {
      // the initial value is overwritten before any read: declare it with the overwriting value
      list[users[0]] = local(decl.name, decl.t, first.value);
      list.splice(i--, 1);
      continue;
    }
    if (
      users.length === 1 &&
      first.k === 'loop' &&
      (typeof first.n !== 'number' || first.n > 0) &&
      firstAccess(first.body, decl.name) !== 'read'
    ) {
      list[users[0]] = { ...first, body: [local(decl.name, decl.t, cnst(decl.t, 0)), ...first.body] };
      list.splice(i--, 1);
    }
  }
  return list.map((s): Stmt => {
    if (s.k === 'loop') return { ...s, body: sinkLocals(s.body) };
    if (s.k === 'if')
      return { ...s, then: sinkLocals(s.then), ...(s.else ? { else: sinkLocals(s.else) } : {}) };
    return s;
  });
}
