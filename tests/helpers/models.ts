/** Small real-shaped models the repo builds itself: an MLP, a CNN and an attention block. */
import { buildModel, randomTensor, seededRandom } from './onnx-builder.js';
import { tensorFromNumbers } from '../../src/ir/tensor.js';

export function mlpModel(): Uint8Array {
  const r = seededRandom(1);
  return buildModel({
    name: 'mlp',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 64] }],
    outputs: [{ name: 'probs', dtype: 'float32', shape: ['batch', 10] }],
    initializers: [
      { name: 'w1', tensor: randomTensor([64, 128], r, 0.2) },
      { name: 'b1', tensor: randomTensor([128], r, 0.1) },
      { name: 'w2', tensor: randomTensor([10, 128], r, 0.2) },
      { name: 'b2', tensor: randomTensor([10], r, 0.1) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h0'] },
      { op: 'Add', inputs: ['h0', 'b1'], outputs: ['h1'] },
      { op: 'Relu', inputs: ['h1'], outputs: ['h2'] },
      { op: 'Gemm', inputs: ['h2', 'w2', 'b2'], outputs: ['logits'], attrs: { transB: { i: 1 } } },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attrs: { axis: { i: -1 } } },
    ],
  });
}

export function cnnModel(): Uint8Array {
  const r = seededRandom(2);
  return buildModel({
    name: 'cnn',
    inputs: [{ name: 'image', dtype: 'float32', shape: [1, 3, 32, 32] }],
    outputs: [{ name: 'probs', dtype: 'float32', shape: [1, 10] }],
    initializers: [
      { name: 'c1w', tensor: randomTensor([8, 3, 3, 3], r, 0.3) },
      { name: 'c1b', tensor: randomTensor([8], r, 0.1) },
      { name: 'c2w', tensor: randomTensor([16, 8, 3, 3], r, 0.2) },
      { name: 'bn_scale', tensor: randomTensor([16], r, 1) },
      { name: 'bn_bias', tensor: randomTensor([16], r, 0.1) },
      { name: 'bn_mean', tensor: randomTensor([16], r, 0.1) },
      {
        name: 'bn_var',
        tensor: tensorFromNumbers(
          'float32',
          [16],
          Array.from({ length: 16 }, () => 0.5 + r()),
        ),
      },
      { name: 'fcw', tensor: randomTensor([10, 16], r, 0.3) },
      { name: 'fcb', tensor: randomTensor([10], r, 0.1) },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['image', 'c1w', 'c1b'],
        outputs: ['c1'],
        attrs: { pads: { ints: [1, 1, 1, 1] } },
      },
      { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      {
        op: 'MaxPool',
        inputs: ['r1'],
        outputs: ['p1'],
        attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
      {
        op: 'Conv',
        inputs: ['p1', 'c2w'],
        outputs: ['c2'],
        attrs: { strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } },
      },
      {
        op: 'BatchNormalization',
        inputs: ['c2', 'bn_scale', 'bn_bias', 'bn_mean', 'bn_var'],
        outputs: ['bn'],
      },
      { op: 'Relu', inputs: ['bn'], outputs: ['r2'] },
      { op: 'GlobalAveragePool', inputs: ['r2'], outputs: ['gap'] },
      { op: 'Flatten', inputs: ['gap'], outputs: ['flat'] },
      { op: 'Gemm', inputs: ['flat', 'fcw', 'fcb'], outputs: ['logits'], attrs: { transB: { i: 1 } } },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attrs: { axis: { i: 1 } } },
    ],
  });
}

export function attentionModel(): Uint8Array {
  const r = seededRandom(3);
  const [S, D, H] = [8, 32, 4];
  const dh = D / H;
  const shape = (name: string, v: number[]) => ({ name, tensor: tensorFromNumbers('int64', [v.length], v) });
  return buildModel({
    name: 'attention',
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, S, D] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, S, D] }],
    initializers: [
      { name: 'wq', tensor: randomTensor([D, D], r, 0.3) },
      { name: 'wk', tensor: randomTensor([D, D], r, 0.3) },
      { name: 'wv', tensor: randomTensor([D, D], r, 0.3) },
      { name: 'wo', tensor: randomTensor([D, D], r, 0.3) },
      { name: 'scale', tensor: tensorFromNumbers('float32', [], [1 / Math.sqrt(dh)]) },
      shape('heads', [1, S, H, dh]),
      shape('merged', [1, S, D]),
      { name: 'gamma', tensor: randomTensor([D], r, 1) },
      { name: 'beta', tensor: randomTensor([D], r, 0.1) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'wq'], outputs: ['q0'] },
      { op: 'MatMul', inputs: ['x', 'wk'], outputs: ['k0'] },
      { op: 'MatMul', inputs: ['x', 'wv'], outputs: ['v0'] },
      { op: 'Reshape', inputs: ['q0', 'heads'], outputs: ['q1'] },
      { op: 'Reshape', inputs: ['k0', 'heads'], outputs: ['k1'] },
      { op: 'Reshape', inputs: ['v0', 'heads'], outputs: ['v1'] },
      { op: 'Transpose', inputs: ['q1'], outputs: ['q'], attrs: { perm: { ints: [0, 2, 1, 3] } } },
      { op: 'Transpose', inputs: ['k1'], outputs: ['kt'], attrs: { perm: { ints: [0, 2, 3, 1] } } },
      { op: 'Transpose', inputs: ['v1'], outputs: ['v'], attrs: { perm: { ints: [0, 2, 1, 3] } } },
      { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['s0'] },
      { op: 'Mul', inputs: ['s0', 'scale'], outputs: ['s1'] },
      { op: 'Softmax', inputs: ['s1'], outputs: ['p'], attrs: { axis: { i: -1 } } },
      { op: 'MatMul', inputs: ['p', 'v'], outputs: ['o0'] },
      { op: 'Transpose', inputs: ['o0'], outputs: ['o1'], attrs: { perm: { ints: [0, 2, 1, 3] } } },
      { op: 'Reshape', inputs: ['o1', 'merged'], outputs: ['o2'] },
      { op: 'MatMul', inputs: ['o2', 'wo'], outputs: ['o3'] },
      { op: 'Add', inputs: ['o3', 'x'], outputs: ['res'] },
      {
        op: 'LayerNormalization',
        inputs: ['res', 'gamma', 'beta'],
        outputs: ['y'],
        attrs: { axis: { i: -1 } },
      },
    ],
  });
}
