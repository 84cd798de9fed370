/** What every `kiln` subcommand provides to the dispatcher in main.ts. */
export interface Command {
  name: string;
  /** one line, `kiln NAME ...`, printed with usage errors and by --help */
  usage: string;
  summary: string;
  run(args: string[]): Promise<void>;
}

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
