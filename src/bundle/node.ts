/** Bundle directories on a Node file system: for the compiler and the CLI (the runtime has its own lazy reader). */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE, TOKENIZER_FILE, WEIGHTS_FILE, WGSL_FILE, type BundleFiles } from './files.js';
import { readBundle } from './read.js';
import { checkTarget, replaceDirectory, type ReplaceOptions } from './output-dir.js';
import { verifyBundle } from './verify.js';

/**
 * Write a bundle directory, replacing whatever bundle was there (no file of an earlier build is left
 * behind; see output-dir.ts). The files are verified first, so a broken bundle never lands on disk. A
 * non-empty directory that is not a bundle is refused unless `force`.
 */
export async function writeBundle(
  dir: string,
  files: BundleFiles,
  options: { force?: boolean } = {},
): Promise<void> {
  await verifyBundle(files);
  await replaceDirectory(
    dir,
    async (fresh) => {
      await writeFile(join(fresh, files.manifest.wasm.file), files.wasm);
      const relaxed = files.manifest.wasm.relaxed;
      if (relaxed && files.relaxedWasm) await writeFile(join(fresh, relaxed.file), files.relaxedWasm);
      await writeFile(join(fresh, WEIGHTS_FILE), files.weights);
      if (files.wgsl !== undefined) await writeFile(join(fresh, WGSL_FILE), files.wgsl);
      if (files.tokenizer !== undefined) await writeFile(join(fresh, TOKENIZER_FILE), files.tokenizer);
      await writeFile(join(fresh, MANIFEST_FILE), JSON.stringify(files.manifest) + '\n');
    },
    bundleTarget(options),
  );
}

/** Throws when `writeBundle` would refuse `dir`: a file, or a non-empty directory that is not a bundle (unless `force`). */
export async function checkBundleTarget(dir: string, options: { force?: boolean } = {}): Promise<void> {
  await checkTarget(dir, bundleTarget(options));
}

const bundleTarget = ({ force }: { force?: boolean }): ReplaceOptions => ({
  force,
  replaceable: isBundleDir,
  kind: 'a Kiln bundle',
});

/** Whether `dir` holds a bundle: a manifest.json with a format version and a files table. */
async function isBundleDir(dir: string): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
    return typeof manifest === 'object' && manifest !== null && 'format' in manifest && 'files' in manifest;
  } catch {
    return false;
  }
}

/** Read a bundle directory; not verified (call `verifyBundle`). */
export async function readBundleDir(dir: string): Promise<BundleFiles> {
  return readBundle(async (name) => new Uint8Array(await readFile(join(dir, name))), dir);
}
