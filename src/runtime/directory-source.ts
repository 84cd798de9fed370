/**
 * Reads a bundle directory where a file system exists (Node, Deno, Bun). Imported lazily by
 * source.ts so that Worker and browser bundles never pull in node:fs.
 */
import type { BundleFiles } from '../bundle/files.js';
import { readBundle, type ReadOptions } from '../bundle/read.js';

export async function readBundleDirectory(dir: string, options: ReadOptions = {}): Promise<BundleFiles> {
  let fs: typeof import('node:fs/promises');
  try {
    fs = await import('node:fs/promises');
  } catch {
    throw new Error(
      `cannot read the bundle directory ${dir}: this platform has no file system; pass a URL or the files in memory`,
    );
  }
  const base = dir.replace(/[\\/]+$/, '');
  return readBundle(async (name) => new Uint8Array(await fs.readFile(`${base}/${name}`)), dir, options);
}
