/** A small CNN whose input width is the symbolic dim `width` (tests of run-time spatial dims, #11). */
import type { HostTensor } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from './onnx-builder.js';

const weight = (dims: number[], seed: number): HostTensor => randomTensor(dims, seededRandom(seed), 0.5);

/** Convs and pools over a run-time width; y's width is floor((width + 1) / 2). */
export function widthKeepingCnn(): Uint8Array {
  const ints = (...xs: number[]) => ({ ints: xs });
  const nodes: NodeSpec[] = [
    // stride (2,1), pads 1: H 12 → 6, width kept
    {
      op: 'Conv',
      inputs: ['x', 'w1', 'b1'],
      outputs: ['c1'],
      attrs: { strides: ints(2, 1), pads: ints(1, 1, 1, 1) },
    },
    { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
    // depthwise 3×3, pads 1, then BatchNormalization left unfolded by a Relu between
    { op: 'Conv', inputs: ['r1', 'w2'], outputs: ['c2'], attrs: { group: { i: 8 }, pads: ints(1, 1, 1, 1) } },
    { op: 'Relu', inputs: ['c2'], outputs: ['r2'] },
    { op: 'BatchNormalization', inputs: ['r2', 'bn_s', 'bn_b', 'bn_m', 'bn_v'], outputs: ['n2'] },
    // grouped 3×3 with dilation 2 and pads 2, then a 3×3 SAME_UPPER one
    {
      op: 'Conv',
      inputs: ['n2', 'w3'],
      outputs: ['d3'],
      attrs: { group: { i: 2 }, dilations: ints(2, 2), pads: ints(2, 2, 2, 2) },
    },
    { op: 'Conv', inputs: ['d3', 'w4'], outputs: ['c3'], attrs: { auto_pad: { s: 'SAME_UPPER' } } },
    {
      op: 'MaxPool',
      inputs: ['c3'],
      outputs: ['p3'],
      attrs: { kernel_shape: ints(2, 3), strides: ints(2, 2), pads: ints(0, 1, 0, 1) },
    },
    {
      op: 'AveragePool',
      inputs: ['p3'],
      outputs: ['y'],
      attrs: { kernel_shape: ints(3, 3), pads: ints(1, 1, 1, 1) },
    },
    { op: 'GlobalAveragePool', inputs: ['y'], outputs: ['g'] },
    // constant pads on the width (2 before, 3 after) and the channels
    { op: 'Pad', inputs: ['y', 'pads', 'fill'], outputs: ['padded'] },
  ];
  return buildModel({
    name: 'width-cnn',
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 12, 'width'] }],
    outputs: [
      { name: 'y', dtype: 'float32' },
      { name: 'g', dtype: 'float32' },
      { name: 'padded', dtype: 'float32' },
    ],
    initializers: [
      { name: 'w1', tensor: weight([8, 3, 3, 3], 1) },
      { name: 'b1', tensor: weight([8], 2) },
      { name: 'w2', tensor: weight([8, 1, 3, 3], 3) },
      { name: 'bn_s', tensor: weight([8], 4) },
      { name: 'bn_b', tensor: weight([8], 5) },
      { name: 'bn_m', tensor: weight([8], 6) },
      { name: 'bn_v', tensor: { dtype: 'float32', dims: [8], data: new Float32Array(8).fill(0.7) } },
      { name: 'w3', tensor: weight([6, 4, 3, 3], 7) },
      { name: 'w4', tensor: weight([6, 6, 3, 3], 8) },
      {
        name: 'pads',
        tensor: { dtype: 'int64', dims: [8], data: BigInt64Array.from([0, 1, 0, 2, 0, 0, 0, 3].map(BigInt)) },
      },
      { name: 'fill', tensor: { dtype: 'float32', dims: [], data: Float32Array.of(0.25) } },
    ],
    nodes,
  });
}

/** Conv and MaxPool with auto_pad SAME_UPPER/LOWER at stride 2 over a run-time width (TF/tf2onnx exports). */
export const sameStridedCnn = (autoPad: string) =>
  buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 8, 'width'] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: [{ name: 'w', tensor: randomTensor([5, 3, 3, 3], seededRandom(7)) }],
    nodes: [
      {
        op: 'Conv',
        inputs: ['x', 'w'],
        outputs: ['c'],
        attrs: { auto_pad: { s: autoPad }, strides: { ints: [2, 2] } },
      },
      {
        op: 'MaxPool',
        inputs: ['c'],
        outputs: ['y'],
        attrs: { auto_pad: { s: autoPad }, kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
    ],
  });
