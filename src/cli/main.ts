/**
 * The `kiln` command line (DESIGN.md §3.3). `main` returns the exit code: 0 on success, 1 when the
 * work failed, 2 when the command line itself was wrong.
 */
import { benchCommand } from './commands/bench.js';
import { compileCommand } from './commands/compile.js';
import { deployCommand } from './commands/deploy.js';
import { inspectCommand } from './commands/inspect.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import type { Command } from './command.js';
import { reportError, UsageError } from './errors.js';

const COMMANDS: Command[] = [
  compileCommand,
  runCommand,
  benchCommand,
  inspectCommand,
  serveCommand,
  deployCommand,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: kiln <command> [options] [--verbose]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    ...COMMANDS.map((c) => `  ${c.usage}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  // --verbose is global: it only changes how errors are reported
  const verbose = argv.includes('--verbose');
  const args = argv.filter((a) => a !== '--verbose');
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(`${overview()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command)
      throw new UsageError(`unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`usage: ${command.usage}\n`);
      return 0;
    }
    await command.run(rest);
    return 0;
  } catch (err) {
    return reportError(err, verbose);
  }
}
