/**
 * What every `kiln deploy` target reads first (readServedBundles): a bundle whose manifest places an
 * output on the weights, or whose relaxed module (which loadModel skips on an engine without relaxed
 * SIMD) is not the one its manifest describes, is refused before anything is built; files the manifest
 * does not list stay behind.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MANIFEST_FILE, WEIGHTS_FILE, type BundleFiles } from '../../src/bundle/files.js';
import { sha256Hex } from '../../src/bundle/hash.js';
import { writeBundle } from '../../src/bundle/node.js';
import { sealBundle } from '../../src/bundle/seal.js';
import { readServedBundles } from '../../src/deploy/bundles.js';
import { buildFixtureBundle } from '../runtime/fixture.js';

let dir: string;
let bundle: BundleFiles;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-deploy-bundles-'));
  const fixture = await buildFixtureBundle();
  // the fixture's module stands in for its relaxed variant: same exports, same memory plan
  bundle = await sealBundle({
    ...fixture,
    relaxedWasm: fixture.wasm,
    manifest: {
      ...fixture.manifest,
      wasm: { ...fixture.manifest.wasm, relaxed: { file: 'model.relaxed.wasm' } },
    },
  });
});
afterAll(() => dir && rm(dir, { recursive: true, force: true }));

/** The files as they are, unverified (writeBundle would refuse a broken bundle). */
async function writeRaw(to: string, files: BundleFiles): Promise<string> {
  await writeBundle(to, bundle);
  await writeFile(join(to, 'model.wasm'), files.wasm);
  await writeFile(join(to, 'model.relaxed.wasm'), files.relaxedWasm!);
  await writeFile(join(to, WEIGHTS_FILE), files.weights);
  await writeFile(join(to, MANIFEST_FILE), JSON.stringify(files.manifest));
  return to;
}

it('refuses a manifest that points an output at the weights', async () => {
  const { manifest } = bundle;
  const tampered = await sealBundle({
    ...bundle,
    manifest: { ...manifest, outputs: [{ ...manifest.outputs[0], offset: 0 }, manifest.outputs[1]] },
  });
  const at = await writeRaw(join(dir, 'output-on-weights'), tampered);
  await expect(readServedBundles([at])).rejects.toThrow(
    'bundle memory plan: output "out/y" (bytes 0..24) lies outside the input/output region (bytes 128..256)',
  );
});

it('refuses a relaxed module compiled for another manifest, even where loadModel would not read it', async () => {
  // hash-consistent: the relaxed module of a bundle whose manifest says another compiler
  const other = await sealBundle({ ...bundle, manifest: { ...bundle.manifest, compiler: 'someone else' } });
  const relaxedWasm = other.relaxedWasm!;
  const files = { ...bundle.manifest.files, 'model.relaxed.wasm': await sha256Hex(relaxedWasm) };
  const at = await writeRaw(join(dir, 'foreign-relaxed'), {
    ...bundle,
    relaxedWasm,
    manifest: { ...bundle.manifest, files },
  });
  await expect(readServedBundles([at])).rejects.toThrow(
    `bundle ${at}: bundle manifest.json does not match model.relaxed.wasm: the manifest was modified after the bundle was compiled`,
  );
});

it('ships the manifest and the files it lists, nothing else in the directory', async () => {
  const at = await writeRaw(join(dir, 'extra'), bundle);
  await writeFile(join(at, 'notes.txt'), 'not part of the bundle');
  const [served] = await readServedBundles([at]);
  expect([...served.files.keys()].sort()).toEqual([
    'manifest.json',
    'model.relaxed.wasm',
    'model.wasm',
    'weights.bin',
  ]);
});
