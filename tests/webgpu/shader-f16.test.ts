/**
 * Kernels on float16 tensors compute in f16 where the adapter has shader-f16 (lavapipe does), and in f32 on
 * float16 storage where it has not (an adapter wrapper hides the feature): both on Dawn, against wasm.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { sealBundle } from '../../src/bundle/seal.js';
import { loadModel } from '../../src/runtime/index.js';
import type { GpuAdapterLike, GpuLike } from '../../src/runtime/webgpu-types.js';
import { floatToHalf, halfToFloat } from '../../src/ir/float16.js';
import { buildModel } from '../helpers/onnx-builder.js';
import { testGpu } from '../helpers/gpu.js';

const N = 256;
// y = (a + b) + a: one node, so one kernel, with an intermediate that f16 compute rounds and f32 does not
const model = buildModel({
  name: 'fma16',
  inputs: [
    { name: 'a', dtype: 'float16', shape: [N] },
    { name: 'b', dtype: 'float16', shape: [N] },
  ],
  outputs: [{ name: 'y', dtype: 'float16', shape: [N] }],
  nodes: [{ op: 'Sum', inputs: ['a', 'b', 'a'], outputs: ['y'] }],
});

const bits = (f: (i: number) => number) => Uint16Array.from({ length: N }, (_, i) => floatToHalf(f(i)));
const a = bits((i) => 1 + i / 97);
const b = bits((i) => Math.sin(i) * 37);
const value = (h: Uint16Array, i: number) => halfToFloat(h[i]);
/** a + b rounded to f16 before the second add (f16 compute) or not (f32 compute), then rounded to f16 */
const expected = (roundIntermediate: boolean) =>
  Uint16Array.from({ length: N }, (_, i) => {
    const ab = Math.fround(value(a, i) + value(b, i));
    return floatToHalf((roundIntermediate ? halfToFloat(floatToHalf(ab)) : ab) + value(a, i));
  });

/** The real adapter, recording the features each device is asked for; `hide` drops shader-f16 from it. */
function recordingGpu(gpu: GpuLike, hide: boolean, asked: string[][]): GpuLike {
  return {
    async requestAdapter(options) {
      const adapter = await gpu.requestAdapter(options);
      if (!adapter) return adapter;
      const wrapped: GpuAdapterLike = {
        limits: adapter.limits,
        info: adapter.info,
        features: { has: (f: string) => !(hide && f === 'shader-f16') && adapter.features!.has(f) },
        requestDevice: (descriptor) => {
          asked.push([...(descriptor?.requiredFeatures ?? [])]);
          return adapter.requestDevice(descriptor);
        },
      };
      return wrapped;
    },
  };
}

async function runOn(hide: boolean) {
  const files = await compileModel(model, { targets: ['wasm', 'webgpu'] });
  const asked: string[][] = [];
  const m = await loadModel(files, { backend: 'webgpu', gpu: recordingGpu(await testGpu(), hide, asked) });
  try {
    const out = await m.run({
      a: { dtype: 'float16', dims: [N], data: a },
      b: { dtype: 'float16', dims: [N], data: b },
    });
    return { y: out.y.data as Uint16Array, asked, files };
  } finally {
    m.dispose();
  }
}

describe('webgpu shader-f16', () => {
  it('compiles a float16 kernel twice: f32 compute, and an f16 twin after halfFrom', async () => {
    const files = await compileModel(model, { targets: ['wasm', 'webgpu'] });
    const schedule = files.manifest.webgpu!;
    const twins = schedule.run.filter((d) => d.f16Entry);
    expect(twins.length).toBe(schedule.run.length);
    expect(schedule.halfFrom).toBeGreaterThan(0);
    const [full, half] = [files.wgsl!.slice(0, schedule.halfFrom), files.wgsl!.slice(schedule.halfFrom)];
    expect(full).not.toMatch(/\bf16\b/);
    for (const d of twins) expect(half).toContain(`fn ${d.f16Entry}(`);
  });

  it('computes in f16 where the adapter has shader-f16: each operation rounds to f16', async () => {
    const { y, asked } = await runOn(false);
    expect(asked).toEqual([['shader-f16']]);
    expect([...y]).toEqual([...expected(true)]);
    // the intermediate's rounding shows: f32 compute gives other bits for some elements
    expect([...expected(true)]).not.toEqual([...expected(false)]);
  });

  it('computes in f32 on float16 storage without the feature, as the wasm backend does', async () => {
    const { y, asked, files } = await runOn(true);
    expect(asked).toEqual([[]]);
    expect([...y]).toEqual([...expected(false)]);
    const wasm = await loadModel(files, { backend: 'wasm' });
    const out = await wasm.run({
      a: { dtype: 'float16', dims: [N], data: a },
      b: { dtype: 'float16', dims: [N], data: b },
    });
    expect([...(out.y.data as Uint16Array)]).toEqual([...y]);
    wasm.dispose();
  });

  it('refuses at load a schedule whose f16 twins are not after halfFrom, on every backend', async () => {
    const files = await compileModel(model, { targets: ['wasm', 'webgpu'] });
    const schedule = files.manifest.webgpu!;
    const withSchedule = (webgpu: typeof schedule) =>
      sealBundle({ ...files, manifest: { ...files.manifest, webgpu } });
    const first = schedule.run[0];
    const moved = await withSchedule({ ...schedule, run: [{ ...first, f16Entry: first.entry }] });
    await expect(loadModel(moved, { backend: 'wasm' })).rejects.toThrow(
      `bundle webgpu schedule: model.wgsl has no compute entry point "${first.entry}" after halfFrom`,
    );
    const past = await withSchedule({ ...schedule, halfFrom: files.wgsl!.length + 1 });
    await expect(loadModel(past, { backend: 'wasm' })).rejects.toThrow(
      `bundle webgpu schedule: halfFrom ${files.wgsl!.length + 1} is not a position in model.wgsl`,
    );
  });
});
