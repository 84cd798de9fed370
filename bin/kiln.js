#!/usr/bin/env node
// The `kiln` command. In a source checkout it runs the TypeScript sources through tsx, so it never
// runs a stale build; an installed package (no src/) runs the compiled CLI from dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
}
process.exitCode = await cli.main(process.argv.slice(2));
