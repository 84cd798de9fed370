/** An exporter-shaped Linear layer (MatMul + Add of a constant bias), as passes/fuse-bias.ts fuses it. */
import { buildModel, randomTensor, seededRandom, type NodeSpec } from './onnx-builder.js';

export interface Linear {
  x: number[];
  N: number;
  bias: number[];
  biasFirst?: boolean;
  relu?: boolean;
  /** the MatMul's result is also an output of its own (a second reader) */
  twoReaders?: boolean;
}

/** x → MatMul(x, w [K,N]) → Add with a constant bias (either operand order) → optional Relu → y */
export function linearModel(l: Linear): Uint8Array {
  const rand = seededRandom(l.x.length * 1000 + l.N);
  const K = l.x.at(-1)!;
  const out = [...l.x.slice(0, -1), l.N];
  const nodes: NodeSpec[] = [
    { op: 'MatMul', inputs: ['x', 'w'], outputs: ['m'] },
    { op: 'Add', inputs: l.biasFirst ? ['b', 'm'] : ['m', 'b'], outputs: [l.relu ? 's' : 'y'] },
    ...(l.relu ? [{ op: 'Relu', inputs: ['s'], outputs: ['y'] }] : []),
    ...(l.twoReaders ? [{ op: 'Neg', inputs: ['m'], outputs: ['z'] }] : []),
  ];
  return buildModel({
    opset: 17,
    inputs: [{ name: 'x', dtype: 'float32', shape: l.x }],
    outputs: [
      { name: 'y', dtype: 'float32', shape: out },
      ...(l.twoReaders ? [{ name: 'z', dtype: 'float32' as const, shape: out }] : []),
    ],
    initializers: [
      { name: 'w', tensor: randomTensor([K, l.N], rand, 0.1) },
      { name: 'b', tensor: randomTensor(l.bias, rand, 4) },
    ],
    nodes,
  });
}
