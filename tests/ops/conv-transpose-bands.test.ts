/**
 * ConvTranspose through the gemm against onnxruntime in both wasm variants (relaxed in a child process).
 * Disjoint taps (kernel = stride) run band by band of input rows (ops/nn/conv-transpose.ts): these maps are
 * wide enough for several bands and a last band of fewer rows, over odd sizes, channel counts not a multiple
 * of 4, one output channel (a detector's probability head, Sigmoid fused), groups with batch 2, 1-D and 3-D;
 * strided, padded, dilated and output-padded ones (overlapping taps, one col) beside them.
 */
import { describe, expect, it } from 'vitest';
import { compareTensors } from '../../scripts/compare.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../helpers/onnx-builder.js';
import { runKiln, runOrt } from '../helpers/ort-oracle.js';
import { describeRelaxedCases, type RelaxedCase } from '../helpers/relaxed-cases.js';

interface Case {
  /** x's dims [N, C, ...spatial] and the weight's [C, M / group, ...kernel] */
  x: number[];
  w: number[];
  attrs: Record<string, { i: number } | { ints: number[] }>;
  bias?: boolean;
  act?: 'Relu' | 'Sigmoid';
}

function make(t: Case): RelaxedCase {
  const r = seededRandom(t.x.reduce((a, b) => a * 31 + b, 7));
  const group = 'group' in t.attrs ? (t.attrs.group as { i: number }).i : 1;
  const M = t.w[1] * group;
  const nodes: NodeSpec[] = [
    {
      op: 'ConvTranspose',
      inputs: t.bias ? ['x', 'w', 'b'] : ['x', 'w'],
      outputs: [t.act ? 'c' : 'y'],
      attrs: t.attrs,
    },
  ];
  if (t.act) nodes.push({ op: t.act, inputs: ['c'], outputs: ['y'] });
  const initializers: { name: string; tensor: HostTensor }[] = [
    { name: 'w', tensor: randomTensor(t.w, r, 0.5) },
  ];
  if (t.bias) initializers.push({ name: 'b', tensor: randomTensor([M], r, 0.2) });
  const bytes = buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: t.x }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers,
    nodes,
  });
  return { bytes, feeds: { x: randomTensor(t.x, r) } };
}

const ints = (...v: number[]) => ({ ints: v });

const cases: Record<string, Case> = {
  // col of a row: 1·4·301 floats, 13 rows a band: 2 bands and one of 11 rows
  '12 → 1 ×2 head with Sigmoid over 37×301': {
    x: [1, 12, 37, 301],
    w: [12, 1, 2, 2],
    attrs: { strides: ints(2, 2) },
    bias: true,
    act: 'Sigmoid',
  },
  // 12·4·163 floats a row, 2 rows a band: 4 bands and one of 1 row
  '5 → 12 ×2 with Relu over 9×163': {
    x: [1, 5, 9, 163],
    w: [5, 12, 2, 2],
    attrs: { strides: ints(2, 2) },
    bias: true,
    act: 'Relu',
  },
  // per group 3·6·250 floats a row, 3 rows a band: 3 bands and one of 2 rows
  '2×3 upsampling, groups 2, batch 2, over 11×250': {
    x: [2, 4, 11, 250],
    w: [4, 3, 2, 3],
    attrs: { strides: ints(2, 3), group: { i: 2 } },
    bias: true,
  },
  // 2·4 floats a position, 2048 a band: 3 bands and one of 856
  '1-D ×4 over 7000': { x: [1, 3, 7000], w: [3, 2, 4], attrs: { strides: ints(4) } },
  // a 40×41 plane's col is past a band: one plane a band
  '3-D ×2 over 5×40×41': {
    x: [1, 2, 5, 40, 41],
    w: [2, 3, 2, 2, 2],
    attrs: { strides: ints(2, 2, 2) },
    bias: true,
  },
  'overlapping: 3×3 stride 2, pads, output_padding, Relu': {
    x: [1, 5, 23, 37],
    w: [5, 7, 3, 3],
    attrs: { strides: ints(2, 2), pads: ints(1, 1, 1, 1), output_padding: ints(1, 0) },
    bias: true,
    act: 'Relu',
  },
  'overlapping: dilated 2×2 stride 3': {
    x: [1, 3, 13, 19],
    w: [3, 5, 2, 2],
    attrs: { strides: ints(3, 3), dilations: ints(2, 2) },
  },
};

const TOLERANCE: [number, number] = [1e-4, 1e-5];

describe('ConvTranspose through the gemm, disjoint taps in bands of input rows', () => {
  for (const [name, t] of Object.entries(cases))
    it(`SIMD128 matches onnxruntime: ${name}`, async () => {
      const { bytes, feeds } = make(t);
      const [got, want] = [await runKiln(bytes, feeds), await runOrt(bytes, feeds)];
      expect(compareTensors(got.y, want.y, ...TOLERANCE)).toBeUndefined();
    });

  describeRelaxedCases(
    'kiln-conv-transpose-bands',
    Object.fromEntries(Object.entries(cases).map(([name, t]) => [name, () => make(t)])),
    TOLERANCE,
  );
});
