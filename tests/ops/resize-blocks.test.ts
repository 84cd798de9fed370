/**
 * Static Resize against onnxruntime, in both wasm variants: the nearest modes whose source index is ⌊o / k⌋
 * for a whole factor k run as blocks (ops/shape/upsample-blocks.ts: each element stored k times per row,
 * interleaved f32x4 stores for k = 2 and 4), linear ×2 with half-pixel centres with fixed weights
 * (ops/shape/linear-doubling.ts), every other mode as taps; odd heights and widths so the
 * vectorized rows have scalar tails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { writeBundle } from '../../src/bundle/node.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { loadModel } from '../../src/runtime/index.js';
import { compareTensors } from '../../scripts/compare.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../helpers/onnx-builder.js';
import { ortMismatches, runOrt } from '../helpers/ort-oracle.js';
import { floats, int64s } from '../helpers/resize-models.js';
import { inChild, outputsOf } from '../runtime/child-run.js';

interface Variant {
  name: string;
  /** scales of H and W, or output sizes [H, W] */
  scales?: [number, number];
  sizes?: [number, number];
  mode: 'nearest' | 'linear';
  coord: string;
  nearest?: string;
  /** whether it runs without tap tables (blocks, or a linear doubling) */
  blocks: boolean;
}

const X = [1, 3, 5, 7];
const VARIANTS: Variant[] = [
  {
    name: 'asym_floor_x2',
    scales: [2, 2],
    mode: 'nearest',
    coord: 'asymmetric',
    nearest: 'floor',
    blocks: true,
  },
  {
    name: 'asym_floor_x4',
    scales: [4, 4],
    mode: 'nearest',
    coord: 'asymmetric',
    nearest: 'floor',
    blocks: true,
  },
  {
    name: 'asym_floor_x8',
    scales: [8, 8],
    mode: 'nearest',
    coord: 'asymmetric',
    nearest: 'floor',
    blocks: true,
  },
  {
    name: 'asym_floor_3x2',
    scales: [3, 2],
    mode: 'nearest',
    coord: 'asymmetric',
    nearest: 'floor',
    blocks: true,
  },
  {
    name: 'asym_floor_1x4',
    scales: [1, 4],
    mode: 'nearest',
    coord: 'asymmetric',
    nearest: 'floor',
    blocks: true,
  },
  {
    name: 'asym_floor_sizes',
    sizes: [10, 28],
    mode: 'nearest',
    coord: 'asymmetric',
    nearest: 'floor',
    blocks: true,
  },
  {
    name: 'half_round_floor_x2',
    scales: [2, 2],
    mode: 'nearest',
    coord: 'half_pixel',
    nearest: 'round_prefer_floor',
    blocks: true,
  },
  {
    name: 'half_round_floor_x4',
    scales: [4, 4],
    mode: 'nearest',
    coord: 'half_pixel',
    nearest: 'round_prefer_floor',
    blocks: true,
  },
  {
    name: 'half_round_ceil_x3',
    scales: [3, 3],
    mode: 'nearest',
    coord: 'half_pixel',
    nearest: 'round_prefer_ceil',
    blocks: true,
  },
  {
    name: 'asym_round_floor_x2',
    scales: [2, 2],
    mode: 'nearest',
    coord: 'asymmetric',
    nearest: 'round_prefer_floor',
    blocks: true,
  },
  {
    name: 'tf_half_floor_x2',
    scales: [2, 2],
    mode: 'nearest',
    coord: 'tf_half_pixel_for_nn',
    nearest: 'floor',
    blocks: true,
  },
  // ⌊o / k⌋ does not hold: taps
  {
    name: 'asym_round_floor_x4',
    scales: [4, 4],
    mode: 'nearest',
    coord: 'asymmetric',
    nearest: 'round_prefer_floor',
    blocks: false,
  },
  {
    name: 'half_floor_x2',
    scales: [2, 2],
    mode: 'nearest',
    coord: 'half_pixel',
    nearest: 'floor',
    blocks: false,
  },
  {
    name: 'asym_floor_x1_5',
    scales: [1.5, 1.5],
    mode: 'nearest',
    coord: 'asymmetric',
    nearest: 'floor',
    blocks: false,
  },
  // linear ×2 with half-pixel centres: fixed weights, no tap tables either (ops/shape/linear-doubling.ts)
  { name: 'linear_half_x2', scales: [2, 2], mode: 'linear', coord: 'half_pixel', blocks: true },
  { name: 'linear_pytorch_x2', scales: [2, 2], mode: 'linear', coord: 'pytorch_half_pixel', blocks: true },
  { name: 'linear_half_sizes_x2', sizes: [10, 14], mode: 'linear', coord: 'half_pixel', blocks: true },
  { name: 'linear_half_2x3', scales: [2, 3], mode: 'linear', coord: 'half_pixel', blocks: false },
  { name: 'linear_corners_x2', scales: [2, 2], mode: 'linear', coord: 'align_corners', blocks: false },
  { name: 'linear_asym_x2', scales: [2, 2], mode: 'linear', coord: 'asymmetric', blocks: false },
  { name: 'linear_half_sizes', sizes: [9, 16], mode: 'linear', coord: 'half_pixel', blocks: false },
];

/** The variants' Resizes of x, and a 1×1 Conv of it, whose gemm gives the bundle a relaxed-SIMD module. */
function resizeModel(): Uint8Array {
  const conv: NodeSpec = { op: 'Conv', inputs: ['x', 'w'], outputs: ['conv'] };
  const nodes: NodeSpec[] = VARIANTS.map((v) => ({
    op: 'Resize',
    name: v.name,
    inputs: v.sizes ? ['x', '', '', `${v.name}_sizes`] : ['x', '', `${v.name}_scales`],
    outputs: [v.name],
    attrs: {
      mode: { s: v.mode },
      coordinate_transformation_mode: { s: v.coord },
      ...(v.nearest && { nearest_mode: { s: v.nearest } }),
    },
  }));
  return buildModel({
    name: 'resize-blocks',
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: X }],
    outputs: [...VARIANTS.map((v) => v.name), 'conv'].map((name) => ({ name, dtype: 'float32' as const })),
    nodes: [...nodes, conv],
    initializers: [
      ...VARIANTS.map((v) =>
        v.sizes
          ? { name: `${v.name}_sizes`, tensor: int64s(X[0], X[1], ...v.sizes) }
          : { name: `${v.name}_scales`, tensor: floats(1, 1, ...v.scales!) },
      ),
      { name: 'w', tensor: randomTensor([8, 3, 1, 1], seededRandom(4)) },
    ],
  });
}

describe('static Resize as blocks or taps against onnxruntime', () => {
  const bytes = resizeModel();
  const feeds = { x: randomTensor(X, seededRandom(3)) };
  let dir: string;
  let files: BundleFiles;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-resize-blocks-'));
    files = await compileModel(bytes);
    await writeBundle(dir, files);
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs the modes that read ⌊o / k⌋ and the linear doublings as one kernel, the others with their tap tables', () => {
    const names = (files.manifest.kernels ?? []).map((k) => k.name);
    for (const v of VARIANTS) expect(names.includes(`${v.name}_taps`), v.name).toBe(!v.blocks);
  });
  it('SIMD128 matches onnxruntime', async () => {
    const model = await loadModel(files, { backend: 'wasm' });
    try {
      expect(await ortMismatches(bytes, model, feeds)).toEqual([]);
    } finally {
      model.dispose();
    }
  });
  it('relaxed SIMD matches onnxruntime', async () => {
    const relaxed = await inChild(dir, 'relaxed', feeds, true);
    expect(relaxed).toMatchObject({ variant: 'relaxed' });
    const got = outputsOf(relaxed);
    for (const [name, want] of Object.entries(await runOrt(bytes, feeds)))
      expect(compareTensors(got[name], want, 1e-4, 1e-5), name).toBeUndefined();
  }, 60_000);
});
