/**
 * Builds the AWS Lambda deployment package for some compiled bundles: one zip holding index.mjs
 * (the handler, src/serve/lambda.ts with Hono and the runtime, bundled by esbuild; handler name
 * `index.handler`, Node.js 20+ runtime) and each bundle's files under models/<name>/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { build } from 'esbuild';
import { zipSync, type Zippable } from 'fflate';
import type { ServedBundle } from './bundles.js';
import { kilnModule } from './sources.js';

export interface LambdaPackage {
  zip: Uint8Array;
  /** the paths inside it */
  paths: string[];
}

/** Writes the zip to `outZip`, and returns it. */
export async function buildLambda(outZip: string, bundles: ServedBundle[]): Promise<LambdaPackage> {
  const packaged = bundles.map(({ name }) => ({ name, folder: `models/${name}` }));
  const result = await build({
    stdin: {
      contents: [
        `import { packagedHandler } from ${JSON.stringify(kilnModule('src/serve/lambda'))};`,
        `export const handler = await packagedHandler(import.meta.url, ${JSON.stringify(packaged)});`,
      ].join('\n'),
      resolveDir: import.meta.dirname,
      loader: 'ts',
    },
    outfile: 'index.mjs',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'warning',
  });
  const files: Zippable = { 'index.mjs': result.outputFiles[0].contents };
  for (const { name, files: bundleFiles } of bundles)
    for (const [file, bytes] of bundleFiles) files[`models/${name}/${file}`] = bytes;
  // a fixed timestamp: the same inputs give the same zip
  const zip = zipSync(files, { level: 9, mtime: new Date('2000-01-01T00:00:00Z') });
  await mkdir(dirname(resolve(outZip)), { recursive: true });
  await writeFile(outZip, zip);
  return { zip, paths: Object.keys(files) };
}
