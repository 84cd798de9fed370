/** Which backend loadModel picks, and the clear errors when the webgpu target or backend cannot be used. */
import { beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { sealBundle } from '../../src/bundle/seal.js';
import { loadModel } from '../../src/runtime/index.js';
import { buildModel } from '../helpers/onnx-builder.js';
import { asFeeds, compileBoth, differences, modelBytes, nodeGpu, randomFeeds } from './fixture.js';

let both: BundleFiles;
let wasmOnly: BundleFiles;

beforeAll(async () => {
  both = await compileBoth('mlp');
  wasmOnly = await compileModel(await modelBytes('mlp'), { name: 'mlp', onWarning: () => {} });
});

describe('loadModel with a GPU', () => {
  it("'auto' takes webgpu when given a GPU and the bundle has the target, else wasm", async () => {
    const gpu = await nodeGpu();
    const picks = await Promise.all([
      loadModel(both, { gpu }),
      loadModel(both),
      loadModel(wasmOnly, { gpu }),
    ]);
    expect(picks.map((m) => m.backend)).toEqual(['webgpu', 'wasm', 'wasm']);
    const feeds = asFeeds(randomFeeds(both, 3));
    expect(differences(await picks[0].run(feeds), await picks[2].run(feeds))).toEqual([]);
    picks.forEach((m) => m.dispose());
    await expect(picks[0].run(feeds)).rejects.toThrow('model "mlp" was disposed');
  });

  it('reads the feeds when run() is called, as the wasm backend does', async () => {
    const [gpuModel, wasmModel] = await Promise.all([
      loadModel(both, { backend: 'webgpu', gpu: await nodeGpu() }),
      loadModel(both),
    ]);
    const feeds = asFeeds(randomFeeds(both, 5));
    const expected = await wasmModel.run(feeds);
    const pending = [gpuModel.run(feeds), gpuModel.run(feeds)];
    for (const feed of Object.values(feeds)) (feed.data as Float32Array).fill(0);
    for (const out of await Promise.all(pending)) expect(differences(out, expected)).toEqual([]);
    [gpuModel, wasmModel].forEach((m) => m.dispose());
  });

  it('refuses a bundle built without the webgpu target, and one passed in memory without its WGSL', async () => {
    const gpu = await nodeGpu();
    await expect(loadModel(wasmOnly, { backend: 'webgpu', gpu })).rejects.toThrow(
      'model "mlp": the bundle was built without the webgpu target (targets: wasm); compile it with --targets wasm,webgpu',
    );
    const { wgsl: _, ...withoutWgsl } = both;
    await expect(loadModel(withoutWgsl, { backend: 'webgpu', gpu })).rejects.toThrow(
      'model "mlp": the bundle lists the webgpu target but no WGSL was passed in (wgsl: the model.wgsl text)',
    );
  });
});

describe('a webgpu schedule that does not fit its WGSL', () => {
  it('is refused at load on every backend: each dispatch names a compute entry point of model.wgsl', async () => {
    const schedule = both.manifest.webgpu!;
    const renamed = await sealBundle({
      ...both,
      manifest: {
        ...both.manifest,
        webgpu: { ...schedule, run: [{ ...schedule.run[0], entry: 'k0_Missing' }, ...schedule.run.slice(1)] },
      },
    });
    await expect(loadModel(renamed, { backend: 'wasm' })).rejects.toThrow(
      'bundle webgpu schedule: model.wgsl has no compute entry point "k0_Missing"',
    );
    // a helper function of the module is not an entry point either
    const entries = new Set(schedule.run.map((d) => d.entry));
    const notCompute = [...both.wgsl!.matchAll(/^fn (\w+)\(/gm)]
      .map((m) => m[1])
      .find((f) => !entries.has(f))!;
    expect(notCompute).toBeDefined();
    const toHelper = await sealBundle({
      ...both,
      manifest: {
        ...both.manifest,
        webgpu: { ...schedule, run: [{ ...schedule.run[0], entry: notCompute }] },
      },
    });
    await expect(loadModel(toHelper, { backend: 'wasm' })).rejects.toThrow(
      `bundle webgpu schedule: model.wgsl has no compute entry point "${notCompute}"`,
    );
  });

  it('is refused at load when its segments do not tile memory or a dispatch binds no segment of it', async () => {
    const schedule = both.manifest.webgpu!;
    const withSchedule = (webgpu: typeof schedule) =>
      sealBundle({ ...both, manifest: { ...both.manifest, webgpu } });
    const last = schedule.segments.length - 1;
    const short = await withSchedule({
      ...schedule,
      segments: schedule.segments.map((s, i) => (i === last ? { ...s, bytes: s.bytes - 16 } : s)),
    });
    await expect(loadModel(short, { backend: 'wasm' })).rejects.toThrow(
      `bundle webgpu schedule: the segments end at byte ${schedule.memoryBytes - 16}, not at memoryBytes ${schedule.memoryBytes}`,
    );
    const outside = await withSchedule({
      ...schedule,
      run: [{ ...schedule.run[0], bindings: [schedule.segments.length] }, ...schedule.run.slice(1)],
    });
    await expect(loadModel(outside, { backend: 'wasm' })).rejects.toThrow(
      `bundle webgpu schedule: run[0] ("${schedule.run[0].entry}") bindings must be ascending segment indices below ${schedule.segments.length}, got [${schedule.segments.length}]`,
    );
  });
});

describe('compiling for webgpu', () => {
  // Pow on int32 computes in f64 and truncates to int32: f32 (WGSL has no f64) would not keep it exact
  const intPow = buildModel({
    name: 'intpow',
    inputs: [
      { name: 'x', dtype: 'int32', shape: [4] },
      { name: 'e', dtype: 'int32', shape: [4] },
    ],
    outputs: [{ name: 'y', dtype: 'int32', shape: [4] }],
    nodes: [{ op: 'Pow', inputs: ['x', 'e'], outputs: ['y'] }],
  });

  it('fails on a kernel the WGSL generator refuses, naming it and how to build without webgpu', async () => {
    await expect(compileModel(intPow, { targets: ['wasm', 'webgpu'] })).rejects.toThrow(
      /^the webgpu target cannot be built: .*f64 values are not supported with the int32 buffer.*\(drop webgpu from --targets to build the wasm target alone\)$/,
    );
    const wasm = await compileModel(intPow, { targets: ['wasm'] });
    expect(wasm.manifest.targets).toEqual(['wasm']);
  });

  it('builds webgpu on top of wasm, never alone', async () => {
    await expect(compileModel(intPow, { targets: ['webgpu'] })).rejects.toThrow(
      'every bundle includes the wasm target (got targets webgpu); use --targets wasm,webgpu',
    );
  });
});
