/**
 * The row and channel kernels of real models (normalizations, softmax, reductions, pools, im2col) run on
 * the GPU spread over rows, channels or output elements, not as one invocation: each op, compiled from a
 * one-node ONNX model, dispatches more than one workgroup per kernel and agrees with the wasm backend and
 * onnxruntime. Kernels along a first or middle axis (softmax, scans) run one invocation per line along
 * the axis: odd shapes check the count of invocations and the results.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { runOrt } from '../helpers/ort-oracle.js';
import { buildModel, randomTensor, seededRandom, type AttrSpec } from '../helpers/onnx-builder.js';
import { asFeeds, differences, nodeGpu, randomFeeds } from './fixture.js';

interface OpCase {
  op: string;
  /** shape of the input x; sizes chosen so each kernel has more than 64 rows, channels or elements */
  x: number[];
  weights?: HostTensor[];
  attrs?: Record<string, AttrSpec>;
}

const rand = seededRandom(11);
const weight = (dims: number[]) => randomTensor(dims, rand);
const positive = (dims: number[]) => {
  const t = randomTensor(dims, rand);
  return { ...t, data: (t.data as Float32Array).map((x) => Math.abs(x) + 0.1) };
};
const axes = (...values: number[]): HostTensor => ({
  dtype: 'int64',
  dims: [values.length],
  data: BigInt64Array.from(values.map(BigInt)),
});

const scalarAxis = (value: number): HostTensor => ({
  dtype: 'int64',
  dims: [],
  data: BigInt64Array.of(BigInt(value)),
});

const CASES: Record<string, OpCase> = {
  'Softmax over the last axis': { op: 'Softmax', x: [2, 70, 8], attrs: { axis: { i: -1 } } },
  'LogSoftmax over the last axis': { op: 'LogSoftmax', x: [130, 6], attrs: { axis: { i: -1 } } },
  'Softmax over a middle axis': { op: 'Softmax', x: [9, 5, 15], attrs: { axis: { i: 1 } } },
  'Hardmax over the first axis': { op: 'Hardmax', x: [4, 9, 15], attrs: { axis: { i: 0 } } },
  'ReduceMean of the last axis': { op: 'ReduceMean', x: [3, 70, 6], attrs: { axes: { ints: [2] } } },
  'ReduceSum of a middle axis': { op: 'ReduceSum', x: [3, 5, 30], weights: [axes(1)] },
  LayerNormalization: {
    op: 'LayerNormalization',
    x: [130, 16],
    weights: [weight([16]), weight([16])],
    attrs: { axis: { i: -1 } },
  },
  BatchNormalization: {
    op: 'BatchNormalization',
    x: [1, 4, 5, 5],
    weights: [weight([4]), weight([4]), weight([4]), positive([4])],
  },
  MaxPool: {
    op: 'MaxPool',
    x: [1, 4, 10, 10],
    attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
  },
  AveragePool: { op: 'AveragePool', x: [1, 3, 7, 7], attrs: { kernel_shape: { ints: [3, 3] } } },
  GlobalAveragePool: { op: 'GlobalAveragePool', x: [1, 130, 3, 3] },
  'CumSum along the first axis, exclusive and reversed': {
    op: 'CumSum',
    x: [5, 7, 11],
    weights: [scalarAxis(0)],
    attrs: { exclusive: { i: 1 }, reverse: { i: 1 } },
  },
  'CumSum along a middle axis': { op: 'CumSum', x: [6, 5, 13], weights: [scalarAxis(1)] },
  'Conv (im2col and gemm)': {
    op: 'Conv',
    x: [1, 33, 6, 6],
    weights: [weight([4, 33, 3, 3])],
    attrs: { pads: { ints: [1, 1, 1, 1] } },
  },
};

/** The one-node model of `c` (opset 17), its weights as initializers. */
function modelOf(c: OpCase): Uint8Array {
  const weights = (c.weights ?? []).map((tensor, i) => ({ name: `w${i}`, tensor }));
  return buildModel({
    opset: 17,
    inputs: [{ name: 'x', dtype: 'float32', shape: c.x }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: weights,
    nodes: [{ op: c.op, inputs: ['x', ...weights.map((w) => w.name)], outputs: ['y'], attrs: c.attrs }],
  });
}

/** The webgpu backend's outputs equal the wasm backend's and onnxruntime's. */
async function expectWasmAndOrtOutputs(bytes: Uint8Array, files: BundleFiles): Promise<void> {
  const [wasm, webgpu] = await Promise.all([
    loadModel(files, { backend: 'wasm' }),
    loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() }),
  ]);
  try {
    const feeds = randomFeeds(files, 3);
    const actual = await webgpu.run(asFeeds(feeds));
    expect(differences(actual, await wasm.run(asFeeds(feeds)))).toEqual([]);
    expect(differences(actual, await runOrt(bytes, feeds))).toEqual([]);
  } finally {
    wasm.dispose();
    webgpu.dispose();
  }
}

describe.each(Object.entries(CASES))('%s on the webgpu backend', (_, c) => {
  it('spreads every kernel over more than one workgroup and gives the wasm and onnxruntime outputs', async () => {
    const bytes = modelOf(c);
    const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'] });
    const single = files.manifest.webgpu!.run.filter((d) => d.workgroups[0] * d.workgroups[1] <= 1);
    expect(single.map((d) => d.entry)).toEqual([]);
    await expectWasmAndOrtOutputs(bytes, files);
  });
});

/** Odd shapes: a kernel along `axis` of [3, 5, 7] runs one invocation per line, 105 / (the axis's extent). */
const LINES: Record<string, OpCase & { lines: number }> = {
  'Softmax over axis 0': { op: 'Softmax', x: [3, 5, 7], attrs: { axis: { i: 0 } }, lines: 35 },
  'Softmax over axis 1': { op: 'Softmax', x: [3, 5, 7], attrs: { axis: { i: 1 } }, lines: 21 },
  'LogSoftmax over axis 1': { op: 'LogSoftmax', x: [3, 5, 7], attrs: { axis: { i: 1 } }, lines: 21 },
  'Hardmax over axis 0': { op: 'Hardmax', x: [3, 5, 7], attrs: { axis: { i: 0 } }, lines: 35 },
  'CumSum along axis 0': { op: 'CumSum', x: [3, 5, 7], weights: [scalarAxis(0)], lines: 35 },
  'CumSum along axis 1, exclusive': {
    op: 'CumSum',
    x: [3, 5, 7],
    weights: [scalarAxis(1)],
    attrs: { exclusive: { i: 1 } },
    lines: 21,
  },
  'CumSum along axis -2, reversed': {
    op: 'CumSum',
    x: [3, 5, 7],
    weights: [scalarAxis(-2)],
    attrs: { reverse: { i: 1 } },
    lines: 21,
  },
  'CumSum along axis 2, exclusive and reversed': {
    op: 'CumSum',
    x: [3, 5, 7],
    weights: [scalarAxis(2)],
    attrs: { exclusive: { i: 1 }, reverse: { i: 1 } },
    lines: 15,
  },
};

describe.each(Object.entries(LINES))('%s of [3, 5, 7] on the webgpu backend', (_, c) => {
  it('runs one invocation per line and gives the wasm and onnxruntime outputs', async () => {
    const bytes = modelOf(c);
    const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'] });
    const run = files.manifest.webgpu!.run;
    expect(run).toHaveLength(1);
    expect(files.wgsl).toContain(`if (gid >= ${c.lines}u) { return; }`);
    await expectWasmAndOrtOutputs(bytes, files);
  });
});
