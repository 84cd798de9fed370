/**
 * The Kiln modules a deploy bundles or runs (the Worker entry, the Lambda handler, the serve command,
 * the CDK app), found from this module: TypeScript sources when it runs as TypeScript (tsx, vitest), or
 * the .js beside it when it runs compiled — dist/ in an installed package, .kiln/cli/<key>/ when a
 * checkout's `kiln` runs (bin/checkout-build.js) — which tsconfig.build.json lays out the same way.
 */
import { fileURLToPath } from 'node:url';

export const RUNS_FROM_SOURCE = import.meta.url.endsWith('.ts');

/** `kilnModule('workers/worker')`: the absolute path of that module, .ts or .js like this one. */
export function kilnModule(pathFromRoot: string): string {
  const extension = RUNS_FROM_SOURCE ? '.ts' : '.js';
  return fileURLToPath(new URL(`../../${pathFromRoot}${extension}`, import.meta.url));
}
