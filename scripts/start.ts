/**
 * The README's main job on the embedded default: compile the sample model (models/cnn.onnx) with the
 * `kiln` CLI, then serve it in the foreground at 127.0.0.1:8080 (it prints a curl command to try).
 * Ctrl-C or SIGTERM stops the server gracefully; this script exits with its exit code.
 */
import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const kilnArgs = (args: string[]) => {
  console.log(`\n$ kiln ${args.join(' ')}`);
  return [resolve(root, 'bin/kiln.js'), ...args];
};
const kiln = (...args: string[]) =>
  execFileSync(process.execPath, kilnArgs(args), { stdio: 'inherit', cwd: root });

kiln('compile', 'models/cnn.onnx', '-o', 'build/sample');
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
