/** The Worker and model.relaxed.wasm: both modules by default, none with KILN_CLOUDFLARE_RELAXED=0. */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readServedBundles } from '../../src/deploy/bundles.js';
import { relaxedFromEnv } from '../../src/deploy/cloudflare-limits.js';
import { buildWorker } from '../../src/deploy/worker-build.js';
import { compileMlp, type CompiledBundle } from '../serve/fixture.js';

let mlp: CompiledBundle;
let scratch: string;
beforeAll(async () => {
  mlp = await compileMlp();
  scratch = await mkdtemp(join(tmpdir(), 'kiln-cf-relaxed-'));
});
afterAll(async () => {
  await mlp.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

it('KILN_CLOUDFLARE_RELAXED: 1 or unset ships the relaxed module, 0 leaves it out, anything else is refused', () => {
  expect(relaxedFromEnv({})).toBe(true);
  expect(relaxedFromEnv({ KILN_CLOUDFLARE_RELAXED: '1' })).toBe(true);
  expect(relaxedFromEnv({ KILN_CLOUDFLARE_RELAXED: '0' })).toBe(false);
  expect(() => relaxedFromEnv({ KILN_CLOUDFLARE_RELAXED: 'yes' })).toThrow(
    'KILN_CLOUDFLARE_RELAXED must be 0 or 1, got "yes"',
  );
});

it('the Worker imports model.relaxed.wasm as a second CompiledWasm module and hands it to loadModel', async () => {
  const bundles = await readServedBundles([mlp.dir]);
  const both = await buildWorker(join(scratch, 'both'), bundles);
  expect(both.modules.map((m) => `${m.path} ${m.type}`)).toEqual([
    'worker.js ESModule',
    'mlp.wasm CompiledWasm',
    'mlp.relaxed.wasm CompiledWasm',
    'mlp.weights.bin Data',
  ]);
  expect(await readFile(join(scratch, 'both', 'mlp.relaxed.wasm'))).toEqual(
    await readFile(join(mlp.dir, 'model.relaxed.wasm')),
  );
  expect(await readFile(join(scratch, 'both', 'worker.js'), 'utf8')).toMatch(/from"\.\/mlp\.relaxed\.wasm"/);
  const plain = await buildWorker(join(scratch, 'plain'), bundles, { relaxed: false });
  expect(plain.modules.map((m) => m.path)).toEqual(['worker.js', 'mlp.wasm', 'mlp.weights.bin']);
  // (its manifest still lists the file: the runtime then runs model.wasm)
  expect(await readFile(join(scratch, 'plain', 'worker.js'), 'utf8')).not.toMatch(
    /from"\.\/mlp\.relaxed\.wasm"/,
  );
});

it('a deploy refuses a bundle whose model.relaxed.wasm is missing or fails its sha256', async () => {
  const dir = join(scratch, 'tampered');
  await cp(mlp.dir, dir, { recursive: true });
  const relaxed = await readFile(join(dir, 'model.relaxed.wasm'));
  relaxed[relaxed.length - 1] ^= 1;
  await writeFile(join(dir, 'model.relaxed.wasm'), relaxed);
  await expect(readServedBundles([dir])).rejects.toThrow(
    `bundle ${dir}: bundle file model.relaxed.wasm failed its sha256 check: the bundle is corrupt or was modified`,
  );
  await rm(join(dir, 'model.relaxed.wasm'));
  await expect(readServedBundles([dir])).rejects.toThrow(
    `bundle ${dir}: model.relaxed.wasm is missing: the bundle is incomplete`,
  );
});
