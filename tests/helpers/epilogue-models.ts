/**
 * Models whose Conv, ConvTranspose, Gemm or MatMul result goes through an elementwise chain that passes/fuse-epilogue.ts
 * fuses into the GEMM: HardSwish and Swish as exporters write them (the result read twice) and GELU
 * decomposed, with odd sizes (M, N, K not multiples of 4) so every tile tail runs.
 */
import { tensorFromNumbers } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from './onnx-builder.js';

export interface EpilogueCase {
  name: string;
  bytes: Uint8Array;
  /** the shape of input `x` */
  x: number[];
  /** the kernel's op label in the manifest's kernel table */
  op: string;
  /** how many kernels carry that label (1 unless the activation is a pass of its own after the op's) */
  kernels?: number;
}

/** The manifest's kernel table as an epilogue case expects it. */
export const expectedKernels = (c: EpilogueCase): string[] => Array<string>(c.kernels ?? 1).fill(c.op);

const scalar = (name: string, v: number) => ({ name, tensor: tensorFromNumbers('float32', [], [v]) });

/** c → x·HardSigmoid(x) (alpha 1/6, PyTorch's export of HardSwish) → y */
const hardSwish = (c: string): NodeSpec[] => [
  { op: 'HardSigmoid', inputs: [c], outputs: ['h'], attrs: { alpha: { f: 1 / 6 }, beta: { f: 0.5 } } },
  { op: 'Mul', inputs: [c, 'h'], outputs: ['y'] },
];
/** c → Sigmoid(x)·x → y */
const swish = (c: string): NodeSpec[] => [
  { op: 'Sigmoid', inputs: [c], outputs: ['s'] },
  { op: 'Mul', inputs: ['s', c], outputs: ['y'] },
];
/** c → x·(erf(x/√2) + 1)·0.5 → y, as PyTorch exports nn.GELU */
export const gelu = (c: string): NodeSpec[] => [
  { op: 'Div', inputs: [c, 'sqrt2'], outputs: ['d'] },
  { op: 'Erf', inputs: ['d'], outputs: ['e'] },
  { op: 'Add', inputs: ['e', 'one'], outputs: ['e1'] },
  { op: 'Mul', inputs: [c, 'e1'], outputs: ['p'] },
  { op: 'Mul', inputs: ['p', 'half'], outputs: ['y'] },
];
const GELU_CONSTANTS = [scalar('sqrt2', Math.SQRT2), scalar('one', 1), scalar('half', 0.5)];

/**
 * x [1,6,7,9] → Conv 3×3 (11 channels, or depthwise: 6) with bias → `tail` → y; or with `pointwise`, x [1,C,7,9]
 * → Conv 1×1 to M channels, the gemm of the conv directly on x
 */
function convModel(
  group: number,
  tail: NodeSpec[],
  seed: number,
  pointwise?: { C: number; M: number },
): Uint8Array {
  const r = seededRandom(seed);
  const C = pointwise?.C ?? 6;
  const channels = pointwise?.M ?? (group === 1 ? 11 : 6);
  const k = pointwise ? 1 : 3;
  return buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, C, 7, 9] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, channels, 7, 9] }],
    initializers: [
      { name: 'w', tensor: randomTensor([channels, C / group, k, k], r) },
      { name: 'b', tensor: randomTensor([channels], r) },
      ...GELU_CONSTANTS,
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['x', 'w', 'b'],
        outputs: ['c'],
        attrs: { group: { i: group }, pads: { ints: pointwise ? [0, 0, 0, 0] : [1, 1, 1, 1] } },
      },
      ...tail,
    ],
  });
}

/** x [1,rows,K] → MatMul [K,N] → bias Add → `tail` → y */
export function matMulModel(tail: NodeSpec[], seed: number, [rows, K, N] = [5, 7, 9]): Uint8Array {
  const r = seededRandom(seed);
  return buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, rows, K] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, rows, N] }],
    initializers: [
      { name: 'w', tensor: randomTensor([K, N], r) },
      { name: 'b', tensor: randomTensor([N], r) },
      ...GELU_CONSTANTS,
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w'], outputs: ['m'] },
      { op: 'Add', inputs: ['m', 'b'], outputs: ['c'] },
      ...tail,
    ],
  });
}

function gemmModel(tail: NodeSpec[], seed: number): Uint8Array {
  const r = seededRandom(seed);
  return buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [5, 7] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [5, 9] }],
    initializers: [
      { name: 'w', tensor: randomTensor([9, 7], r) },
      { name: 'b', tensor: randomTensor([9], r) },
      ...GELU_CONSTANTS,
    ],
    nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { transB: { i: 1 } } }, ...tail],
  });
}

/**
 * x [1,6,7,9] → ConvTranspose to `M` channels (kernel `k`, stride 2, `pads`; `k` = 2 without pads: the
 * disjoint taps of an FPN's ×2 upsampling) with bias → BatchNormalization (folded into it) → `tail` → y
 */
function convTransposeModel(
  M: number,
  k: number,
  pads: number[],
  tail: NodeSpec[],
  seed: number,
): Uint8Array {
  const r = seededRandom(seed);
  const positive = (n: number) => Float32Array.from({ length: n }, () => 0.5 + r());
  const vector = (name: string, data: Float32Array) => ({
    name,
    tensor: { dtype: 'float32' as const, dims: [M], data },
  });
  return buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 6, 7, 9] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: [
      { name: 'w', tensor: randomTensor([6, M, k, k], r) },
      { name: 'b', tensor: randomTensor([M], r) },
      vector('scale', positive(M)),
      { name: 'shift', tensor: randomTensor([M], r) },
      { name: 'mean', tensor: randomTensor([M], r) },
      vector('var', positive(M)),
    ],
    nodes: [
      {
        op: 'ConvTranspose',
        inputs: ['x', 'w', 'b'],
        outputs: ['t'],
        attrs: { strides: { ints: [2, 2] }, pads: { ints: pads } },
      },
      { op: 'BatchNormalization', inputs: ['t', 'scale', 'shift', 'mean', 'var'], outputs: ['c'] },
      ...tail,
    ],
  });
}

export const EPILOGUE_CASES: EpilogueCase[] = [
  {
    name: 'Conv + HardSwish',
    bytes: convModel(1, hardSwish('c'), 1),
    x: [1, 6, 7, 9],
    op: 'Conv+HardSigmoid+Mul',
  },
  {
    // 1×1: the gemm on x itself, 13 rows (a 1-row tail) × 63 columns (7 panels and a 7-column tail), K 10
    name: 'pointwise Conv + HardSwish',
    bytes: convModel(1, hardSwish('c'), 7, { C: 10, M: 13 }),
    x: [1, 10, 7, 9],
    op: 'Conv+HardSigmoid+Mul',
  },
  {
    name: 'depthwise Conv + Swish',
    bytes: convModel(6, swish('c'), 2),
    x: [1, 6, 7, 9],
    op: 'Conv+Sigmoid+Mul',
  },
  { name: 'Conv + GELU', bytes: convModel(1, gelu('c'), 3), x: [1, 6, 7, 9], op: 'Conv+Div+Erf+Add+Mul+Mul' },
  {
    name: 'MatMul + bias + GELU',
    bytes: matMulModel(gelu('c'), 4),
    x: [1, 5, 7],
    op: 'MatMul+Add+Div+Erf+Add+Mul+Mul',
  },
  {
    name: 'MatMul + bias + HardSwish',
    bytes: matMulModel(hardSwish('c'), 5),
    x: [1, 5, 7],
    op: 'MatMul+Add+HardSigmoid+Mul',
  },
  { name: 'Gemm + Swish', bytes: gemmModel(swish('c'), 6), x: [5, 7], op: 'Gemm+Sigmoid+Mul' },
  {
    // the detector head's ×2 upsampling: 2×2 stride 2, 5 channels, BatchNormalization then Relu
    name: 'ConvTranspose ×2 + BatchNormalization + Relu',
    bytes: convTransposeModel(5, 2, [0, 0, 0, 0], [{ op: 'Relu', inputs: ['c'], outputs: ['y'] }], 9),
    x: [1, 6, 7, 9],
    op: 'ConvTranspose+Relu',
  },
  {
    // its probability map: one channel through a Sigmoid
    name: 'ConvTranspose ×2 + BatchNormalization + Sigmoid',
    bytes: convTransposeModel(1, 2, [0, 0, 0, 0], [{ op: 'Sigmoid', inputs: ['c'], outputs: ['y'] }], 10),
    x: [1, 6, 7, 9],
    op: 'ConvTranspose+Sigmoid',
  },
  {
    // overlapping taps (3×3, stride 2, padded): col2im accumulates into y, the activation a pass after it
    name: 'ConvTranspose 3×3 + BatchNormalization + HardSwish',
    bytes: convTransposeModel(3, 3, [1, 0, 0, 1], hardSwish('c'), 11),
    x: [1, 6, 7, 9],
    op: 'ConvTranspose+HardSigmoid+Mul',
    kernels: 2,
  },
];
