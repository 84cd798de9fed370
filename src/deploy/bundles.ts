/** The bundles a deploy serves, read once: verified, named by their manifests, names unique. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../bundle/hash.js';
import type { Manifest } from '../bundle/manifest.js';
import { isSafeModelName } from '../bundle/model-name.js';
import { loadModel } from '../runtime/index.js';

export interface ServedBundle {
  /** the model name in URLs (the manifest's), also a safe file-name stem */
  name: string;
  dir: string;
  manifest: Manifest;
  /** the bundle's files by name: manifest.json, model.wasm, weights.bin, … */
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
    const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
    const files = new Map(
      await Promise.all(names.map(async (f) => [f, new Uint8Array(await readFile(join(dir, f)))] as const)),
    );
    // loadModel read model.relaxed.wasm only if this engine runs it; every target ships it, so check it here
    const relaxedFile = manifest.wasm.relaxed?.file;
    if (relaxedFile !== undefined) {
      const relaxed = files.get(relaxedFile);
      if (!relaxed) throw new Error(`bundle ${dir}: ${relaxedFile} is missing: the bundle is incomplete`);
      if ((await sha256Hex(relaxed)) !== manifest.files[relaxedFile])
        throw new Error(
          `bundle ${dir}: ${relaxedFile} failed its sha256 check: the bundle is corrupt or was modified`,
        );
    }
    bundles.push({ name, dir, manifest, files });
  }
  return bundles;
}
