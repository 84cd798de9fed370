/**
 * Builds the Cloudflare Worker for some compiled bundles: workers/worker.ts bundled by esbuild into
 * one ESM module (worker.js), plus per bundle its model.wasm as a CompiledWasm module and its
 * weights as a Data module, imported by the generated `kiln:bundles` module.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { readServedBundles } from './bundles.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** A module of the built Worker, in miniflare's and the Workers upload API's terms. */
export interface WorkerModule {
  path: string;
  type: 'ESModule' | 'CompiledWasm' | 'Data';
}

export async function buildWorker(outDir: string, bundleDirs: string[]): Promise<WorkerModule[]> {
  const bundles = await readServedBundles(bundleDirs);
  const modules: WorkerModule[] = [{ path: 'worker.js', type: 'ESModule' }];
  const entries: string[] = [];
  const imports: string[] = [];
  const files = new Map<string, Uint8Array>();
  for (const [i, { name, files: bundleFiles }] of bundles.entries()) {
    const wasm = bundleFiles.get('model.wasm');
    const weights = bundleFiles.get('weights.bin');
    const manifest = bundleFiles.get('manifest.json');
    if (!wasm || !weights || !manifest)
      throw new Error(`bundle "${name}" lacks model.wasm, weights.bin or manifest.json`);
    files.set(`${name}.wasm`, wasm);
    files.set(`${name}.weights.bin`, weights);
    modules.push(
      { path: `${name}.wasm`, type: 'CompiledWasm' },
      { path: `${name}.weights.bin`, type: 'Data' },
    );
    imports.push(
      `import wasm${i} from './${name}.wasm';`,
      `import weights${i} from './${name}.weights.bin';`,
    );
    const manifestText = JSON.stringify(new TextDecoder().decode(manifest));
    entries.push(`{ manifest: ${manifestText}, wasm: wasm${i}, weights: weights${i} }`);
  }
  const bundlesModule: Plugin = {
    name: 'kiln-bundles',
    setup(b) {
      b.onResolve({ filter: /^kiln:bundles$/ }, () => ({ path: 'bundles', namespace: 'kiln' }));
      // the wasm and weights stay separate modules: the Workers runtime links them by these paths
      b.onResolve({ filter: /\.(wasm|bin)$/, namespace: 'kiln' }, (args) => ({
        path: args.path,
        external: true,
      }));
      b.onLoad({ filter: /.*/, namespace: 'kiln' }, () => ({
        contents: `${imports.join('\n')}\nexport default [${entries.join(', ')}];`,
        loader: 'js',
      }));
    },
  };
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'workers/worker.ts')],
    outfile: join(outDir, 'worker.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    // loadModel's directory reader (node:fs) is imported lazily and never reached from a Worker
    external: ['node:*'],
    plugins: [bundlesModule],
    logLevel: 'warning',
  });
  await Promise.all([...files].map(([name, bytes]) => writeFile(join(outDir, name), bytes)));
  return modules;
}
