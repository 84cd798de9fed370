/**
 * The external deploy tools (wrangler, the aws-cdk CLI): found in a node_modules/.bin above the
 * working directory or Kiln's own package, else on PATH; run with their output streamed line by line.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { installCommand, type PeerPackage } from './peers.js';
import { DeployError } from './types.js';

const KILN_ROOT = resolve(import.meta.dirname, '../..');

export interface Tool {
  /** the command name, e.g. `wrangler` */
  name: string;
  /** the npm package that provides it */
  npmPackage: PeerPackage;
}

export const WRANGLER: Tool = { name: 'wrangler', npmPackage: 'wrangler' };
export const CDK: Tool = { name: 'cdk', npmPackage: 'aws-cdk' };

/** The tool's executable, or a DeployError saying how to install it. */
export function findTool(tool: Tool, env: NodeJS.ProcessEnv = process.env): string {
  const candidates: string[] = [];
  for (const start of [process.cwd(), KILN_ROOT])
    for (let dir = start; ; dir = dirname(dir)) {
      candidates.push(join(dir, 'node_modules', '.bin', tool.name));
      if (dirname(dir) === dir) break;
    }
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, tool.name));
  const found = candidates.find((path) => existsSync(path));
  if (!found)
    throw new DeployError(
      `${tool.name} was not found (looked in node_modules/.bin and PATH); install it with: ${installCommand([tool.npmPackage])}`,
    );
  return found;
}

export interface RunToolOptions {
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** each line of stdout and stderr as it arrives */
  onLine?(line: string): void;
}

/** Runs the tool to completion; resolves with its stdout, rejects with the tail of its output. */
export async function runTool(executable: string, args: string[], options: RunToolOptions): Promise<string> {
  const child = spawn(executable, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  const tail: string[] = [];
  const onLine = (line: string, fromStdout: boolean) => {
    if (fromStdout) stdout += `${line}\n`;
    tail.push(line);
    if (tail.length > 20) tail.shift();
    options.onLine?.(line);
  };
  // split each stream into lines, flushing a last line without a newline at its end
  for (const [stream, fromStdout] of [
    [child.stdout, true],
    [child.stderr, false],
  ] as const) {
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      const parts = (pending + chunk.toString('utf8')).split(/\r?\n/);
      pending = parts.pop() ?? '';
      for (const line of parts) onLine(line, fromStdout);
    });
    stream.on('end', () => pending && onLine(pending, fromStdout));
  }
  const ending = await new Promise<string | undefined>((resolveExit, reject) => {
    child.on('error', reject);
    // a tool ends with an exit code, or with no code when a signal killed it
    child.on('close', (code, signal) =>
      resolveExit(code === 0 ? undefined : code !== null ? `exited with ${code}` : `was killed by ${signal}`),
    );
  });
  if (ending !== undefined) throw new Error(`${executable} ${args.join(' ')} ${ending}:\n${tail.join('\n')}`);
  return stdout;
}
