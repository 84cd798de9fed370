/** Bundle directories on a Node file system: for the compiler and the CLI (the runtime has its own lazy reader). */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE, WEIGHTS_FILE, WGSL_FILE, type BundleFiles } from './files.js';
import { readBundle } from './read.js';
import { verifyBundle } from './verify.js';

/** Write a bundle directory (created if missing). The files are verified first, so a broken bundle never lands on disk. */
export async function writeBundle(dir: string, files: BundleFiles): Promise<void> {
  await verifyBundle(files);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, files.manifest.wasm.file), files.wasm);
  const relaxed = files.manifest.wasm.relaxed;
  if (relaxed && files.relaxedWasm) await writeFile(join(dir, relaxed.file), files.relaxedWasm);
  await writeFile(join(dir, WEIGHTS_FILE), files.weights);
  if (files.wgsl !== undefined) await writeFile(join(dir, WGSL_FILE), files.wgsl);
  // the manifest goes last: a directory with a manifest is a complete bundle
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(files.manifest, null, 2) + '\n');
}

/** Read a bundle directory; not verified (call `verifyBundle`). */
export async function readBundleDir(dir: string): Promise<BundleFiles> {
  return readBundle(async (name) => new Uint8Array(await readFile(join(dir, name))), dir);
}
