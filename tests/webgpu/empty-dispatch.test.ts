/**
 * A dispatch whose count of invocations depends on run-time dims is skipped when that count is 0 (Dawn
 * warns "DispatchWorkgroups with a workgroup count of 0" otherwise): a pass wrapper records every
 * dispatch the runtime encodes, on Dawn.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import type { GpuAdapterLike, GpuDeviceLike, GpuLike } from '../../src/runtime/webgpu-types.js';
import { buildModel } from '../helpers/onnx-builder.js';
import { testGpu } from '../helpers/gpu.js';

/** `target` with its methods bound, and `overrides` in place of some. */
function wrap<T extends object>(target: T, overrides: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(t, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof T];
      const value = Reflect.get(t, prop, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

/** The real GPU, recording the workgroup counts of every dispatch encoded on its devices. */
function recordingGpu(gpu: GpuLike, counts: number[][]): GpuLike {
  return {
    async requestAdapter(options) {
      const adapter = (await gpu.requestAdapter(options))!;
      return wrap<GpuAdapterLike>(adapter, {
        requestDevice: async (descriptor: Parameters<GpuAdapterLike['requestDevice']>[0]) => {
          const device = await adapter.requestDevice(descriptor);
          return wrap<GpuDeviceLike>(device, {
            createCommandEncoder: () => {
              const encoder = device.createCommandEncoder();
              return wrap(encoder, {
                beginComputePass: () => {
                  const pass = encoder.beginComputePass();
                  return wrap(pass, {
                    dispatchWorkgroups: (...xyz: number[]) => {
                      counts.push(xyz);
                      (pass.dispatchWorkgroups as (...n: number[]) => void)(...xyz);
                    },
                  });
                },
              });
            },
          });
        },
      });
    },
  };
}

describe('a Relu over [n, 4] with n in 0..8 on webgpu', () => {
  const bytes = buildModel({
    name: 'rows',
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 4] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  });
  const counts: number[][] = [];
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, { dims: { n: { min: 0, max: 8 } }, targets: ['wasm', 'webgpu'] });
    model = await loadModel(files, { backend: 'webgpu', gpu: recordingGpu(await testGpu(), counts) });
  }, 120_000);
  afterAll(() => model.dispose());

  test('at n = 0 encodes no dispatch of 0 workgroups and returns an empty output', async () => {
    counts.length = 0;
    const out = await model.run({ x: { dtype: 'float32', dims: [0, 4], data: new Float32Array(0) } });
    expect(out.y.dims).toEqual([0, 4]);
    expect(counts.filter((c) => c.includes(0))).toEqual([]);
  });

  test('at n = 3 dispatches and computes', async () => {
    counts.length = 0;
    const data = Float32Array.from({ length: 12 }, (_, i) => i - 6);
    const out = await model.run({ x: { dtype: 'float32', dims: [3, 4], data } });
    expect(Array.from(out.y.data as Float32Array)).toEqual(Array.from(data, (v) => Math.max(0, v)));
    expect(counts.length).toBeGreaterThan(0);
  });
});
