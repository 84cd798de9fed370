/**
 * LayerNorm decomposed as exporters write it below opset 17 (PyTorch's nn.LayerNorm, BERT's own):
 * ReduceMean → Sub → Pow 2 → ReduceMean → Add ε → Sqrt → Div → Mul γ → Add β, over the last axis of x,
 * which passes/fuse-layer-norm.ts makes one kernel. Variants leave out β, square by Mul(d, d), take the
 * axes as ReduceMean's input (opset 18), or read d once more (not fusable).
 */
import { tensorFromNumbers } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from './onnx-builder.js';

export interface LayerNormVariant {
  /** no Add of β after the Mul of γ */
  noBias?: boolean;
  /** d² as Mul(d, d), not Pow(d, 2) */
  mulSquare?: boolean;
  /** opset 18: ReduceMean's axes as its input */
  axesInput?: boolean;
  /** d is also a graph output (so the chain must stay as it is) */
  exposeDeviation?: boolean;
}

/** x (shape `shape`) → LayerNorm over the last axis → y; γ and β seeded random of the row's size */
export function decomposedLayerNorm(
  shape: (number | string)[],
  variant: LayerNormVariant = {},
  epsilon = 1e-5,
): Uint8Array {
  const H = shape[shape.length - 1] as number;
  const r = seededRandom(H);
  const mean = (input: string, output: string): NodeSpec =>
    variant.axesInput
      ? { op: 'ReduceMean', inputs: [input, 'axes'], outputs: [output] }
      : { op: 'ReduceMean', inputs: [input], outputs: [output], attrs: { axes: { ints: [-1] } } };
  const nodes: NodeSpec[] = [
    mean('x', 'm'),
    { op: 'Sub', inputs: ['x', 'm'], outputs: ['d'] },
    variant.mulSquare
      ? { op: 'Mul', inputs: ['d', 'd'], outputs: ['p'] }
      : { op: 'Pow', inputs: ['d', 'two'], outputs: ['p'] },
    mean('p', 'v'),
    { op: 'Add', inputs: ['v', 'eps'], outputs: ['ve'] },
    { op: 'Sqrt', inputs: ['ve'], outputs: ['s'] },
    { op: 'Div', inputs: ['d', 's'], outputs: ['n'] },
    { op: 'Mul', inputs: ['n', 'gamma'], outputs: [variant.noBias ? 'y' : 'g'] },
    ...(variant.noBias ? [] : [{ op: 'Add', inputs: ['beta', 'g'], outputs: ['y'] }]),
  ];
  return buildModel({
    opset: variant.axesInput ? 18 : 13,
    inputs: [{ name: 'x', dtype: 'float32', shape }],
    outputs: [
      { name: 'y', dtype: 'float32', shape },
      ...(variant.exposeDeviation ? [{ name: 'd', dtype: 'float32' as const, shape }] : []),
    ],
    initializers: [
      { name: 'two', tensor: tensorFromNumbers('float32', [], [2]) },
      { name: 'eps', tensor: tensorFromNumbers('float32', [], [epsilon]) },
      { name: 'gamma', tensor: randomTensor([H], r) },
      { name: 'beta', tensor: randomTensor([H], r) },
      ...(variant.axesInput ? [{ name: 'axes', tensor: tensorFromNumbers('int64', [1], [-1]) }] : []),
    ],
    nodes,
  });
}
