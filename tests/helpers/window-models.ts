/** Depthwise convs and pools over [1, C, height, width] with a run-time size (#11; symbolic-window-runs.ts). */
import { buildModel, randomTensor, seededRandom, type NodeSpec } from './onnx-builder.js';

const ints = (...xs: number[]) => ({ ints: xs });
export const C = 6;

/**
 * One op over x [1, channels, height, width], both dims symbolic; a Conv gets `kernel`×`kernel` weights, a
 * bias and a fused Relu.
 */
export function windowModel(
  node: Omit<NodeSpec, 'inputs' | 'outputs'>,
  outChannels = C,
  kernel = 3,
  channels = C,
): Uint8Array {
  const rand = seededRandom(7);
  const conv = node.op === 'Conv';
  const group = (node.attrs?.group as { i: number } | undefined)?.i ?? 1;
  return buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, channels, 'height', 'width'] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: conv
      ? [
          { name: 'w', tensor: randomTensor([outChannels, channels / group, kernel, kernel], rand, 0.5) },
          { name: 'b', tensor: randomTensor([outChannels], rand, 0.5) },
        ]
      : [],
    nodes: [
      { ...node, inputs: conv ? ['x', 'w', 'b'] : ['x'], outputs: [conv ? 'c' : 'y'] },
      ...(conv ? [{ op: 'Relu', inputs: ['c'], outputs: ['y'] }] : []),
    ],
  });
}

export const WINDOW_CASES: {
  name: string;
  node: Omit<NodeSpec, 'inputs' | 'outputs'>;
  taps: number;
  outChannels?: number;
}[] = [
  {
    name: 'dense 3×3 conv of 4 output channels, pads 1, fused Relu',
    node: { op: 'Conv', attrs: { pads: ints(1, 1, 1, 1) } },
    taps: 9,
    outChannels: 4,
  },
  {
    name: 'grouped 3×3 conv (2 groups), stride 2, no pads',
    node: { op: 'Conv', attrs: { group: { i: 2 }, strides: ints(2, 2) } },
    taps: 9,
  },
  {
    name: 'depthwise 3×3 conv, pads 1, fused Relu',
    node: { op: 'Conv', attrs: { group: { i: C }, pads: ints(1, 1, 1, 1) } },
    taps: 9,
  },
  {
    name: 'depthwise 3×3 conv, stride 2, pads 1',
    node: { op: 'Conv', attrs: { group: { i: C }, strides: ints(2, 2), pads: ints(1, 1, 1, 1) } },
    taps: 9,
  },
  {
    name: 'MaxPool 3×3, stride 2, pads 1',
    node: { op: 'MaxPool', attrs: { kernel_shape: ints(3, 3), strides: ints(2, 2), pads: ints(1, 1, 1, 1) } },
    taps: 9,
  },
  {
    name: 'AveragePool 2×2, stride (2, 1), ceil_mode',
    node: {
      op: 'AveragePool',
      attrs: { kernel_shape: ints(2, 2), strides: ints(2, 1), ceil_mode: { i: 1 } },
    },
    taps: 4,
  },
];

/** Dense convs of more output channels (9 or more) than run as window sums: the gemm over tiles of output positions. */
export const GEMM_CONV_CASES: {
  name: string;
  node: Omit<NodeSpec, 'inputs' | 'outputs'>;
  kernel: number;
  outChannels: number;
}[] = [
  {
    name: 'dense 3×3 conv of 24 output channels, pads 1, fused Relu',
    node: { op: 'Conv', attrs: { pads: ints(1, 1, 1, 1) } },
    kernel: 3,
    outChannels: 24,
  },
  {
    name: 'dense 3×3 conv of 24 output channels, stride 2, pads 1',
    node: { op: 'Conv', attrs: { strides: ints(2, 2), pads: ints(1, 1, 1, 1) } },
    kernel: 3,
    outChannels: 24,
  },
  {
    name: 'dense 3×3 conv of 12 output channels (a detector head), pads 1',
    node: { op: 'Conv', attrs: { pads: ints(1, 1, 1, 1) } },
    kernel: 3,
    outChannels: 12,
  },
  {
    name: 'dense 1×1 conv of 20 output channels, stride 1 (reads X in place)',
    node: { op: 'Conv', attrs: {} },
    kernel: 1,
    outChannels: 20,
  },
  {
    name: 'dense 1×1 conv of 20 output channels, stride 2',
    node: { op: 'Conv', attrs: { strides: ints(2, 2) } },
    kernel: 1,
    outChannels: 20,
  },
  {
    name: 'dense 3×3 conv of 20 output channels, dilation 2, pads (2, 1, 0, 2)',
    node: { op: 'Conv', attrs: { dilations: ints(2, 2), pads: ints(2, 1, 0, 2) } },
    kernel: 3,
    outChannels: 20,
  },
];

/** Stride-1 convs of 16–48 input and at most 16 output channels: the shifted form (conv-shifted.ts). */
export const SHIFTED_CONV_CASES: {
  name: string;
  node: Omit<NodeSpec, 'inputs' | 'outputs'>;
  channels: number;
  outChannels: number;
  kernel: number;
}[] = [
  {
    name: '3×3 conv 48 → 12 channels, pads 1, fused Relu (a detector head)',
    node: { op: 'Conv', attrs: { pads: ints(1, 1, 1, 1) } },
    channels: 48,
    outChannels: 12,
    kernel: 3,
  },
  {
    name: '3×3 conv 16 → 16 channels, no pads',
    node: { op: 'Conv', attrs: {} },
    channels: 16,
    outChannels: 16,
    kernel: 3,
  },
  {
    name: '3×3 conv 16 → 10 channels, dilation 2, pads (2, 1, 0, 2)',
    node: { op: 'Conv', attrs: { dilations: ints(2, 2), pads: ints(2, 1, 0, 2) } },
    channels: 16,
    outChannels: 10,
    kernel: 3,
  },
  {
    name: '2×2 conv 20 → 16 channels, pads (0, 1, 1, 0)',
    node: { op: 'Conv', attrs: { pads: ints(0, 1, 1, 0) } },
    channels: 20,
    outChannels: 16,
    kernel: 2,
  },
];
