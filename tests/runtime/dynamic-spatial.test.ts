/**
 * CNN ops over an image width known only at run time (#11, `--shape x=1,C,H,16..W`): Conv (strided,
 * padded, dilated, grouped, depthwise, with a fused Relu), BatchNormalization, MaxPool, AveragePool and
 * GlobalAveragePool, one bundle per model, matching onnxruntime-node at several widths.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../helpers/onnx-builder.js';
import { ortMismatches } from '../helpers/ort-oracle.js';

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
  ];
  return buildModel({
    name: 'width-cnn',
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 12, 'width'] }],
    outputs: [
      { name: 'y', dtype: 'float32' },
      { name: 'g', dtype: 'float32' },
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
    ],
    nodes,
  });
}

describe('a CNN compiled once with --shape x=1,3,12,5..64', () => {
  const bytes = widthKeepingCnn();
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, {
      shapes: { x: [1, 3, 12, { min: 5, max: 64 }] },
      relaxed: false,
    });
    model = await loadModel(files, { backend: 'wasm' });
  });
  afterAll(() => model.dispose());

  test('lists the width as a bounded dim of the input and the feature map', () => {
    expect(model.inputs[0].shape).toEqual([1, 3, 12, { name: 'width', min: 5, max: 64 }]);
    // the runtime sizes it from the floor division the manifest lists
    expect(model.outputs[0].shape).toMatchObject([
      1,
      6,
      3,
      { name: 'floor((width + 1) / 2)', min: 3, max: 32 },
    ]);
    expect(model.outputs[1].shape).toEqual([1, 6, 1, 1]);
  });

  test.each([5, 7, 16, 33, 64])('matches onnxruntime at width %i', async (w) => {
    const x = randomTensor([1, 3, 12, w], seededRandom(w));
    expect(await ortMismatches(bytes, model, { x })).toEqual([]);
  });
});

describe('symbolic widths that the kernels cannot take are one compile error', () => {
  const unpadded = (attrs: NodeSpec['attrs'] = {}) =>
    buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 4, 'width'] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      nodes: [
        { op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: { ints: [1, 3] }, ...attrs } },
      ],
    });
  const compile = (bytes: Uint8Array, min: number) =>
    compileModel(bytes, { shapes: { x: [1, 2, 4, { min, max: 64 }] }, relaxed: false });

  test('a window wider than the lower bound names the op, the dim and the way out', async () => {
    await expect(compile(unpadded(), 2)).rejects.toThrow(
      /MaxPool node .*dim width .*is wider than dim width at its lower bound; raise it with --shape/,
    );
    await expect(compile(unpadded(), 3)).resolves.toBeDefined();
  });

  test('ceil_mode over a symbolic dim is refused', async () => {
    await expect(compile(unpadded({ ceil_mode: { i: 1 } }), 3)).rejects.toThrow(/ceil_mode over dim width/);
  });
});
