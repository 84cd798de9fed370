/** What every `kiln` subcommand provides to the dispatcher in main.ts. */
import { printable, printableJson } from '../text/printable.js';

export interface Command {
  name: string;
  /** one line, `kiln NAME ...`, printed with usage errors and by --help */
  usage: string;
  summary: string;
  run(args: string[]): Promise<void>;
}

// Output quotes names from models and bundles: every line goes out through `printable`, so one line
// stays one line and no control character reaches the terminal.

export function print(line: string): void {
  process.stdout.write(`${printable(line)}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${printableJson(value)}\n`);
}

/** `kiln: warning: MESSAGE` on stderr. */
export function warn(message: string): void {
  process.stderr.write(`kiln: warning: ${printable(message)}\n`);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
