/**
 * Runs hand-built Programs through the WGSL generator and the real WebGPU executor (Dawn on whatever
 * adapter the machine has: lavapipe in CI), next to the wasm generator as the reference.
 */
import { expect } from 'vitest';
import { DTYPES, type TypedArray } from '../../../src/ir/dtype.js';
import type { PlacedBuffer, Program } from '../../../src/kernels/ir.js';
import type { Manifest, TensorSignature } from '../../../src/bundle/manifest.js';
import { compileProgramWgsl, type WgslProgram } from '../../../src/codegen/wgsl/index.js';
import { evaluateProgram } from '../../../src/codegen/wasm/index.js';
import { WebGpuInstance } from '../../../src/runtime/webgpu-backend.js';
import { testGpu } from '../../helpers/gpu.js';
import type { Elements, NumDType } from '../harness.js';

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
    webgpu: { file: 'model.wgsl', memoryBytes: compiled.memoryBytes, init: compiled.init, run: compiled.run },
    files: {},
  };
}

/** Compile `program` to WGSL and run it once on the GPU; returns the outputs' contents and the compiled program. */
export async function runWgsl(
  program: Program,
  inputs: Input[],
  outputs: PlacedBuffer[],
): Promise<{ results: Elements[]; compiled: WgslProgram }> {
  const compiled = compileProgramWgsl(program);
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
export async function runBoth(program: Program, inputs: Input[], outputs: PlacedBuffer[]) {
  const gpu = await runWgsl(program, inputs, outputs);
  const wasm = evaluateProgram(program, inputs, outputs);
  return { ...gpu, wasm };
}

/**
 * Element-wise agreement: integers exactly, floats within abs + rel·|ref| (NaN matches NaN, infinities
 * match themselves). Reports the first mismatches with their indices.
 */
export function expectClose(
  actual: Elements,
  expected: Elements,
  tol: { rel?: number; abs?: number } = {},
  label = '',
): void {
  const rel = tol.rel ?? 0;
  const abs = tol.abs ?? 0;
  const bad: string[] = [];
  expect(actual.length, `${label} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const exact = typeof e !== 'number' || !Number.isFinite(e) || rel + abs === 0;
    const ok = exact
      ? Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))
      : Math.abs(a - e) <= abs + rel * Math.abs(e);
    if (!ok && bad.length < 8) bad.push(`[${i}] got ${a}, expected ${e}`);
  }
  expect(bad, `${label} mismatches`).toEqual([]);
}
