/** The bundles a deploy serves, read once: verified, named by their manifests, names unique. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE, TOKENIZER_FILE, WEIGHTS_FILE, WGSL_FILE } from '../bundle/files.js';
import type { Manifest } from '../bundle/manifest.js';
import { isSafeModelName } from '../bundle/model-name.js';
import { checkManifestShape, verifyBundle } from '../bundle/verify.js';
import { loadModel } from '../runtime/index.js';

export interface ServedBundle {
  /** the model name in URLs (the manifest's), also a safe file-name stem */
  name: string;
  dir: string;
  manifest: Manifest;
  /** the bundle's files by name: manifest.json and the files it lists (model.wasm, weights.bin, …) */
  files: Map<string, Uint8Array>;
}

export async function readServedBundles(dirs: string[]): Promise<ServedBundle[]> {
  if (dirs.length === 0) throw new Error('no bundle directories given');
  const bundles: ServedBundle[] = [];
  for (const dir of dirs) {
    // loading checks the manifest and the files' hashes now, not at the first request after a deploy
    const model = await loadModel(dir);
    const { name, manifest } = model;
    model.dispose();
    if (!isSafeModelName(name))
      throw new Error(`bundle ${dir}: model name "${name}" is not a safe file name; compile it with --name`);
    const clash = bundles.find((b) => b.name === name);
    if (clash)
      throw new Error(`bundles ${clash.dir} and ${dir} are both named "${name}"; compile one with --name`);
    // the bundle is the manifest and the files it lists: anything else in the directory stays behind
    const names = [MANIFEST_FILE, ...Object.keys(manifest.files)];
    const files = new Map<string, Uint8Array>();
    for (const file of names) files.set(file, await readBundleFile(dir, file));
    await verifyShipped(dir, manifest, files);
    bundles.push({ name, dir, manifest, files });
  }
  return bundles;
}

/**
 * The files as they will ship, verified as loadModel verifies a bundle (which read model.relaxed.wasm only
 * if this engine runs it; every target ships it), so what is uploaded is exactly what was checked.
 */
async function verifyShipped(dir: string, manifest: Manifest, files: Map<string, Uint8Array>): Promise<void> {
  const need = (name: string): Uint8Array => {
    const bytes = files.get(name);
    if (!bytes)
      throw new Error(`bundle ${dir}: manifest.json lists no sha256 for ${name}: the bundle is incomplete`);
    return bytes;
  };
  const text = (name: string) => new TextDecoder().decode(need(name));
  const relaxedFile = manifest.wasm.relaxed?.file;
  const shipped = {
    manifestText: text(MANIFEST_FILE),
    wasm: need(manifest.wasm.file),
    ...(relaxedFile !== undefined && { relaxedWasm: need(relaxedFile) }),
    weights: need(WEIGHTS_FILE),
    ...(WGSL_FILE in manifest.files && { wgsl: text(WGSL_FILE) }),
    ...(manifest.tokenizer && { tokenizer: text(TOKENIZER_FILE) }),
  };
  try {
    const { manifestText, ...rest } = shipped;
    await verifyBundle({ manifest: checkManifestShape(JSON.parse(manifestText)), ...rest });
  } catch (err) {
    throw new Error(`bundle ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

async function readBundleFile(dir: string, file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(join(dir, file)));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      `bundle ${dir}: ${missing ? `${file} is missing: the bundle is incomplete` : `cannot read ${file}: ${(err as Error).message}`}`,
    );
  }
}
