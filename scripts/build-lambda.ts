/**
 * Builds the AWS Lambda deployment package for some compiled bundles: one zip holding index.mjs
 * (the handler, src/serve/lambda.ts with Hono and the runtime, bundled by esbuild; handler name
 * `index.handler`, Node.js 20+ runtime) and each bundle's files under models/<name>/.
 *
 *   tsx scripts/build-lambda.ts OUT.zip BUNDLE_DIR...
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { zipSync, type Zippable } from 'fflate';
import { readServedBundles } from './served-bundles.js';

const ROOT = resolve(import.meta.dirname, '..');

/** Writes the zip; returns the paths inside it. */
export async function buildLambda(outZip: string, bundleDirs: string[]): Promise<string[]> {
  const bundles = await readServedBundles(bundleDirs);
  const packaged = bundles.map(({ name }) => ({ name, folder: `models/${name}` }));
  const result = await build({
    stdin: {
      contents: [
        "import { packagedHandler } from './src/serve/lambda.ts';",
        `export const handler = await packagedHandler(import.meta.url, ${JSON.stringify(packaged)});`,
      ].join('\n'),
      resolveDir: ROOT,
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
  return Object.keys(files);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [outZip, ...bundleDirs] = process.argv.slice(2);
  if (!outZip || bundleDirs.length === 0) {
    console.error('usage: tsx scripts/build-lambda.ts OUT.zip BUNDLE_DIR...');
    process.exit(2);
  }
  const paths = await buildLambda(outZip, bundleDirs);
  console.log(`${outZip} (handler index.handler): ${paths.join(', ')}`);
}
