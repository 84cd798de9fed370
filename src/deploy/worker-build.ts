/**
 * Builds the Cloudflare Worker for some compiled bundles: workers/worker.ts bundled by esbuild into
 * one ESM module (worker.js), plus per bundle its model.wasm (and model.relaxed.wasm) as CompiledWasm modules and its
 * weights either as a Data module or as an R2 object the Worker reads on its first request, all
 * named by the generated `kiln:bundles` module.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { TOKENIZER_FILE } from '../bundle/files.js';
import type { Manifest } from '../bundle/manifest.js';
import type { ServedBundle } from './bundles.js';
import { kilnModule } from './sources.js';

/** The R2 bucket binding the Worker reads weights from when they are not in the script. */
export const WEIGHTS_BINDING = 'KILN_WEIGHTS';

/** A module of the built Worker, in miniflare's and the Workers upload API's terms. */
export interface WorkerModule {
  path: string;
  type: 'ESModule' | 'CompiledWasm' | 'Data';
}

/** A weights file the Worker reads from the WEIGHTS_BINDING bucket: its key there and its bytes. */
export interface R2Object {
  key: string;
  /** the model it belongs to */
  model: string;
  bytes: Uint8Array;
}

export interface WorkerBuild {
  modules: WorkerModule[];
  /** empty unless weights are in R2 */
  r2Objects: R2Object[];
}

export interface WorkerBuildOptions {
  /** 'script' (default): weights as Data modules; 'r2': read from the WEIGHTS_BINDING bucket */
  weights?: 'script' | 'r2';
  /**
   * true (default): a bundle's model.relaxed.wasm goes in too, as a second CompiledWasm module. workerd
   * compiles every CompiledWasm module when the script starts and a module that fails to compile stops
   * the whole Worker (tested: an uncaught CompileError), so this relies on workerd having relaxed SIMD,
   * which its V8 has on by default (tests/serve-workerd checks the pinned workerd); the runtime still
   * feature-detects. Cloudflare starts a script when it is uploaded, so an engine without it would
   * refuse the deploy, not break a live Worker. false leaves the relaxed modules out.
   */
  relaxed?: boolean;
}

export async function buildWorker(
  outDir: string,
  bundles: ServedBundle[],
  options: WorkerBuildOptions = {},
): Promise<WorkerBuild> {
  const inR2 = options.weights === 'r2';
  const modules: WorkerModule[] = [{ path: 'worker.js', type: 'ESModule' }];
  const r2Objects: R2Object[] = [];
  const entries: string[] = [];
  const imports: string[] = [];
  const files = new Map<string, Uint8Array>();
  for (const [i, { name, files: bundleFiles }] of bundles.entries()) {
    const wasm = bundleFiles.get('model.wasm');
    const weights = bundleFiles.get('weights.bin');
    const manifest = bundleFiles.get('manifest.json');
    if (!wasm || !weights || !manifest)
      throw new Error(`bundle "${name}" lacks model.wasm, weights.bin or manifest.json`);
    const manifestText = new TextDecoder().decode(manifest);
    files.set(`${name}.wasm`, wasm);
    modules.push({ path: `${name}.wasm`, type: 'CompiledWasm' });
    imports.push(`import wasm${i} from './${name}.wasm';`);
    const relaxedFile = (JSON.parse(manifestText) as Manifest).wasm.relaxed?.file;
    const relaxed = relaxedFile !== undefined && (options.relaxed ?? true) && bundleFiles.get(relaxedFile);
    if (relaxed) {
      files.set(`${name}.relaxed.wasm`, relaxed);
      modules.push({ path: `${name}.relaxed.wasm`, type: 'CompiledWasm' });
      imports.push(`import relaxedWasm${i} from './${name}.relaxed.wasm';`);
    }
    let weightsSource: string;
    if (inR2) {
      // content-addressed, so a redeploy of changed weights never serves a stale object
      const sha256 = (JSON.parse(manifestText) as { files: Record<string, string> }).files['weights.bin'];
      const key = `${name}/${sha256}.weights.bin`;
      r2Objects.push({ key, model: name, bytes: weights });
      weightsSource = JSON.stringify({ r2Binding: WEIGHTS_BINDING, key });
    } else {
      files.set(`${name}.weights.bin`, weights);
      modules.push({ path: `${name}.weights.bin`, type: 'Data' });
      imports.push(`import weights${i} from './${name}.weights.bin';`);
      weightsSource = `weights${i}`;
    }
    // a text model's tokenizer.json travels as a string in the script, like the manifest
    const tokenizer = bundleFiles.get(TOKENIZER_FILE);
    const tokenizerSource = tokenizer
      ? `tokenizer: ${JSON.stringify(new TextDecoder().decode(tokenizer))}, `
      : '';
    entries.push(
      `{ name: ${JSON.stringify(name)}, manifest: ${JSON.stringify(manifestText)}, wasm: wasm${i}, ${relaxed ? `relaxedWasm: relaxedWasm${i}, ` : ''}${tokenizerSource}weights: ${weightsSource} }`,
    );
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
    entryPoints: [kilnModule('workers/worker')],
    outfile: join(outDir, 'worker.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    // loadModel's directory reader (node:fs) is imported lazily and never reached from a Worker
    external: ['node:*'],
    plugins: bundles.some((b) => b.manifest.tokenizer)
      ? [bundlesModule]
      : [bundlesModule, withoutTextTokenizer],
    logLevel: 'warning',
  });
  await Promise.all([...files].map(([name, bytes]) => writeFile(join(outDir, name), bytes)));
  return { modules, r2Objects };
}

/**
 * Leaves the tokenizer library (@huggingface/tokenizers, ≈ 42 KB minified) out of a Worker that serves no
 * text model: the app imports it only for a model with a tokenizer, which such a Worker does not have, so
 * the import resolves to a module that says so instead.
 */
export const withoutTextTokenizer: Plugin = {
  name: 'kiln-without-text-tokenizer',
  setup(b) {
    b.onResolve({ filter: /\/runtime\/text-tokenizer\.js$/ }, () => ({
      path: 'text-tokenizer',
      namespace: 'kiln-without-text',
    }));
    b.onLoad({ filter: /.*/, namespace: 'kiln-without-text' }, () => ({
      contents:
        "export class TextTokenizer { constructor() { throw new Error('this Worker was built without a text model, so without a tokenizer'); } }",
      loader: 'js',
    }));
  },
};
