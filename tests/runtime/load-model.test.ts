import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { writeBundle } from '../../src/bundle/node.js';
import { typedFromValues } from '../../src/runtime/element-values.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import type { Manifest, MemoryPlan, TensorSignature } from '../../src/bundle/manifest.js';
import { sealBundle } from '../../src/bundle/seal.js';
import { buildFixtureBundle, expectedY, fixtureFeeds, numbers, WEIGHT_VALUES } from './fixture.js';

let bundle: BundleFiles;
let dir: string;

beforeAll(async () => {
  bundle = await buildFixtureBundle();
  dir = await mkdtemp(join(tmpdir(), 'kiln-runtime-'));
  await writeBundle(join(dir, 'ok'), bundle);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const X = [1, -2, 0.5, 3, 0, -1];

async function expectWorks(model: Model): Promise<void> {
  const out = await model.run(fixtureFeeds(X, 2));
  expect(out['out/y'].dtype).toBe('float32');
  expect(out['out/y'].dims).toEqual([2, 3]);
  expect(numbers(out['out/y'])).toEqual(expectedY(X));
  expect(numbers(out.picked)).toEqual([WEIGHT_VALUES[2]]);
}

describe('loadModel', () => {
  it('runs a bundle held in memory, with wasm as bytes or as a compiled module', async () => {
    await expectWorks(await loadModel(bundle));
    await expectWorks(
      await loadModel({ ...bundle, wasm: await WebAssembly.compile(bundle.wasm as Uint8Array<ArrayBuffer>) }),
    );
    await expectWorks(
      await loadModel({
        ...bundle,
        manifest: JSON.stringify(bundle.manifest),
        weights: bundle.weights.slice().buffer,
      }),
    );
  });

  it('runs a bundle directory, given as a path or a file: URL', async () => {
    const model = await loadModel(join(dir, 'ok'), { backend: 'wasm' });
    expect(model.inputs).toEqual([
      { name: 'x', dtype: 'float32', shape: [2, 3] },
      { name: 'i', dtype: 'int32', shape: [1] },
    ]);
    expect(model.outputs.map((o) => o.name)).toEqual(['out/y', 'picked']);
    await expectWorks(model);
    await expectWorks(await loadModel(new URL(`file://${join(dir, 'ok')}/`)));
  });

  it('accepts plain arrays of numbers as data', async () => {
    const model = await loadModel(bundle);
    const out = await model.run({
      x: { dtype: 'float32', dims: [2, 3], data: X },
      i: { dtype: 'int32', dims: [1], data: [5] },
    });
    expect(numbers(out['out/y'])).toEqual(expectedY(X));
    expect(numbers(out.picked)).toEqual([6]);
  });

  it('returns fresh output arrays that later runs do not change', async () => {
    const model = await loadModel(bundle);
    const first = await model.run(fixtureFeeds(X));
    await model.run(fixtureFeeds([0, 0, 0, 0, 0, 0]));
    expect(numbers(first['out/y'])).toEqual(expectedY(X));
  });

  it('reads the feeds when run() is called: changing them before the run finishes changes nothing', async () => {
    const model = await loadModel(bundle);
    // a run queued behind another, and one that is first in line
    const busy = model.run(fixtureFeeds(X));
    for (const queued of [true, false]) {
      if (!queued) await busy;
      const feeds = fixtureFeeds(X, 2);
      const plain = [...X];
      const fromTyped = model.run(feeds);
      const fromPlain = model.run({ x: { dtype: 'float32', dims: [2, 3], data: plain }, i: feeds.i });
      feeds.x.data.fill(0);
      feeds.i.data.fill(4);
      plain.fill(0);
      for (const out of await Promise.all([fromTyped, fromPlain])) {
        expect(numbers(out['out/y'])).toEqual(expectedY(X));
        expect(numbers(out.picked)).toEqual([WEIGHT_VALUES[2]]);
      }
    }
  });

  it('takes bigints and safe integers for int64, booleans for bool (as the server does)', () => {
    expect(
      Array.from(typedFromValues('t', 'int64', [-(2n ** 63n), 3, 2n ** 63n - 1n]) as ArrayLike<unknown>),
    ).toEqual([-(2n ** 63n), 3n, 2n ** 63n - 1n]);
    expect(() => typedFromValues('t', 'uint64', [2n ** 64n])).toThrow(
      't: element 0 is 18446744073709551616n',
    );
    expect(Array.from(typedFromValues('t', 'bool', [true, false]) as ArrayLike<unknown>)).toEqual([1, 0]);
    expect(() => typedFromValues('t', 'bool', [1])).toThrow('t: element 0 is 1, expected true or false');
  });

  it('serializes concurrent runs', async () => {
    const model = await loadModel(bundle);
    const inputs = Array.from({ length: 20 }, (_, r) => X.map((v) => v + r));
    const outs = await Promise.all(inputs.map((xs, r) => model.run(fixtureFeeds(xs, r % 6))));
    outs.forEach((out, r) => {
      expect(numbers(out['out/y'])).toEqual(expectedY(inputs[r]));
      expect(numbers(out.picked)).toEqual([WEIGHT_VALUES[r % 6]]);
    });
  });

  it('a failing run in the queue does not hold up or break the runs queued after it', async () => {
    const model = await loadModel(bundle);
    const [before, bad, after] = await Promise.allSettled([
      model.run(fixtureFeeds(X, 1)),
      model.run({ x: fixtureFeeds(X).x } as never),
      model.run(fixtureFeeds(X, 3)),
    ]);
    expect(before.status === 'fulfilled' && numbers(before.value.picked)).toEqual([WEIGHT_VALUES[1]]);
    expect(bad.status === 'rejected' && String(bad.reason)).toContain('input "i" is missing');
    expect(after.status === 'fulfilled' && numbers(after.value.picked)).toEqual([WEIGHT_VALUES[3]]);
  });

  it('asks for the WebGPU entry point when the webgpu backend has none, and rejects unknown backends', async () => {
    for (const gpu of [undefined, {} as never])
      await expect(loadModel(bundle, { backend: 'webgpu', gpu })).rejects.toThrow(
        "loadModel: the webgpu backend needs options.gpu, the WebGPU entry point: navigator.gpu in a browser, or create([]) from the 'webgpu' npm package in Node",
      );
    await expect(loadModel(bundle, { backend: 'cuda' as never })).rejects.toThrow('unknown backend "cuda"');
  });

  it('refuses a run after dispose', async () => {
    const model = await loadModel(bundle);
    model.dispose();
    await expect(model.run(fixtureFeeds(X))).rejects.toThrow('model "fixture" was disposed');
  });

  it('names the directory and file when a bundle directory is missing', async () => {
    await expect(loadModel(join(dir, 'nope'))).rejects.toThrow(
      /cannot read manifest\.json of the bundle at .*nope/,
    );
  });
});

describe('bad feeds', () => {
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(bundle);
  });

  const good = fixtureFeeds(X);
  const cases: [string, Record<string, unknown>, string | RegExp][] = [
    ['missing input', { x: good.x }, 'model "fixture": input "i" is missing (expected i (int32[1]))'],
    [
      'extra input',
      { ...good, z: good.x },
      'model "fixture": unknown input "z"; the model\'s inputs are x (float32[2,3]), i (int32[1])',
    ],
    ['not a tensor', { ...good, x: new Float32Array(6) }, 'input "x" must be a tensor { dtype, dims, data }'],
    ['misnamed input', { X: good.x, i: good.i }, 'unknown input "X"'],
    [
      'wrong dtype',
      { ...good, x: { ...good.x, dtype: 'float64' } },
      'input "x" has dtype float64 but the model expects float32',
    ],
    [
      'wrong dims',
      { ...good, x: { ...good.x, dims: [3, 2] } },
      'input "x" has dims [3,2] but the model expects [2,3]',
    ],
    [
      'short data',
      { ...good, x: { ...good.x, data: new Float32Array(5) } },
      'input "x" has 5 data elements but dims [2,3] need 6',
    ],
    [
      'wrong array type',
      { ...good, x: { ...good.x, data: new Int32Array(6) } },
      'input "x" data is a Int32Array but float32 needs a Float32Array',
    ],
  ];
  const withX = (data: unknown) => ({ ...good, x: { ...good.x, data } });
  const withI = (data: unknown) => ({ ...good, i: { ...good.i, data } });
  cases.push(
    // plain arrays are checked element by element, as the server checks JSON data: never NaN
    ['strings', withX(Array(6).fill('abc')), 'input "x": element 0 is "abc", expected a number'],
    ['holes', withX([1, 2, , 4, 5, 6]), 'input "x": element 2 is undefined (a hole or a missing element)'],
    ['an empty array', withX(new Array(6)), 'input "x": element 0 is undefined'],
    ['objects', withX([1, 2, 3, {}, 5, 6]), 'input "x": element 3 is an object, expected a number'],
    ['a nested array', withX([[1, 2, 3], 4, 5, 6, 7, 8]), 'input "x": element 0 is an array'],
    ['a boolean for a float', withX([true, 2, 3, 4, 5, 6]), 'element 0 is true, expected a number'],
    ['a fraction for an int', withI([1.5]), 'input "i": element 0 is 1.5, expected an integer in'],
    ['an int out of range', withI([2 ** 31]), 'element 0 is 2147483648, expected an integer in'],
    ['a numeric string for an int', withI(['1']), 'input "i": element 0 is "1", expected an integer'],
    ['a bigint for int32', withI([1n]), 'input "i": element 0 is 1n, expected an integer'],
    ['feeds only through a prototype', Object.create(good), 'model "fixture": input "x" is missing'],
    [
      'one feed through a prototype',
      Object.assign(Object.create({ i: good.i }), { x: good.x }),
      'input "i" is missing',
    ],
    [
      'string dims',
      { ...good, x: { ...good.x, dims: ['2', '3'] } },
      'has dims ["2","3"] but the model expects [2,3]',
    ],
    [
      'data with no constructor',
      withX(Object.assign(Object.create(null), { length: 6 })),
      'input "x" data is an object but float32',
    ],
  );
  it.each(cases)('%s: clear error, and the model still works afterwards', async (_, feeds, message) => {
    await expect(model.run(feeds as never)).rejects.toThrow(message);
    await expectWorks(model);
  });

  it('a trap inside wasm becomes an error and the model still works afterwards', async () => {
    await expect(model.run(fixtureFeeds(X, 100_000_000))).rejects.toThrow(
      /model "fixture": run\(\) trapped: .*out of bounds/,
    );
    await expectWorks(model);
  });
});

describe('refused bundles', () => {
  const flip = (bytes: Uint8Array, at: number): Uint8Array => {
    const copy = bytes.slice();
    copy[at] ^= 1;
    return copy;
  };
  /** the fixture with its manifest changed and sealed again, as a compiler that wrote it so would */
  const resealed = (change: (m: Manifest) => Partial<Manifest>) => () =>
    sealBundle({ ...bundle, manifest: { ...bundle.manifest, ...change(bundle.manifest) } });
  const changed = (change: (m: Manifest) => Partial<Manifest>) => () => ({
    ...bundle,
    manifest: { ...bundle.manifest, ...change(bundle.manifest) },
  });
  const withOutput = (i: number, change: Partial<TensorSignature>) => (m: Manifest) => ({
    outputs: m.outputs.map((o, j) => (j === i ? { ...o, ...change } : o)),
  });
  const withMemory = (change: Partial<MemoryPlan>) => (m: Manifest) => ({
    memory: { ...m.memory, ...change },
  });
  const refusals: [string, () => BundleFiles | Promise<BundleFiles>, string][] = [
    [
      'tampered wasm',
      () => ({ ...bundle, wasm: flip(bundle.wasm, bundle.wasm.length - 1) }),
      'bundle file model.wasm failed its sha256 check: the bundle is corrupt or was modified',
    ],
    [
      'tampered weights',
      () => ({ ...bundle, weights: flip(bundle.weights, 0) }),
      'bundle file weights.bin failed its sha256 check',
    ],
    [
      'tampered manifest hash',
      () => ({
        ...bundle,
        manifest: { ...bundle.manifest, files: { ...bundle.manifest.files, 'weights.bin': '0'.repeat(64) } },
      }),
      'bundle file weights.bin failed its sha256 check: the bundle is corrupt or was modified (weights.bin has sha256 ',
    ],
    [
      'a manifest hash that is not a sha256',
      () => ({
        ...bundle,
        manifest: { ...bundle.manifest, files: { ...bundle.manifest.files, 'weights.bin': 'zz' } },
      }),
      'bundle manifest.json lists "zz" as the sha256 of weights.bin, which is not a sha256: manifest.json is corrupt or was modified',
    ],
    [
      'two tampered files',
      () => ({ ...bundle, wasm: flip(bundle.wasm, 9), weights: flip(bundle.weights, 0) }),
      'bundle files failed their sha256 checks: the bundle is corrupt or was modified (model.wasm has sha256 ',
    ],
    [
      'a format version given as a string',
      changed(() => ({ format: '1' as never })),
      'bundle format version "1" is not supported by this runtime (supports 1)',
    ],
    [
      'unknown format version',
      () => ({ ...bundle, manifest: { ...bundle.manifest, format: 2 } }),
      'bundle format version 2 is not supported by this runtime (supports 1)',
    ],
    [
      'weights length that disagrees with the memory plan',
      () => ({
        ...bundle,
        manifest: { ...bundle.manifest, memory: { ...bundle.manifest.memory, weightsBytes: 128 } },
      }),
      'bundle weights.bin holds 64 bytes but the memory plan expects 128',
    ],
    [
      'input outside the input/output region',
      () => ({
        ...bundle,
        manifest: {
          ...bundle.manifest,
          inputs: [{ ...bundle.manifest.inputs[0], offset: 32 }, bundle.manifest.inputs[1]],
        },
      }),
      'bundle memory plan: input "x" (bytes 32..56) lies outside the input/output region (bytes 128..256)',
    ],
    [
      'inputs overlapping each other',
      () => ({
        ...bundle,
        manifest: {
          ...bundle.manifest,
          inputs: [bundle.manifest.inputs[0], { ...bundle.manifest.inputs[1], offset: 144 }],
        },
      }),
      'bundle memory plan: input "x" (bytes 128..152) and input "i" (bytes 144..148) overlap',
    ],
    [
      'output outside memory',
      () => ({
        ...bundle,
        manifest: { ...bundle.manifest, outputs: [{ ...bundle.manifest.outputs[0], offset: 65520 }] },
      }),
      'bundle memory plan: output "out/y" (bytes 65520..65544) exceeds memory of 65536 bytes',
    ],
    [
      'manifest without a memory plan',
      () => ({ ...bundle, manifest: { ...bundle.manifest, memory: undefined as never } }),
      'bundle manifest is malformed: memory must be an object',
    ],
    [
      'wasm file name that is a path',
      () => ({
        ...bundle,
        manifest: { ...bundle.manifest, wasm: { ...bundle.manifest.wasm, file: '../x.wasm' } },
      }),
      'bundle manifest is malformed: wasm.file "../x.wasm" must be a plain .wasm file name',
    ],
    [
      'missing targets',
      resealed(() => ({ targets: ['webgpu'] })),
      'the bundle was built without the wasm target',
    ],
    // #16.1: every place the manifest gives is checked, even in a manifest sealed with its module
    [
      'an output pointed at the weights',
      resealed(withOutput(0, { offset: 0 })),
      'bundle memory plan: output "out/y" (bytes 0..24) lies outside the input/output region (bytes 128..256)',
    ],
    [
      'an output on top of an input',
      resealed(withOutput(1, { offset: 128 })),
      'bundle memory plan: input "x" (bytes 128..152) and output "picked" (bytes 128..132) overlap',
    ],
    [
      'two outputs on the same bytes',
      resealed(withOutput(1, { offset: 192 })),
      'bundle memory plan: output "out/y" (bytes 192..216) and output "picked" (bytes 192..196) overlap',
    ],
    [
      'a misaligned output',
      resealed(withOutput(1, { offset: 228 })),
      'bundle memory plan: output "picked" starts at byte 228, which is not 16-byte aligned',
    ],
    [
      'an output whose byteLength disagrees with dtype×shape',
      resealed(withOutput(0, { shape: [3, 3] })),
      'bundle output "out/y" is 24 bytes but float32[3,3] needs 36',
    ],
    [
      'the input/output region over the weights',
      resealed(withMemory({ ioOffset: 0, ioBytes: 256 })),
      'bundle memory plan: the weights (bytes 0..64) and the input/output region (bytes 0..256) overlap',
    ],
    [
      'the arena over the persistent region',
      resealed(withMemory({ arenaOffset: 64, arenaBytes: 32 })),
      'bundle memory plan: the persistent region (bytes 64..128) and the arena (bytes 64..96) overlap',
    ],
    [
      'a misaligned region',
      resealed(withMemory({ arenaOffset: 260 })),
      'bundle memory plan: the arena starts at byte 260, which is not 16-byte aligned',
    ],
    [
      'a memory plan larger than the module can grow to',
      resealed(withMemory({ totalBytes: 131072 })),
      "bundle memory plan: totalBytes 131072 is more than the 65536 bytes model.wasm's memory can grow to",
    ],
    [
      'two weights on the same bytes',
      resealed((m) => ({
        weights: [...m.weights, { name: 'w2', dtype: 'float32', dims: [2], offset: 0, byteLength: 8 }],
      })),
      'bundle weights.bin: weight "w" (bytes 0..24) and weight "w2" (bytes 0..8) overlap',
    ],
    [
      'init named as the run export',
      resealed((m) => ({ wasm: { ...m.wasm, exports: { ...m.wasm.exports, run: 'init' } } })),
      'bundle manifest is malformed: wasm.exports.run must be "run" (the bundle contract), got "init"',
    ],
    [
      'a module without the contract exports',
      async () => {
        const empty = Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0);
        return sealBundle({ ...bundle, wasm: empty });
      },
      'bundle file model.wasm does not export a memory "memory": it is not the module this manifest describes',
    ],
    [
      'an unknown target',
      changed(() => ({ targets: ['wasm', 'cuda'] as never })),
      'bundle manifest is malformed: targets must list each of wasm, webgpu at most once, got ["wasm","cuda"]',
    ],
    [
      'a file list reaching outside the bundle',
      changed((m) => ({ files: { ...m.files, '../../etc/passwd': 'x' } })),
      'bundle manifest is malformed: files lists "../../etc/passwd", which is not a file of the bundle',
    ],
    // fields each plausible alone, changed after compiling: the digest in model.wasm no longer matches
    [
      'an output dtype changed after compiling',
      changed(withOutput(0, { dtype: 'int32' })),
      'bundle manifest.json does not match model.wasm: the manifest was modified after the bundle was compiled',
    ],
    [
      'an output shape changed after compiling',
      changed(withOutput(0, { shape: [3, 2] })),
      'bundle manifest.json does not match model.wasm: the manifest was modified after the bundle was compiled',
    ],
  ];
  it.each(refusals)('%s (in memory)', async (_, make, message) => {
    await expect(loadModel(await make())).rejects.toThrow(message);
  });

  it('a circular manifest passed in memory is refused with a message, not a stack overflow', async () => {
    const circular: Record<string, unknown> = { ...bundle.manifest };
    circular.self = circular;
    await expect(loadModel({ ...bundle, manifest: circular as never })).rejects.toThrow(
      'bundle manifest is malformed: nested deeper than 32 levels',
    );
  });

  it('a compiled module (as a Worker passes it) is held to its exports and digest too', async () => {
    const tampered = changed(withOutput(0, { dtype: 'int32' }))();
    const wasm = await WebAssembly.compile(bundle.wasm as Uint8Array<ArrayBuffer>);
    await expect(loadModel({ ...tampered, wasm })).rejects.toThrow(
      'bundle manifest.json does not match model.wasm: the manifest was modified after the bundle was compiled',
    );
    const empty = await WebAssembly.compile(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
    await expect(loadModel({ ...bundle, wasm: empty })).rejects.toThrow(
      'bundle file model.wasm does not export a memory "memory"',
    );
  });

  it('a tampered file in a directory is refused', async () => {
    const bad = join(dir, 'tampered');
    await writeBundle(bad, bundle);
    const wasm = await readFile(join(bad, 'model.wasm'));
    await writeFile(join(bad, 'model.wasm'), flip(wasm, 10));
    await expect(loadModel(bad)).rejects.toThrow('bundle file model.wasm failed its sha256 check');
  });

  it('an unknown format version in a directory is refused before anything else is read', async () => {
    const future = join(dir, 'future');
    await writeBundle(future, bundle);
    await writeFile(join(future, 'manifest.json'), JSON.stringify({ format: 7, anything: 'else' }));
    await expect(loadModel(future)).rejects.toThrow(
      'bundle format version 7 is not supported by this runtime (supports 1)',
    );
  });
});
