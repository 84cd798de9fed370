import { printable } from '../text/printable.js';

/** A mistake in how the CLI was called: printed with the command's usage line, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Prints an error as the kiln CLI does — one line, plus the usage line for a UsageError and the stack
 * with `verbose` — and returns the exit code: 2 for a wrong command line, else 1.
 */
export function reportError(err: unknown, verbose: boolean): number {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`kiln: ${printable(message)}\n`);
  if (err instanceof UsageError) {
    process.stderr.write(
      err.usage ? `usage: ${err.usage}\n` : 'usage: kiln <command> [options]; see kiln --help\n',
    );
    return 2;
  }
  if (verbose && err instanceof Error) {
    process.stderr.write(`${printableStack(err)}\n`);
    if (err.cause)
      process.stderr.write(
        `caused by: ${err.cause instanceof Error ? printableStack(err.cause) : printable(String(err.cause))}\n`,
      );
  }
  return 1;
}

/** The error's stack with its message made printable (the message may quote a model's names). */
function printableStack(err: Error): string {
  const stack = err.stack ?? '';
  const frames = stack.indexOf('\n    at ');
  return printable(`${err.name}: ${err.message}`) + (frames < 0 ? '' : stack.slice(frames));
}
