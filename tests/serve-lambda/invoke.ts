/**
 * A deployment package run the way the Lambda Node.js runtime runs it: the zip extracted into an empty
 * folder, and a fresh Node process (no node_modules within reach) importing index.mjs and answering
 * one event.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { API_KEY } from '../serve/contract.js';

export async function extractZip(zipPath: string, root: string): Promise<void> {
  for (const [path, bytes] of Object.entries(unzipSync(await readFile(zipPath)))) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), bytes);
  }
}

const INVOKE = `
const { handler } = await import('./index.mjs');
const event = JSON.parse(await new Promise((done) => {
  let text = '';
  process.stdin.on('data', (chunk) => (text += chunk)).on('end', () => done(text));
}));
process.stdout.write(JSON.stringify(await handler(event)));
`;

/** Runs INVOKE in `cwd` with only PATH and the serving variables set; resolves with the handler's result. */
export function invoke(cwd: string, event: unknown): Promise<{ statusCode: number; body: string }> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH, KILN_API_KEY: API_KEY, KILN_MAX_BODY_MB: '6' };
    const child = execFile(
      process.execPath,
      ['--input-type=module', '-e', INVOKE],
      { cwd, env },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
    child.stdin!.end(JSON.stringify(event));
  });
}
