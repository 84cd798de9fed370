/**
 * Loads a kernel file (TypeScript) in Node: esbuild bundles it with what it imports into one ES module
 * with an inline source map, which is imported from a temporary directory. Source maps are turned on
 * so that trace errors name the user's .ts file and line, not the bundle's.
 */
import { build, type Message } from 'esbuild';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isElementwiseDef, type ElementwiseDef } from './elementwise.js';
import { isKernelDef, type KernelDef } from './kernel.js';

/** A kernel a file exports, with its export name. */
export interface LoadedKernel {
  exportName: string;
  def: KernelDef;
}

const located = (m: Message) =>
  m.location ? `${resolve(m.location.file)}:${m.location.line}:${m.location.column + 1}: ${m.text}` : m.text;

/** The kernel() definitions a file exports (`kiln compile FILE.ts --kernel NAME`). */
export async function loadKernelFile(path: string): Promise<LoadedKernel[]> {
  const kernels = Object.entries(await loadModule(path)).flatMap(([exportName, def]) =>
    isKernelDef(def) ? [{ exportName, def }] : [],
  );
  if (kernels.length === 0) loadError(path, 'it exports no kernels (export const Name = kernel({...}))');
  return kernels;
}

/**
 * The custom ops a file exports for `--kernels`: its kernel() definitions and its elementwise() ops,
 * which fuse into elementwise chains like the built-in ones.
 */
export async function loadCustomOps(path: string): Promise<(KernelDef | ElementwiseDef)[]> {
  const ops = Object.values(await loadModule(path)).filter(
    (def): def is KernelDef | ElementwiseDef => isKernelDef(def) || isElementwiseDef(def),
  );
  if (ops.length === 0)
    loadError(path, 'it exports no kernels (export const Name = kernel({...}) or elementwise({...}))');
  return ops;
}

const loadError = (path: string, message: string, cause?: unknown): never => {
  throw new Error(`cannot load kernels from ${path}: ${message}`, { cause });
};

/** The file bundled by esbuild and imported: its exports. */
async function loadModule(path: string): Promise<Record<string, unknown>> {
  const file = resolve(path);
  const fail = (message: string, cause?: unknown) => loadError(path, message, cause);
  const dir = await mkdtemp(join(tmpdir(), 'kiln-kernels-'));
  const outfile = join(dir, 'kernels.mjs');
  let module: Record<string, unknown> = {};
  try {
    const bundled = await build({
      entryPoints: [file],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      sourcemap: 'inline',
      write: false,
      logLevel: 'silent',
    }).catch((err: { errors?: Message[] }) =>
      fail(err.errors?.length ? err.errors.map(located).join('; ') : String(err), err),
    );
    await writeFile(outfile, bundled.outputFiles[0].contents);
    process.setSourceMapsEnabled(true);
    module = await import(pathToFileURL(outfile).href).catch((err: Error) => fail(err.message, err));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return module;
}
