/**
 * Models whose Resize and ConvTranspose nodes meet a run-time height and width (#11): each variant's
 * output is a graph output, so one compile checks them all against onnxruntime.
 */
import type { HostTensor } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from './onnx-builder.js';

const ints = (...xs: number[]) => ({ ints: xs });
/** A 1-D float32 tensor of `xs`. */
export const floats = (...xs: number[]): HostTensor => ({
  dtype: 'float32',
  dims: [xs.length],
  data: Float32Array.from(xs),
});
/** A 1-D int64 tensor of `xs`. */
export const int64s = (...xs: number[]): HostTensor => ({
  dtype: 'int64',
  dims: [xs.length],
  data: BigInt64Array.from(xs.map(BigInt)),
});

/** Resize by scales and by sizes taken from another tensor's shape, in the modes exporters use. */
export function resizeVariants(opset: 13 | 19 = 13): Uint8Array {
  const variants: { name: string; scales?: string; sizes?: boolean; attrs: NodeSpec['attrs'] }[] = [
    {
      name: 'nearest_floor_x2',
      scales: 'by2',
      attrs: {
        mode: { s: 'nearest' },
        coordinate_transformation_mode: { s: 'asymmetric' },
        nearest_mode: { s: 'floor' },
      },
    },
    { name: 'nearest_half_pixel_x2', scales: 'by2', attrs: { mode: { s: 'nearest' } } },
    {
      name: 'nearest_half_x3',
      scales: 'by3',
      attrs: {
        mode: { s: 'nearest' },
        coordinate_transformation_mode: { s: 'tf_half_pixel_for_nn' },
        nearest_mode: { s: 'ceil' },
      },
    },
    { name: 'linear_half_pixel_x2', scales: 'by2', attrs: { mode: { s: 'linear' } } },
    {
      name: 'linear_align_corners_x2',
      scales: 'by2',
      attrs: { mode: { s: 'linear' }, coordinate_transformation_mode: { s: 'align_corners' } },
    },
    {
      name: 'linear_pytorch_half',
      scales: 'half',
      attrs: { mode: { s: 'linear' }, coordinate_transformation_mode: { s: 'pytorch_half_pixel' } },
    },
    // F.interpolate(x, size=like.shape[2:]): the sizes are a shape value
    {
      name: 'nearest_sizes_like',
      sizes: true,
      attrs: {
        mode: { s: 'nearest' },
        coordinate_transformation_mode: { s: 'asymmetric' },
        nearest_mode: { s: 'floor' },
      },
    },
    { name: 'linear_sizes_like', sizes: true, attrs: { mode: { s: 'linear' } } },
  ];
  const nodes: NodeSpec[] = [
    { op: 'Shape', inputs: ['x'], outputs: ['xs'] },
    { op: 'Shape', inputs: ['like'], outputs: ['ls'] },
    { op: 'Slice', inputs: ['xs', 'zero', 'two'], outputs: ['nc'] },
    { op: 'Slice', inputs: ['ls', 'two', 'four'], outputs: ['hw'] },
    { op: 'Concat', inputs: ['nc', 'hw'], outputs: ['sizes'], attrs: { axis: { i: 0 } } },
    ...variants.map((v): NodeSpec => ({
      op: 'Resize',
      inputs: v.sizes ? ['x', '', '', 'sizes'] : ['x', '', v.scales!],
      outputs: [v.name],
      attrs: v.attrs,
    })),
  ];
  return buildModel({
    name: 'resize-variants',
    opset,
    inputs: [
      { name: 'x', dtype: 'float32', shape: [1, 2, 'height', 'width'] },
      { name: 'like', dtype: 'float32', shape: [1, 1, 'lh', 'lw'] },
    ],
    outputs: variants.map((v) => ({ name: v.name, dtype: 'float32' })),
    nodes,
    initializers: [
      { name: 'by2', tensor: floats(1, 1, 2, 2) },
      { name: 'by3', tensor: floats(1, 1, 3, 3) },
      { name: 'half', tensor: floats(1, 1, 0.5, 0.5) },
      { name: 'zero', tensor: int64s(0) },
      { name: 'two', tensor: int64s(2) },
      { name: 'four', tensor: int64s(4) },
    ],
  });
}

/**
 * ConvTransposes over a run-time height and width: strided, padded, dilated, grouped, output_padding; a
 * disjoint one with a Relu and a padded one with a Sigmoid that fuse into them (passes/fuse-activation.ts,
 * fuse-epilogue.ts).
 */
export function convTransposeVariants(): Uint8Array {
  const w = (dims: number[], seed: number) => randomTensor(dims, seededRandom(seed), 0.5);
  return buildModel({
    name: 'conv-transpose-variants',
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4, 'height', 'width'] }],
    outputs: ['up2', 'padded', 'grouped', 'dilated', 'up2_relu', 'padded_sigmoid'].map((name) => ({
      name,
      dtype: 'float32',
    })),
    nodes: [
      { op: 'ConvTranspose', inputs: ['x', 'w22', 'b3'], outputs: ['up2'], attrs: { strides: ints(2, 2) } },
      {
        op: 'ConvTranspose',
        inputs: ['x', 'w33'],
        outputs: ['padded'],
        attrs: { strides: ints(2, 3), pads: ints(1, 0, 1, 1), output_padding: ints(1, 0) },
      },
      {
        op: 'ConvTranspose',
        inputs: ['x', 'wg', 'b6'],
        outputs: ['grouped'],
        attrs: { group: { i: 2 }, strides: ints(2, 2), pads: ints(1, 1, 1, 1) },
      },
      { op: 'ConvTranspose', inputs: ['x', 'w33'], outputs: ['dilated'], attrs: { dilations: ints(2, 1) } },
      { op: 'ConvTranspose', inputs: ['x', 'w22', 'b3'], outputs: ['c1'], attrs: { strides: ints(2, 2) } },
      { op: 'Relu', inputs: ['c1'], outputs: ['up2_relu'] },
      {
        op: 'ConvTranspose',
        inputs: ['x', 'w33'],
        outputs: ['c2'],
        attrs: { strides: ints(2, 3), pads: ints(1, 0, 1, 1), output_padding: ints(1, 0) },
      },
      { op: 'Sigmoid', inputs: ['c2'], outputs: ['padded_sigmoid'] },
    ],
    initializers: [
      { name: 'w22', tensor: w([4, 3, 2, 2], 11) },
      { name: 'b3', tensor: w([3], 12) },
      { name: 'w33', tensor: w([4, 3, 3, 3], 13) },
      { name: 'wg', tensor: w([4, 3, 3, 3], 14) },
      { name: 'b6', tensor: w([6], 15) },
    ],
  });
}
