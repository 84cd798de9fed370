#!/usr/bin/env node
// The `kiln` command. An installed package (no src/) runs the compiled CLI from dist/. A source checkout
// runs its sources as transpiled by bin/checkout-build.js, rebuilt whenever a source changed, so it never
// runs a stale build and starts as fast as dist/ does.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let entry;
if (existsSync(join(root, 'src/cli/main.ts'))) {
  const { checkoutBuild } = await import('./checkout-build.js');
  const onBuild = (files) => {
    if (process.stderr.isTTY) process.stderr.write(`kiln: sources changed, transpiling ${files} files…\n`);
  };
  entry = join(await checkoutBuild(root, onBuild), 'src/cli/main.js');
} else {
  entry = join(root, 'dist/src/cli/main.js');
}
// `kiln inspect DIR | head`: a reader that stops early closes the pipe; that ends the output, not in a crash
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});
const cli = await import(pathToFileURL(entry).href);
process.exitCode = await cli.main(process.argv.slice(2));
