/**
 * The tampered-bundle suite (#16): the sample MLP compiled with every file a bundle can have (model.wasm,
 * model.relaxed.wasm, model.wgsl, weights.bin), then every manifest field mutated (tests/helpers/tamper.ts)
 * and every file flipped, truncated, removed or joined by an extra one. Each case is refused with one
 * clear message, or loads and gives outputs identical to the untouched bundle's. Files go through both
 * readers that check bundles: loadModel on a directory, and the deploy reader, which checks the
 * relaxed module too (loadModel skips it on an engine without relaxed SIMD) and accepts a bundle only
 * when what it would ship is untouched. Counts are in the test names and printed.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { writeBundle } from '../../src/bundle/node.js';
import { readServedBundles } from '../../src/deploy/bundles.js';
import { loadModel, type Feed, type Model, type Tensor } from '../../src/runtime/index.js';
import { fileMutations, manifestMutations } from '../helpers/tamper.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { ROOT } from '../serve/fixture.js';

const bundle = await compileModel(new Uint8Array(await readFile(join(ROOT, 'models/mlp.onnx'))), {
  name: 'mlp',
  shapes: { x: [1, 64] },
  targets: ['wasm', 'webgpu'],
  onWarning: () => {},
});
const feeds = { x: randomTensor([1, 64], seededRandom(16)) as Feed };
const reference = await run(await loadModel(bundle));

const work = await mkdtemp(join(tmpdir(), 'kiln-tampered-'));
afterAll(() => rm(work, { recursive: true, force: true }));
const originalDir = join(work, 'original');
await writeBundle(originalDir, bundle);
const originalFiles = new Map(
  await Promise.all(
    (await readdir(originalDir)).map(
      async (f) => [f, new Uint8Array(await readFile(join(originalDir, f)))] as const,
    ),
  ),
);

const manifestCases = manifestMutations(JSON.parse(JSON.stringify(bundle.manifest)));
const fileCases = fileMutations(originalFiles);

async function run(model: Model): Promise<Record<string, Tensor>> {
  try {
    return await model.run(feeds);
  } finally {
    model.dispose();
  }
}

/** One line naming what is wrong, from Kiln rather than from the JavaScript engine. */
function isClear(err: unknown): boolean {
  if (!(err instanceof Error) || err.constructor !== Error) return false;
  const { message } = err;
  return (
    /^(bundle |loadModel: |model "|manifest\.json of the bundle at |cannot read )/.test(message) &&
    !message.includes('\n') &&
    message.length < 1000 &&
    !/Cannot read prop|is not a function|is not iterable|Maximum call stack|\[object Object\]/.test(message)
  );
}

function sameOutputs(actual: Record<string, Tensor>): boolean {
  const names = Object.keys(reference);
  if (Object.keys(actual).join() !== names.join()) return false;
  return names.every((name) => {
    const [a, b] = [actual[name], reference[name]];
    const bytes = (t: Tensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    return a.dtype === b.dtype && a.dims.join() === b.dims.join() && Buffer.compare(bytes(a), bytes(b)) === 0;
  });
}

type Outcome =
  { kind: 'refused'; message: string } | { kind: 'identical' } | { kind: 'wrong'; detail: string };

async function outcome(load: () => Promise<Model>): Promise<Outcome> {
  let model: Model;
  try {
    model = await load();
  } catch (err) {
    return isClear(err)
      ? { kind: 'refused', message: (err as Error).message }
      : { kind: 'wrong', detail: `unclear error: ${String(err)}` };
  }
  try {
    const out = await run(model);
    return sameOutputs(out) ? { kind: 'identical' } : { kind: 'wrong', detail: 'loaded, with other outputs' };
  } catch (err) {
    return { kind: 'wrong', detail: `loaded, then run failed: ${String(err)}` };
  }
}

/** Counts per outcome, and the refusals grouped by the start of their message. */
function summary(outcomes: Outcome[]): string {
  const refusals = new Map<string, number>();
  for (const o of outcomes)
    if (o.kind === 'refused') {
      const key = o.message.replace(/"[^"]*"|\d+/g, '…').slice(0, 70);
      refusals.set(key, (refusals.get(key) ?? 0) + 1);
    }
  const count = (kind: Outcome['kind']) => outcomes.filter((o) => o.kind === kind).length;
  return [
    `${outcomes.length} cases: ${count('refused')} refused with a clear message, ${count('identical')} loaded with identical outputs, ${count('wrong')} wrong`,
    ...[...refusals].sort((a, b) => b[1] - a[1]).map(([key, n]) => `  ${String(n).padStart(5)}  ${key}`),
  ].join('\n');
}

it(`${manifestCases.length} manifest mutations (every field): each refused with a clear message or loads with identical outputs`, async () => {
  const { wasm, relaxedWasm, weights, wgsl } = bundle;
  const outcomes: Outcome[] = [];
  const wrong: string[] = [];
  for (const { name, manifest } of manifestCases) {
    const o = await outcome(() =>
      loadModel({ manifest: manifest as never, wasm, relaxedWasm, weights, wgsl }),
    );
    outcomes.push(o);
    if (o.kind === 'wrong') wrong.push(`${name}: ${o.detail}`);
  }
  console.log(`manifest mutations — ${summary(outcomes)}`);
  expect(wrong).toEqual([]);
  expect(manifestCases.length).toBeGreaterThan(1000);
}, 120_000);

it(`${fileCases.length} file mutations (each file flipped, truncated, removed; an extra file), by loadModel and by the deploy reader`, async () => {
  const runtime: Outcome[] = [];
  const deploy: Outcome[] = [];
  const wrong: string[] = [];
  for (const [i, { name, files }] of fileCases.entries()) {
    const dir = join(work, `case-${i}`);
    await mkdir(dir);
    for (const [file, bytes] of files) await writeFile(join(dir, file), bytes);
    const loaded = await outcome(() => loadModel(dir));
    runtime.push(loaded);
    if (loaded.kind === 'wrong') wrong.push(`${name} (loadModel): ${loaded.detail}`);
    try {
      const [served] = await readServedBundles([dir]);
      // accepted: everything it would ship is the original (manifest.json: the same JSON)
      const untouched = [...served.files].every(([f, b]) =>
        f === 'manifest.json'
          ? JSON.stringify(JSON.parse(Buffer.from(b).toString())) === JSON.stringify(bundle.manifest)
          : Buffer.compare(b, originalFiles.get(f)!) === 0,
      );
      deploy.push(untouched ? { kind: 'identical' } : { kind: 'wrong', detail: 'would ship changed files' });
      if (!untouched) wrong.push(`${name} (deploy): would ship changed files`);
    } catch (err) {
      deploy.push(
        isClear(err)
          ? { kind: 'refused', message: (err as Error).message }
          : { kind: 'wrong', detail: String(err) },
      );
      if (!isClear(err)) wrong.push(`${name} (deploy): unclear error: ${String(err)}`);
    }
  }
  console.log(`file mutations, loadModel — ${summary(runtime)}`);
  console.log(`file mutations, deploy reader — ${summary(deploy)}`);
  expect(wrong).toEqual([]);
  // the deploy reader accepts only changes that leave what it ships the same
  const deployAccepted = fileCases.filter((_, i) => deploy[i].kind === 'identical').map((c) => c.name);
  expect(deployAccepted).toEqual(['manifest.json: one byte short', 'an extra file']);
}, 120_000);
