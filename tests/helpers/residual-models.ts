/**
 * Models whose Conv, Gemm or MatMul result a residual Add reads (passes/fuse-residual.ts): ResNet's
 * Conv + BatchNorm → Add(skip) → Relu (1×1 and 3×3, stride 1), BERT's MatMul + bias → Add(residual) →
 * LayerNorm, with odd sizes (N = H·W or the hidden size not a multiple of 4 or 8, M = 1, 3, 7) so every
 * tile tail runs. The skip tensor is the model's input `s`, the gemm's operand its input `x`.
 */
import { tensorFromNumbers } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from './onnx-builder.js';

export interface ResidualCase {
  name: string;
  bytes: Uint8Array;
  /** the shapes of inputs `x` and `s` */
  x: number[];
  s: number[];
  /** the kernels' op labels in the manifest's kernel table, the Add fused */
  ops: string[];
}

/**
 * x [1,C,H,W] (7×9 unless `spatial`) → Conv k×k (padded to keep H×W) to M channels → BatchNormalization
 * → Add with s (skip first when `skipFirst`) → Relu → y; with `reluFirst`, Conv → BN → Relu → Add
 * (act(conv) + skip)
 */
export function convResidualModel(
  C: number,
  M: number,
  k: 1 | 3,
  seed: number,
  order: { skipFirst?: boolean; reluFirst?: boolean; spatial?: [number, number] } = {},
): Uint8Array {
  const [H, W] = order.spatial ?? [7, 9];
  const r = seededRandom(seed);
  const positive = (n: number) =>
    tensorFromNumbers(
      'float32',
      [n],
      Array.from({ length: n }, () => 0.5 + r()),
    );
  const sum = order.reluFirst ? 'n' : 'bn';
  const add: NodeSpec = { op: 'Add', inputs: order.skipFirst ? ['s', sum] : [sum, 's'], outputs: ['a'] };
  const tail: NodeSpec[] = order.reluFirst
    ? [
        { op: 'Relu', inputs: ['bn'], outputs: ['n'] },
        { ...add, outputs: ['y'] },
      ]
    : [add, { op: 'Relu', inputs: ['a'], outputs: ['y'] }];
  return buildModel({
    opset: 13,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [1, C, H, W] },
      { name: 's', dtype: 'float32', shape: [1, M, H, W] },
    ],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, M, H, W] }],
    initializers: [
      { name: 'w', tensor: randomTensor([M, C, k, k], r) },
      { name: 'b', tensor: randomTensor([M], r) },
      { name: 'scale', tensor: positive(M) },
      { name: 'shift', tensor: randomTensor([M], r) },
      { name: 'mean', tensor: randomTensor([M], r) },
      { name: 'var', tensor: positive(M) },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['x', 'w', 'b'],
        outputs: ['c'],
        attrs: { pads: { ints: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0] } },
      },
      { op: 'BatchNormalization', inputs: ['c', 'scale', 'shift', 'mean', 'var'], outputs: ['bn'] },
      ...tail,
    ],
  });
}

/**
 * x [1,rows,K] → MatMul [K,N] → bias Add → Add with s [1,rows,N] → LayerNormalization → y: a BERT
 * block's output projection (rows may be the symbol `seq`)
 */
export function bertResidualModel(rows: number | string, K: number, N: number, seed: number): Uint8Array {
  const r = seededRandom(seed);
  return buildModel({
    opset: 17,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [1, rows, K] },
      { name: 's', dtype: 'float32', shape: [1, rows, N] },
    ],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, rows, N] }],
    initializers: [
      { name: 'w', tensor: randomTensor([K, N], r) },
      { name: 'b', tensor: randomTensor([N], r) },
      { name: 'gamma', tensor: randomTensor([N], r) },
      { name: 'beta', tensor: randomTensor([N], r) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w'], outputs: ['m'] },
      { op: 'Add', inputs: ['m', 'b'], outputs: ['c'] },
      { op: 'Add', inputs: ['s', 'c'], outputs: ['h'] },
      {
        op: 'LayerNormalization',
        inputs: ['h', 'gamma', 'beta'],
        outputs: ['y'],
        attrs: { axis: { i: -1 }, epsilon: { f: 1e-5 } },
      },
    ],
  });
}

export const RESIDUAL_CASES: ResidualCase[] = [
  {
    // 1×1: the gemm on x itself, 7 rows × 63 columns (7 panels and a 7-column tail), K 10
    name: 'pointwise Conv + BN + Add + Relu',
    bytes: convResidualModel(10, 7, 1, 1),
    x: [1, 10, 7, 9],
    s: [1, 7, 7, 9],
    ops: ['Conv+Add+Relu'],
  },
  {
    // 19 rows: row blocks over packed B panels, and a row tail
    name: 'pointwise Conv to 19 channels + BN + Add + Relu',
    bytes: convResidualModel(12, 19, 1, 5),
    x: [1, 12, 7, 9],
    s: [1, 19, 7, 9],
    ops: ['Conv+Add+Relu'],
  },
  {
    name: '3×3 Conv + BN + Add(skip first) + Relu, 3 channels',
    bytes: convResidualModel(6, 3, 3, 2, { skipFirst: true }),
    x: [1, 6, 7, 9],
    s: [1, 3, 7, 9],
    ops: ['Conv+Add+Relu'],
  },
  {
    // 16 input channels, 13 output channels, 17 wide: the shifted-taps lowering, whose copy out of its
    // band takes the residual
    name: '3×3 shifted-taps Conv + BN + Add + Relu, 5×17',
    bytes: convResidualModel(16, 13, 3, 6, { spatial: [5, 17] }),
    x: [1, 16, 5, 17],
    s: [1, 13, 5, 17],
    ops: ['Conv+Add+Relu'],
  },
  {
    name: 'pointwise Conv to 1 channel + BN + Add + Relu',
    bytes: convResidualModel(5, 1, 1, 3),
    x: [1, 5, 7, 9],
    s: [1, 1, 7, 9],
    ops: ['Conv+Add+Relu'],
  },
  ...[1, 3, 7].map((rows, i) => ({
    name: `MatMul + bias + residual Add + LayerNorm, ${rows} rows, hidden 13`,
    bytes: bertResidualModel(rows, 11, 13, 4 + i),
    x: [1, rows, 11],
    s: [1, rows, 13],
    ops: ['MatMul+Add+Add', 'LayerNormalization'],
  })),
];
