/**
 * Where in the user's kernel file a construct was written. A trace error is thrown synchronously inside
 * the user's call (x.at(...), a.add(b), k.loop(...)), so the stack at the throw holds the user's frame:
 * the first one outside this folder (and outside Node and node_modules).
 */
const FRAME = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):(\d+)\)?$/;
const INTERNAL = /[\\/]kernel-lang[\\/][\w-]+\.[cm]?[jt]s$|^node:|[\\/]node_modules[\\/]/;

/** `file:line:column` of the first user frame on the current stack, or undefined when none is found. */
export function userSite(): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return userFrame(stack);
}

/** The first user frame of a stack trace (an error the user's own code threw, e.g. a TypeError). */
export function userFrame(stack: string): string | undefined {
  for (const line of stack.split('\n').slice(1)) {
    const m = FRAME.exec(line.trim());
    if (!m) continue;
    const file = m[1].startsWith('file://') ? decodeURIComponent(new URL(m[1]).pathname) : m[1];
    if (!INTERNAL.test(file)) return `${file}:${m[2]}:${m[3]}`;
  }
  return undefined;
}

/** A kernel that cannot be traced (or run): names the kernel, the user's file and line, and the construct. */
export class KernelTraceError extends Error {
  constructor(
    readonly kernel: string,
    readonly site: string | undefined,
    /** what is wrong, without the kernel and the site */
    readonly detail: string,
  ) {
    super(`kernel ${kernel}${site ? ` (${site})` : ''}: ${detail}`);
    this.name = 'KernelTraceError';
  }
}
