/** `kiln serve ARGS...` as its own process, resolved once it prints the URL it listens on. */
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from './fixture.js';

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** what it printed so far */
  stdout(): string;
  /** its exit code, once it exits */
  exited: Promise<number | null>;
}

export async function startServeProcess(args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['bin/kiln.js', 'serve', ...args], { cwd: ROOT });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stdout = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1]);
    });
    exited.then(() => reject(new Error(`kiln serve exited early:\n${stdout}`)));
  });
  return { child, url, stdout: () => stdout, exited };
}
