/**
 * The README's main job: compile the sample model — openWakeWord's pretrained "hey Mycroft" wake-word
 * classifier, shipped in the pinned npm package that `npm ci` installs (scripts/sample-models.ts) —
 * with the `kiln` CLI, then serve it in the foreground at 127.0.0.1:8080 (it prints a curl command to
 * try). Ctrl-C or SIGTERM stops the server gracefully; this script exits with its exit code.
 */
import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { wakeWord } from './sample-models.js';

const root = resolve(import.meta.dirname, '..');
const kilnArgs = (args: string[]) => {
  console.log(`\n$ kiln ${args.join(' ')}`);
  return [resolve(root, 'bin/kiln.js'), ...args];
};
const kiln = (...args: string[]) =>
  execFileSync(process.execPath, kilnArgs(args), { stdio: 'inherit', cwd: root });

const sample = wakeWord();
console.log(`sample model: ${sample.about}`);
kiln('compile', sample.file, '-o', 'build/sample', '--name', sample.name, ...sample.compileFlags);
kiln('inspect', 'build/sample');

const server = spawn(process.execPath, kilnArgs(['serve', 'build/sample', '--port', '8080']), {
  stdio: 'inherit',
  cwd: root,
});
// Ctrl-C reaches the server itself (same process group): wait for its graceful exit
process.on('SIGINT', () => undefined);
// a SIGTERM sent to this script alone is passed on
process.on('SIGTERM', () => server.kill('SIGTERM'));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
