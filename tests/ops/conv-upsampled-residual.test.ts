/**
 * A 1×1 Conv + Add of a nearest-upsampled coarser map (an FPN's top-down path) with the upsampling folded
 * into the conv's residual (passes/fuse-residual.ts, ops/nn/conv-upsampled-residual.ts): the Resize is no
 * kernel, and the result matches onnxruntime in both wasm variants (relaxed in a child process) over odd
 * coarse sizes, channels not a multiple of 4, factors ×2, ×3 and ×4 (scales or sizes, the nearest modes
 * exporters write), an activation after the Add, several bands, N = 2 and a K-blocked gemm (C > 768). Where the fold does not apply (the
 * upsampled map read twice, a linear Resize, a 3×3 conv) the result is the same.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { compareTensors } from '../../scripts/compare.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../helpers/onnx-builder.js';
import { runKiln, runOrt } from '../helpers/ort-oracle.js';
import { describeRelaxedCases } from '../helpers/relaxed-cases.js';
import { floats, int64s } from '../helpers/resize-models.js';

interface Case {
  n?: number;
  /** lateral channels, output channels, coarse height and width */
  c: number;
  m: number;
  coarse: [number, number];
  factors: [number, number];
  /** by scales (default) or by sizes */
  sizes?: boolean;
  mode?: 'nearest' | 'linear';
  coord?: string;
  nearest?: string;
  act?: 'relu' | 'clip';
  /** conv kernel (1 unless given: 3 is padded 1, not folded) */
  k?: number;
  /** the upsampled map is a graph output too (read twice: not folded) */
  tap?: boolean;
  /** whether the Resize folds into the conv */
  folds: boolean;
}

const scalar = (x: number): HostTensor => ({ dtype: 'float32', dims: [], data: Float32Array.of(x) });

/** x (lateral) → Conv → Add(Resize(coarse)) [→ Relu | Clip] → y */
function model(t: Case): Uint8Array {
  const r = seededRandom(t.c * 7 + t.m);
  const n = t.n ?? 1;
  const [h, w] = t.coarse;
  const [H, W] = [h * t.factors[0], w * t.factors[1]];
  const k = t.k ?? 1;
  const nodes: NodeSpec[] = [
    {
      op: 'Conv',
      inputs: ['x', 'w', 'b'],
      outputs: ['c'],
      attrs: { pads: { ints: Array(4).fill((k - 1) / 2) } },
    },
    {
      op: 'Resize',
      inputs: t.sizes ? ['coarse', 'roi', '', 'sizes'] : ['coarse', 'roi', 'scales'],
      outputs: ['up'],
      attrs: {
        mode: { s: t.mode ?? 'nearest' },
        coordinate_transformation_mode: { s: t.coord ?? 'asymmetric' },
        nearest_mode: { s: t.nearest ?? 'floor' },
      },
    },
    { op: 'Add', inputs: ['c', 'up'], outputs: [t.act ? 's' : 'y'] },
  ];
  if (t.act === 'relu') nodes.push({ op: 'Relu', inputs: ['s'], outputs: ['y'] });
  if (t.act === 'clip') nodes.push({ op: 'Clip', inputs: ['s', 'lo', 'hi'], outputs: ['y'] });
  return buildModel({
    opset: 13,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [n, t.c, H, W] },
      { name: 'coarse', dtype: 'float32', shape: [n, t.m, h, w] },
    ],
    outputs: [{ name: 'y', dtype: 'float32' }, ...(t.tap ? [{ name: 'up', dtype: 'float32' as const }] : [])],
    initializers: [
      { name: 'w', tensor: randomTensor([t.m, t.c, k, k], r, 0.5) },
      { name: 'b', tensor: randomTensor([t.m], r, 0.1) },
      { name: 'roi', tensor: floats() },
      t.sizes
        ? { name: 'sizes', tensor: int64s(n, t.m, H, W) }
        : { name: 'scales', tensor: floats(1, 1, ...t.factors) },
      ...(t.act === 'clip'
        ? [
            { name: 'lo', tensor: scalar(-0.3) },
            { name: 'hi', tensor: scalar(0.6) },
          ]
        : []),
    ],
    nodes,
  });
}

function feeds(t: Case) {
  const n = t.n ?? 1;
  const [h, w] = t.coarse;
  const r = seededRandom(h * 31 + w);
  return {
    x: randomTensor([n, t.c, h * t.factors[0], w * t.factors[1]], r),
    coarse: randomTensor([n, t.m, h, w], r),
  };
}

const cases: Record<string, Case> = {
  'FPN-style ×2, asymmetric floor, C 5 → 6 over an odd 7×9 coarse map, Relu': {
    c: 5,
    m: 6,
    coarse: [7, 9],
    factors: [2, 2],
    act: 'relu',
    folds: true,
  },
  "several bands: C 16 → 48 over 40×42 from 20×21 (as DBNet's Conv_170, smaller), no activation": {
    c: 16,
    m: 48,
    coarse: [20, 21],
    factors: [2, 2],
    folds: true,
  },
  '×2 by sizes, half_pixel round_prefer_floor, N = 2, Clip': {
    n: 2,
    c: 7,
    m: 3,
    coarse: [5, 11],
    factors: [2, 2],
    sizes: true,
    coord: 'half_pixel',
    nearest: 'round_prefer_floor',
    act: 'clip',
    folds: true,
  },
  '×4 rows × ×2 columns, tf_half_pixel_for_nn floor, C 3 → 9': {
    c: 3,
    m: 9,
    coarse: [3, 13],
    factors: [4, 2],
    coord: 'tf_half_pixel_for_nn',
    folds: true,
  },
  '×1 rows × ×4 columns, asymmetric floor': {
    c: 4,
    m: 5,
    coarse: [6, 5],
    factors: [1, 4],
    folds: true,
  },
  '×3 rows × ×3 columns (a block loop the vectorizer leaves scalar), Relu': {
    c: 6,
    m: 7,
    coarse: [5, 7],
    factors: [3, 3],
    act: 'relu',
    folds: true,
  },
  'K blocks: C 800 → 8, the later blocks adding into the residual the first one read': {
    c: 800,
    m: 8,
    coarse: [6, 10],
    factors: [2, 2],
    folds: true,
  },
  'not folded: the upsampled map is also a graph output': {
    c: 5,
    m: 6,
    coarse: [7, 9],
    factors: [2, 2],
    tap: true,
    folds: false,
  },
  'not folded: linear Resize': {
    c: 5,
    m: 6,
    coarse: [7, 9],
    factors: [2, 2],
    mode: 'linear',
    coord: 'half_pixel',
    folds: false,
  },
  'not folded: a 3×3 padded conv': {
    c: 5,
    m: 6,
    coarse: [7, 9],
    factors: [2, 2],
    k: 3,
    act: 'relu',
    folds: false,
  },
};

const kernelOps = async (bytes: Uint8Array) =>
  ((await compileModel(bytes)).manifest.kernels ?? []).map((k) => k.op);

describe('Conv + Add of a nearest-upsampled map, the upsampling folded into the residual', () => {
  for (const [name, t] of Object.entries(cases))
    it(`SIMD128 matches onnxruntime: ${name}`, async () => {
      const bytes = model(t);
      expect((await kernelOps(bytes)).includes('Resize')).toBe(!t.folds);
      const [got, want] = [await runKiln(bytes, feeds(t)), await runOrt(bytes, feeds(t))];
      expect(compareTensors(got.y, want.y, 1e-4, 1e-5)).toBeUndefined();
      if (t.tap) expect(compareTensors(got.up, want.up, 0, 0)).toBeUndefined();
    });

  describeRelaxedCases(
    'kiln-conv-upsampled',
    Object.fromEntries(
      Object.entries(cases)
        .slice(0, 7)
        .map(([name, t]) => [name, () => ({ bytes: model(t), feeds: feeds(t) })]),
    ),
    [1e-4, 1e-5],
  );
});
