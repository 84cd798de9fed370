/**
 * The benchmark inputs: how each one is filled, deterministically, so every process (the timing
 * parent, the cold-start children, the tests) feeds the same values. Kept free of compiler and
 * protobuf code: the cold-start child bundles it.
 */
import type { DType } from '../../src/ir/dtype.js';
import { tensorFromNumbers, type HostTensor } from '../../src/ir/tensor.js';

/** One runtime input of a benchmark model. */
export interface BenchInput {
  name: string;
  dtype: DType;
  /** the concrete shape benchmarked (the model itself may declare symbolic dims, as exporters do) */
  dims: number[];
  /** `image`: floats in [-1, 1); `ids`: token ids below `vocab`; `mask`: ones, the last eighth zeros (padding) */
  fill: 'image' | 'ids' | 'mask';
  vocab?: number;
}

/** mulberry32, the generator of tests/helpers/onnx-builder.ts (copied: that file pulls in protobuf). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function benchFeed(input: BenchInput): HostTensor {
  const n = input.dims.reduce((a, b) => a * b, 1);
  const rand = seeded(7);
  if (input.fill === 'image')
    return {
      dtype: 'float32',
      dims: input.dims,
      data: Float32Array.from({ length: n }, () => rand() * 2 - 1),
    };
  const row = input.dims[input.dims.length - 1];
  const values = Array.from({ length: n }, (_, i) => {
    if (input.fill === 'mask') return i % row < (row * 7) / 8 ? 1 : 0;
    return i % row === 0 ? 101 : Math.floor(rand() * (input.vocab ?? 1000)); // 101 = [CLS]
  });
  return tensorFromNumbers(input.dtype, input.dims, values);
}

export const benchFeeds = (inputs: BenchInput[]): Record<string, HostTensor> =>
  Object.fromEntries(inputs.map((i) => [i.name, benchFeed(i)]));
