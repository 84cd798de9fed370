/**
 * A tiny hand-built bundle for runtime and CLI tests, independent of the ONNX frontend and passes:
 *   out/y  = x * w + bias   (x float32[2,3] input, w a weight, bias = 1 computed by init())
 *   picked = w[i]           (i int32[1] input; an index far out of range makes run() trap)
 */
import { compileProgram } from '../../src/codegen/wasm/index.js';
import { FORMAT_VERSION, type KernelInfo, type Manifest } from '../../src/bundle/manifest.js';
import { packWeights, sealBundle } from '../../src/bundle/seal.js';
import { sha256Hex } from '../../src/bundle/hash.js';
import { WASM_FILE, type BundleFiles } from '../../src/bundle/files.js';
import type { PlacedBuffer, Program } from '../../src/kernels/ir.js';
import { add, f32, i32, load, loop, mul, store, v } from '../../src/kernels/build.js';
import { tensorFromNumbers } from '../../src/ir/tensor.js';
import type { Tensor } from '../../src/runtime/index.js';

export const WEIGHT_VALUES = [1, 2, 3, 4, 5, 6];

/** y for input x, as the fixture computes it */
export const expectedY = (x: number[]): number[] => x.map((xi, k) => xi * WEIGHT_VALUES[k] + 1);

const buf = (id: number, dtype: PlacedBuffer['dtype'], length: number, offset: number): PlacedBuffer => ({
  id,
  dtype,
  length,
  offset,
});

// memory: weights at 0 (64 bytes), persistent bias at 64, inputs at 128 and 160, outputs at 192 and 224
const w = buf(0, 'float32', 6, 0);
const bias = buf(1, 'float32', 6, 64);
const x = buf(2, 'float32', 6, 128);
const idx = buf(3, 'int32', 1, 160);
const y = buf(4, 'float32', 6, 192);
const picked = buf(5, 'float32', 1, 224);

export const fixtureProgram: Program = {
  buffers: [w, bias, x, idx, y, picked],
  memoryBytes: 65536,
  init: [{ name: 'fill_bias', body: [loop('k', 6, [store(bias, v('k'), f32(1))])] }],
  run: [
    {
      name: 'mul_add',
      body: [
        loop('k', 6, [store(y, v('k'), add(mul(load(x, v('k')), load(w, v('k'))), load(bias, v('k'))))]),
      ],
    },
    { name: 'pick', body: [store(picked, i32(0), load(w, load(idx, i32(0))))] },
  ],
};

/** `kernels`: a kernel table for the manifest (the fixture's own has none) */
export async function buildFixtureBundle(kernels?: KernelInfo[]): Promise<BundleFiles> {
  const weights = packWeights([{ name: 'w', tensor: tensorFromNumbers('float32', [2, 3], WEIGHT_VALUES) }]);
  const wasm = await compileProgram(fixtureProgram, { optimize: true });
  const signature = (name: string, b: PlacedBuffer, shape: number[]) => ({
    name,
    dtype: b.dtype,
    shape,
    offset: b.offset,
    byteLength: b.length * 4,
  });
  const manifest: Manifest = {
    format: FORMAT_VERSION,
    compiler: 'hand-built test fixture',
    model: { name: 'fixture', sha256: await sha256Hex('fixture') },
    inputs: [signature('x', x, [2, 3]), signature('i', idx, [1])],
    outputs: [signature('out/y', y, [2, 3]), signature('picked', picked, [1])],
    targets: ['wasm'],
    weights: weights.table,
    memory: {
      totalBytes: 65536,
      weightsOffset: 0,
      weightsBytes: weights.bytes.byteLength,
      persistentOffset: 64,
      persistentBytes: 64,
      ioOffset: 128,
      ioBytes: 128,
      arenaOffset: 256,
      arenaBytes: 0,
      arenaUnplannedBytes: 0,
    },
    wasm: { file: WASM_FILE, exports: { memory: 'memory', init: 'init', run: 'run' }, simd: true },
    files: {},
    ...(kernels && { kernels }),
  };
  return sealBundle({ manifest, wasm, weights: weights.bytes });
}

/** Output data as plain numbers, for comparisons. */
export const numbers = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number);

/** Feeds for the fixture; `i` picks a weight. */
export const fixtureFeeds = (xs: number[], i = 0) => ({
  x: { dtype: 'float32' as const, dims: [2, 3], data: Float32Array.from(xs) },
  i: { dtype: 'int32' as const, dims: [1], data: Int32Array.of(i) },
});
