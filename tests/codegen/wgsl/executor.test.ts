/** WebGpuInstance's errors: WGSL that does not compile names the kernel; memory beyond the adapter's limits. */
import { describe, expect, it } from 'vitest';
import { WebGpuInstance } from '../../../src/runtime/webgpu-backend.js';
import { testGpu } from '../../helpers/gpu.js';
import { manifestFor } from './harness.js';

const compiled = (code: string, memoryBytes = 256) => ({
  code,
  memoryBytes,
  segments: [{ offset: 0, bytes: memoryBytes, access: 'read_write' as const }],
  init: [],
  run: [
    {
      entry: 'k0_Conv_1',
      kernel: 'Conv/1',
      workgroups: [1, 1, 1] as [number, number, number],
      bindings: [0],
    },
  ],
});

const filesFor = (program: ReturnType<typeof compiled>) => ({
  manifest: manifestFor(program, [], []),
  wasm: new Uint8Array(0),
  weights: new Uint8Array(0),
  wgsl: program.code,
});

describe('WebGpuInstance', () => {
  it('names the kernel whose WGSL does not compile, with the line', async () => {
    const code = `@group(0) @binding(0) var<storage, read_write> mem0: array<u32>;
@compute @workgroup_size(64)
fn k0_Conv_1() {
  mem0[0] = undefined_thing;
}`;
    await expect(WebGpuInstance.create(filesFor(compiled(code)), await testGpu())).rejects.toThrow(
      /model "wgsl test": model.wgsl does not compile: kernel "Conv\/1" \(k0_Conv_1\), line 4:\d+: .*undefined_thing/,
    );
  });

  it('refuses a model whose memory exceeds the adapter limits, with the numbers', async () => {
    await expect(WebGpuInstance.create(filesFor(compiled('', 2 ** 40)), await testGpu())).rejects.toThrow(
      /needs a GPU storage buffer of 1099511627776 bytes \(intermediate tensors only\), but this adapter's maxBufferSize is \d+/,
    );
  });
});
