/**
 * Runs hand-built Programs and the shared kernel cases through the WGSL generator and the real WebGPU
 * executor (Dawn on whatever adapter the machine has: lavapipe in CI).
 */
import { expect } from 'vitest';
import { DTYPES, type TypedArray } from '../../../src/ir/dtype.js';
import type { PlacedBuffer, Program } from '../../../src/kernels/ir.js';
import type { Manifest, TensorSignature } from '../../../src/bundle/manifest.js';
import { compileProgramWgsl, type WgslOptions, type WgslProgram } from '../../../src/codegen/wgsl/index.js';
import { evaluateProgram } from '../../../src/codegen/wasm/index.js';
import { WebGpuInstance } from '../../../src/runtime/webgpu-backend.js';
import { testGpu } from '../../helpers/gpu.js';
import { dataOf, programOfCase, type CodegenTarget, type KernelCase } from '../cases/case.js';
import type { Elements, NumDType } from '../program.js';

export { expectClose } from '../cases/case.js';

export interface Input {
  buf: PlacedBuffer;
  data: TypedArray;
}

const signature = (buf: PlacedBuffer): TensorSignature => ({
  name: `b${buf.id}`,
  dtype: buf.dtype,
  shape: [buf.length],
  offset: buf.offset,
  byteLength: buf.length * DTYPES[buf.dtype as NumDType].bytes,
});

/** A bundle manifest whose inputs are `inputs` and outputs `outputs`, for the compiled program. */
export function manifestFor(compiled: WgslProgram, inputs: Input[], outputs: PlacedBuffer[]): Manifest {
  return {
    format: 1,
    compiler: 'test',
    model: { name: 'wgsl test', sha256: '' },
    inputs: inputs.map((i) => signature(i.buf)),
    outputs: outputs.map(signature),
    targets: ['webgpu'],
    weights: [],
    memory: {
      totalBytes: compiled.memoryBytes,
      weightsOffset: 64,
      weightsBytes: 0,
      persistentOffset: 64,
      persistentBytes: 0,
      ioOffset: 64,
      ioBytes: 0,
      arenaOffset: 64,
      arenaBytes: 0,
      arenaUnplannedBytes: 0,
    },
    wasm: { file: 'model.wasm', exports: { memory: 'memory', init: 'init', run: 'run' }, simd: true },
    webgpu: {
      file: 'model.wgsl',
      ...(compiled.halfFrom !== undefined && { halfFrom: compiled.halfFrom }),
      memoryBytes: compiled.memoryBytes,
      segments: compiled.segments,
      init: compiled.init,
      run: compiled.run,
    },
    files: {},
  };
}

/** Compile `program` to WGSL and run it once on the GPU; returns the outputs' contents and the compiled program. */
export async function runWgsl(
  program: Program,
  inputs: Input[],
  outputs: PlacedBuffer[],
  options: WgslOptions = {},
): Promise<{ results: Elements[]; compiled: WgslProgram }> {
  const compiled = compileProgramWgsl(program, options);
  const manifest = manifestFor(compiled, inputs, outputs);
  const files = { manifest, wasm: new Uint8Array(0), weights: new Uint8Array(0), wgsl: compiled.code };
  const instance = await WebGpuInstance.create(files, await testGpu());
  try {
    const out = await instance.run(
      inputs.map((i) => new Uint8Array(i.data.buffer, i.data.byteOffset, i.data.byteLength)),
    );
    return { results: manifest.outputs.map((sig) => out[sig.name].data as Elements), compiled };
  } finally {
    instance.dispose();
  }
}

/** Runs `program` on the GPU and through the wasm generator; returns both. */
export async function runBoth(
  program: Program,
  inputs: Input[],
  outputs: PlacedBuffer[],
  options: WgslOptions = {},
) {
  const gpu = await runWgsl(program, inputs, outputs, options);
  const wasm = evaluateProgram(program, inputs, outputs);
  return { ...gpu, wasm };
}

/** The case alone through the WGSL generator, for checks of its dispatches and code (no GPU needed). */
export const compileCase = (c: KernelCase): WgslProgram => compileProgramWgsl(programOfCase(c).program);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Each case run once on the GPU, but the float64 cases: they state f64 results, and WGSL has no f64 (int64 is
 * emulated). The webgpu target refuses them, or computes them in f32 from float64 storage (float64.test.ts and
 * demote-f64.test.ts check those results against the wasm target within float tolerance).
 */
export const webgpuTarget: CodegenTarget = {
  name: 'webgpu',
  async run(c) {
    const { program, bufs } = programOfCase(c);
    const inputs = c.buffers.flatMap((s, i) => (s.data ? [{ buf: bufs[i], data: dataOf(s)! }] : []));
    return [{ variant: 'webgpu', buffers: (await runWgsl(program, inputs, bufs)).results }];
  },
  refuses: (c) => c.buffers.some((s) => s.dtype === 'float64'),
  expectRefusal(c) {
    const { program } = programOfCase(c);
    const kernel = escapeRegExp(program.run[0].name);
    let code: string;
    try {
      code = compileProgramWgsl(program).code;
    } catch (err) {
      expect((err as Error).message, c.name).toMatch(
        new RegExp(`^webgpu codegen: kernel "${kernel}": .*not supported`),
      );
      return;
    }
    // computed in f32 (the generator has no f64 type), the float64 buffers read and written as f64
    expect(code, c.name).toMatch(/\b(ld|st)_f64_mem\d+\(/);
  },
};
