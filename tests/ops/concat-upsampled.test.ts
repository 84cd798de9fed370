/**
 * A Concat of nearest-upsampled maps with the upsampling folded into it (passes/fold-concat-upsample.ts:
 * the Concat writes each coarse map's blocks into its output, ops/shape/upsample-blocks.ts): no Resize
 * kernel, and the result matches onnxruntime in both wasm variants (relaxed in a child process), as DBNet's
 * head concatenates its FPN levels: factors ×4, ×2 and 4×1 beside a map copied as it is, odd widths, a
 * negative axis, scales or sizes. Where the fold does not apply (a Concat written in place, N = 2, the
 * width axis, an upsampled map read twice) the result is the same.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { compareTensors } from '../../scripts/compare.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../helpers/onnx-builder.js';
import { runKiln, runOrt } from '../helpers/ort-oracle.js';
import { describeRelaxedCases } from '../helpers/relaxed-cases.js';
import { floats, int64s } from '../helpers/resize-models.js';

interface Level {
  /** the coarse map's shape */
  shape: number[];
  /** [kh, kw], or undefined for a map concatenated as it is (a graph input) */
  factors?: [number, number];
}

interface Case {
  levels: Level[];
  axis: number;
  /** the Resizes by sizes (default: scales), in this coordinate mode */
  sizes?: boolean;
  coord?: string;
  nearest?: string;
  /** the first upsampled map is also a graph output (read twice: not folded) */
  tap?: boolean;
  /** the first upsampled map is concatenated twice */
  twice?: boolean;
  /** every input computed by a kernel: the Concat is written in place, its Resizes writing their blocks */
  inPlace?: boolean;
  /** whether every Resize folds into the Concat */
  folds: boolean;
}

function model(t: Case): Uint8Array {
  const nodes: NodeSpec[] = [];
  const initializers: { name: string; tensor: HostTensor }[] = [{ name: 'roi', tensor: floats() }];
  const parts = t.levels.map((l, i) => {
    // a graph input: no kernel computes it, so the Concat is not written in place (concat-in-place.ts)
    // but copied, where the Resizes fold into it; unless `inPlace`, a Relu of it
    if (!l.factors && !t.inPlace) return `x${i}`;
    if (!l.factors) {
      nodes.push({ op: 'Relu', inputs: [`x${i}`], outputs: [`u${i}`] });
      return `u${i}`;
    }
    const r = l.shape.length;
    const up = [...l.shape.slice(0, r - 2), l.shape[r - 2] * l.factors[0], l.shape[r - 1] * l.factors[1]];
    initializers.push({
      name: `k${i}`,
      tensor: t.sizes ? int64s(...up) : floats(...l.shape.slice(0, r - 2).map(() => 1), ...l.factors),
    });
    nodes.push({
      op: 'Resize',
      inputs: t.sizes ? [`x${i}`, 'roi', '', `k${i}`] : [`x${i}`, 'roi', `k${i}`],
      outputs: [`u${i}`],
      attrs: {
        mode: { s: 'nearest' },
        coordinate_transformation_mode: { s: t.coord ?? 'asymmetric' },
        nearest_mode: { s: t.nearest ?? 'floor' },
      },
    });
    return `u${i}`;
  });
  const inputs = t.twice ? [parts[0], ...parts] : parts;
  nodes.push({ op: 'Concat', inputs, outputs: ['y'], attrs: { axis: { i: t.axis } } });
  // a 1×1 Conv of the first map beside, whose gemm gives the bundle a relaxed-SIMD module
  initializers.push({ name: 'w', tensor: randomTensor([8, t.levels[0].shape[1], 1, 1], seededRandom(5)) });
  nodes.push({ op: 'Conv', inputs: ['x0', 'w'], outputs: ['g'] });
  return buildModel({
    opset: 13,
    inputs: t.levels.map((l, i) => ({ name: `x${i}`, dtype: 'float32' as const, shape: l.shape })),
    outputs: [
      { name: 'y', dtype: 'float32' },
      { name: 'g', dtype: 'float32' },
      ...(t.tap ? [{ name: 'u0', dtype: 'float32' as const }] : []),
    ],
    initializers,
    nodes,
  });
}

const feeds = (t: Case) => {
  const r = seededRandom(t.levels.length * 13 + t.axis);
  return Object.fromEntries(t.levels.map((l, i) => [`x${i}`, randomTensor(l.shape, r)]));
};

const head: Level[] = [
  { shape: [1, 3, 3, 5], factors: [4, 4] },
  { shape: [1, 5, 6, 10], factors: [2, 2] },
  { shape: [1, 2, 3, 20], factors: [4, 1] },
  { shape: [1, 4, 12, 20] },
];

const cases: Record<string, Case> = {
  "DBNet's head: ×4, ×2, 4×1 and a map as it is, channels 3 + 5 + 2 + 4, width 20": {
    levels: head,
    axis: 1,
    folds: true,
  },
  'negative axis, by sizes, half_pixel round_prefer_floor, odd widths': {
    levels: [
      { shape: [1, 3, 7, 7], factors: [2, 2] },
      { shape: [1, 2, 14, 14] },
      { shape: [1, 1, 7, 7], factors: [2, 2] },
    ],
    axis: -3,
    sizes: true,
    coord: 'half_pixel',
    nearest: 'round_prefer_floor',
    folds: true,
  },
  'not folded: written in place (every input computed by a kernel), the Resizes write their blocks': {
    levels: head,
    axis: 1,
    inPlace: true,
    folds: false,
  },
  'not folded: N = 2': {
    levels: [{ shape: [2, 3, 3, 5], factors: [2, 2] }, { shape: [2, 4, 6, 10] }],
    axis: 1,
    folds: false,
  },
  'not folded: the width axis': {
    levels: [{ shape: [1, 3, 3, 5], factors: [2, 2] }, { shape: [1, 3, 6, 7] }],
    axis: 3,
    folds: false,
  },
  'the first map not folded (also a graph output), the others folded': {
    levels: head,
    axis: 1,
    tap: true,
    folds: false,
  },
  'the first map not folded (concatenated twice), the others folded': {
    levels: head,
    axis: 1,
    twice: true,
    folds: false,
  },
};

const kernelOps = async (bytes: Uint8Array) =>
  ((await compileModel(bytes)).manifest.kernels ?? []).map((k) => k.op);

describe('Concat of nearest-upsampled maps, the upsampling folded into the Concat', () => {
  for (const [name, t] of Object.entries(cases))
    it(`SIMD128 matches onnxruntime: ${name}`, async () => {
      const bytes = model(t);
      expect((await kernelOps(bytes)).includes('Resize')).toBe(!t.folds);
      const [got, want] = [await runKiln(bytes, feeds(t)), await runOrt(bytes, feeds(t))];
      expect(compareTensors(got.y, want.y, 0, 0)).toBeUndefined();
      if (t.tap) expect(compareTensors(got.u0, want.u0, 0, 0)).toBeUndefined();
    });

  describeRelaxedCases(
    'kiln-concat-upsampled',
    Object.fromEntries(
      Object.entries(cases)
        .slice(0, 2)
        .map(([name, t]) => [name, () => ({ bytes: model(t), feeds: feeds(t) })]),
    ),
    [0, 0],
  );
});
