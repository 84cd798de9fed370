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
  const read = async (name: string) => {
    const bytes = await fs.readFile(`${base}/${name}`);
    // a plain Uint8Array over the Buffer's own bytes: `new Uint8Array(buffer)` would copy them, and for
    // weights.bin that transient copy was a third copy of the weights in the peak memory at load
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
  return readBundle(read, dir, options);
}
