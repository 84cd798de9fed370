/**
 * `--weights int8` keeps int8 weights int8 (src/passes/int8-kernels.ts): MatMul, Gemm and Conv read them
 * through the int8 gemm (depthwise convs restore each weight as they read it), no float32 copy is built
 * at load, and outputs stay within quantization error of onnxruntime's float32 ones. The webgpu target
 * keeps restoring float32 weights.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import type { CompileOptions } from '../../src/compiler/options.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { tensorFromNumbers, type HostTensor } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../helpers/onnx-builder.js';
import { runKiln, runOrt } from '../helpers/ort-oracle.js';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { specialize } from '../../src/passes/specialize.js';
import { canonicalize } from '../../src/passes/canonicalize.js';
import { compressWeights } from '../../src/passes/compress-weights.js';
import { MIN_COMPRESSED_BYTES } from '../../src/bundle/manifest.js';
import { fuseActivations } from '../../src/passes/fuse-activation.js';
import { useInt8Kernels } from '../../src/passes/int8-kernels.js';
import { evaluateProgram } from '../../src/codegen/wasm/evaluate.js';
import { declaredMemoryBytes } from '../../src/codegen/wasm/index.js';
import { int8ActivationBytes } from '../../src/kernels/int8-gemm.js';

const rand = seededRandom(7);

const compile = (bytes: Uint8Array, opts: CompileOptions) => compileModel(bytes, opts);
const ops = (files: BundleFiles) => (files.manifest.kernels ?? []).map((k) => k.op);

/** Largest |a − b| relative to the largest |b|. */
function relativeError(a: HostTensor, b: HostTensor): number {
  const [x, y] = [a.data as Float32Array, b.data as Float32Array];
  expect(x.length).toBe(y.length);
  let [err, range] = [0, 0];
  for (let i = 0; i < x.length; i++) {
    err = Math.max(err, Math.abs(x[i] - y[i]));
    range = Math.max(range, Math.abs(y[i]));
  }
  return err / range;
}

/** x [2, 5, 64] → MatMul W1 [64, 96] → Gemm-free path; Gemm (transB, alpha, beta, row bias) on [10, 96]. */
function denseModel(opset: number) {
  const nodes: NodeSpec[] = [
    { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h'] },
    { op: 'Relu', inputs: ['h'], outputs: ['r'] },
    { op: 'Reshape', inputs: ['r', 'shape'], outputs: ['f'] },
    {
      op: 'Gemm',
      inputs: ['f', 'w2', 'b2'],
      outputs: ['y'],
      attrs: { transB: { i: 1 }, alpha: { f: 0.75 }, beta: { f: 2 } },
    },
  ];
  return buildModel({
    name: 'dense',
    opset,
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 5, 64] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [10, 72] }],
    initializers: [
      { name: 'w1', tensor: randomTensor([64, 96], rand, 0.3) },
      { name: 'w2', tensor: randomTensor([72, 96], rand, 0.3) },
      { name: 'b2', tensor: randomTensor([72], rand, 0.1) },
      { name: 'shape', tensor: { dtype: 'int64', dims: [2], data: BigInt64Array.from([10n, 96n]) } },
    ],
    nodes,
  });
}

/** x [1, 8, 13, 11] → 1×1 conv (40) + Relu → 3×3 stride-2 padded conv (24) → depthwise 3×3 (24). */
function convModel(opset: number) {
  return buildModel({
    name: 'convs',
    opset,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 8, 13, 11] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 24, 7, 6] }],
    initializers: [
      { name: 'pw', tensor: randomTensor([512, 8, 1, 1], rand, 0.5) },
      { name: 'pwb', tensor: randomTensor([512], rand, 0.1) },
      { name: 'k3', tensor: randomTensor([24, 512, 3, 3], rand, 0.1) },
      { name: 'dw', tensor: randomTensor([24, 1, 3, 3], rand, 0.5) },
    ],
    nodes: [
      { op: 'Conv', inputs: ['x', 'pw', 'pwb'], outputs: ['a'] },
      { op: 'Relu', inputs: ['a'], outputs: ['r'] },
      {
        op: 'Conv',
        inputs: ['r', 'k3'],
        outputs: ['b'],
        attrs: { strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } },
      },
      {
        op: 'Conv',
        inputs: ['b', 'dw'],
        outputs: ['y'],
        attrs: { group: { i: 24 }, pads: { ints: [1, 1, 1, 1] } },
      },
    ],
  });
}

// Weights and activations are each off by at most half a quantization step (0.4 % of their range);
// across these dot products the errors partly cancel, so 2 % of the output range bounds the error.
const TOLERANCE = 0.02;

/** The int8 nodes `--weights int8` makes of a model, each as `op nonnegative=0|1`, in graph order. */
function int8Nodes(bytes: Uint8Array): string[] {
  const graph = specialize(parseOnnxModel(bytes), { evaluate: evaluateProgram });
  const int8 = useInt8Kernels(
    fuseActivations(canonicalize(compressWeights(graph, 'int8', MIN_COMPRESSED_BYTES).graph)),
  );
  return int8.graph.nodes
    .filter((n) => n.op.startsWith('Int8'))
    .map((n) => `${n.op} nonnegative=${n.attrs.nonnegative ?? 0}`);
}

describe('int8 kernels', () => {
  it('marks the operand a Relu made (fused or not, through Reshape) never negative, and no other', () => {
    expect(int8Nodes(denseModel(17))).toEqual(['Int8MatMul nonnegative=0', 'Int8MatMul nonnegative=1']);
    expect(int8Nodes(convModel(17))).toEqual(['Int8Conv nonnegative=0', 'Int8Conv nonnegative=1']);
  });

  for (const opset of [17, 11])
    it(`MatMul (batched A) and Gemm (transB, alpha, beta, bias) read int8 weights (opset ${opset})`, async () => {
      const bytes = denseModel(opset);
      const x = randomTensor([2, 5, 64], rand);
      const files = await compile(bytes, { weights: 'int8' });
      expect(ops(files)).toEqual(['Int8MatMul+Relu', 'Int8MatMul']);
      // nothing is restored at load: init() has no work and no float32 copy of a weight persists
      expect(files.manifest.memory.persistentBytes).toBe(0);
      const ours = await runKiln(bytes, { x }, { weights: 'int8' });
      const theirs = await runOrt(bytes, { x });
      const err = relativeError(ours.y, theirs.y);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(TOLERANCE);
    });

  it('a Clip fused into the int8 gemm (weights in A for Conv, in B for MatMul) clamps as onnxruntime does', async () => {
    const bounds = [
      { name: 'lo', tensor: tensorFromNumbers('float32', [], [-0.8]) },
      { name: 'hi', tensor: tensorFromNumbers('float32', [], [1]) },
    ];
    const clip: NodeSpec = { op: 'Clip', inputs: ['a', 'lo', 'hi'], outputs: ['y'] };
    const conv = buildModel({
      name: 'conv-clip',
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 8, 5, 6] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 128, 5, 6] }],
      initializers: [
        { name: 'w', tensor: randomTensor([128, 8, 1, 1], rand, 0.5) },
        { name: 'b', tensor: randomTensor([128], rand, 0.1) },
        ...bounds,
      ],
      nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['a'] }, clip],
    });
    const matmul = buildModel({
      name: 'matmul-clip',
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [7, 64] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [7, 36] }],
      initializers: [{ name: 'w', tensor: randomTensor([64, 36], rand, 0.3) }, ...bounds],
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['a'] }, clip],
    });
    for (const [bytes, shape, op] of [
      [conv, [1, 8, 5, 6], 'Int8Conv+Clip'],
      [matmul, [7, 64], 'Int8MatMul+Clip'],
    ] as const) {
      expect(ops(await compile(bytes, { weights: 'int8' }))).toEqual([op]);
      const x = randomTensor([...shape], rand);
      const ours = await runKiln(bytes, { x }, { weights: 'int8' });
      const theirs = await runOrt(bytes, { x });
      const [lo, hi] = [Math.fround(-0.8), 1];
      // both bounds bind somewhere, and every output is within them
      const want = theirs.y.data as Float32Array;
      expect(want.filter((v) => v === lo).length).toBeGreaterThan(0);
      expect(want.filter((v) => v === hi).length).toBeGreaterThan(0);
      const got = ours.y.data as Float32Array;
      expect(got.every((v) => v >= lo && v <= hi)).toBe(true);
      const err = relativeError(ours.y, theirs.y);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(TOLERANCE);
    }
  });

  it('1×1 and im2col convs read int8 weights; a depthwise weight under 4 KiB stays float32', async () => {
    const bytes = convModel(17);
    const x = randomTensor([1, 8, 13, 11], rand);
    const [fp32, int8] = await Promise.all([compile(bytes, {}), compile(bytes, { weights: 'int8' })]);
    expect(ops(int8)).toEqual(['Int8Conv+Relu', 'Int8Conv', 'Conv']);
    // the depthwise weight (864 B) is below the compression threshold; the others stay int8: a quarter
    expect(int8.weights.byteLength / fp32.weights.byteLength).toBeLessThan(0.27);
    expect(int8.manifest.memory.persistentBytes).toBe(0);
    const ours = await runKiln(bytes, { x }, { weights: 'int8' });
    const theirs = await runOrt(bytes, { x });
    const err = relativeError(ours.y, theirs.y);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(TOLERANCE);
  });

  it("an im2col conv's matrix is built in bands, its quantized columns in the arena: one band, not the whole matrix", async () => {
    // a first conv over RGB: K = 27, 64×64 outputs, a 432 KiB im2col matrix (y, an output, is not in the arena)
    const [M, K, S] = [64, 27, 64 * 64];
    const bytes = buildModel({
      name: 'first-conv',
      opset: 17,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 64, 64] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, M, 64, 64] }],
      initializers: [
        { name: 'w', tensor: randomTensor([M, 3, 3, 3], rand, 0.3) },
        { name: 'b', tensor: randomTensor([M], rand, 0.1) },
      ],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
      ],
    });
    const files = await compile(bytes, { weights: 'int8' });
    expect(ops(files)).toEqual(['Int8Conv']);
    // a band is at most 256 KiB (conv.ts BAND_BYTES): here 32 of the 64 output rows, beside the gemm's
    // quantized columns, which the memory plan holds too: the module declares no memory past the plan
    expect(files.manifest.memory.arenaBytes).toBe((K * S * 4) / 2 + int8ActivationBytes(S / 2, K));
    expect(declaredMemoryBytes(files.wasm)).toBe(files.manifest.memory.totalBytes);
    const x = randomTensor([1, 3, 64, 64], rand);
    const err = relativeError(
      (await runKiln(bytes, { x }, { weights: 'int8' })).y,
      (await runOrt(bytes, { x })).y,
    );
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(TOLERANCE);
  });

  it('grouped and 1-D convs, a 1-D MatMul operand and a full-matrix Gemm bias', async () => {
    const bytes = buildModel({
      name: 'shapes',
      opset: 17,
      inputs: [
        { name: 'x', dtype: 'float32', shape: [2, 32, 9] },
        { name: 'v', dtype: 'float32', shape: [96] },
        { name: 'a', dtype: 'float32', shape: [5, 96] },
      ],
      outputs: [
        { name: 'y', dtype: 'float32', shape: [2, 64, 4] },
        { name: 'u', dtype: 'float32', shape: [80] },
        { name: 'g', dtype: 'float32', shape: [5, 80] },
      ],
      initializers: [
        { name: 'k', tensor: randomTensor([64, 16, 5], rand, 0.3) },
        { name: 'kb', tensor: randomTensor([64], rand, 0.1) },
        { name: 'm', tensor: randomTensor([96, 80], rand, 0.3) },
        { name: 'c', tensor: randomTensor([5, 80], rand, 0.1) },
      ],
      nodes: [
        {
          op: 'Conv',
          inputs: ['x', 'k', 'kb'],
          outputs: ['y'],
          attrs: { group: { i: 2 }, strides: { ints: [2] }, pads: { ints: [1, 1] } },
        },
        { op: 'MatMul', inputs: ['v', 'm'], outputs: ['u'] },
        { op: 'Gemm', inputs: ['a', 'm', 'c'], outputs: ['g'], attrs: { beta: { f: 0.5 } } },
      ],
    });
    const files = await compile(bytes, { weights: 'int8' });
    expect(ops(files)).toEqual(['Int8Conv', 'Int8MatMul', 'Int8MatMul']);
    const feeds = {
      x: randomTensor([2, 32, 9], rand),
      v: randomTensor([96], rand),
      a: randomTensor([5, 96], rand),
    };
    const ours = await runKiln(bytes, feeds, { weights: 'int8' });
    const theirs = await runOrt(bytes, feeds);
    for (const name of ['y', 'u', 'g']) {
      expect(ours[name].dims).toEqual(theirs[name].dims);
      expect(relativeError(ours[name], theirs[name])).toBeLessThan(TOLERANCE);
    }
  });

  it('a Gather of an embedding table gathers int8 rows and restores only those', async () => {
    const bytes = buildModel({
      name: 'embed',
      opset: 17,
      inputs: [{ name: 'ids', dtype: 'int64', shape: [1, 16] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 16, 64] }],
      initializers: [
        { name: 'table', tensor: randomTensor([1000, 64], rand) },
        { name: 'w', tensor: randomTensor([64, 96], rand, 0.3) },
        { name: 'w2', tensor: randomTensor([96, 64], rand, 0.3) },
      ],
      nodes: [
        { op: 'Gather', inputs: ['table', 'ids'], outputs: ['e'] },
        { op: 'MatMul', inputs: ['e', 'w'], outputs: ['h'] },
        { op: 'MatMul', inputs: ['h', 'w2'], outputs: ['y'] },
      ],
    });
    const files = await compile(bytes, { weights: 'int8' });
    expect(ops(files)).toEqual(['Gather', 'Cast', 'Mul', 'Int8MatMul', 'Int8MatMul']);
    expect(files.manifest.memory.persistentBytes).toBe(0);
    const ids: HostTensor = {
      dtype: 'int64',
      dims: [1, 16],
      data: BigInt64Array.from({ length: 16 }, (_, i) => BigInt(i * 61)),
    };
    const ours = await runKiln(bytes, { ids }, { weights: 'int8' });
    const theirs = await runOrt(bytes, { ids });
    const err = relativeError(ours.y, theirs.y);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(TOLERANCE);
  });

  it('a QDQ model: DequantizeLinear of int8 weights (zero points 0) feeds the int8 kernels without --weights', async () => {
    const int8 = (dims: number[]): HostTensor => ({
      dtype: 'int8',
      dims,
      data: Int8Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.round(rand() * 254 - 127)),
    });
    const scales = (n: number, size: number): HostTensor => ({
      dtype: 'float32',
      dims: [n],
      data: Float32Array.from({ length: n }, () => (0.5 + rand()) * size),
    });
    const zeros = (n: number): HostTensor => ({ dtype: 'int8', dims: [n], data: new Int8Array(n) });
    const bytes = buildModel({
      name: 'qdq',
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 16, 10, 10] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [100, 512] }],
      initializers: [
        { name: 'cw', tensor: int8([64, 16, 3, 3]) },
        { name: 'cs', tensor: scales(64, 0.002) },
        { name: 'cz', tensor: zeros(64) },
        { name: 'mw', tensor: int8([64, 512]) },
        { name: 'ms', tensor: scales(512, 0.002) },
        { name: 'mz', tensor: zeros(512) },
        { name: 'shape', tensor: { dtype: 'int64', dims: [2], data: BigInt64Array.from([64n, 100n]) } },
      ],
      nodes: [
        { op: 'DequantizeLinear', inputs: ['cw', 'cs', 'cz'], outputs: ['cwf'], attrs: { axis: { i: 0 } } },
        { op: 'Conv', inputs: ['x', 'cwf'], outputs: ['c'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
        { op: 'Reshape', inputs: ['c', 'shape'], outputs: ['r'] },
        { op: 'Transpose', inputs: ['r'], outputs: ['t'] },
        { op: 'DequantizeLinear', inputs: ['mw', 'ms', 'mz'], outputs: ['mwf'], attrs: { axis: { i: 1 } } },
        { op: 'MatMul', inputs: ['t', 'mwf'], outputs: ['y'] },
      ],
    });
    const files = await compile(bytes, {});
    expect(ops(files)).toEqual(['Int8Conv', 'Transpose', 'Int8MatMul']);
    expect(files.manifest.memory.persistentBytes).toBe(0);
    const x = randomTensor([1, 16, 10, 10], rand);
    const ours = await runKiln(bytes, { x });
    const theirs = await runOrt(bytes, { x });
    const err = relativeError(ours.y, theirs.y);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(TOLERANCE);
  });

  it('depthwise convs read int8 weights (2-D with a channel multiplier, and 1-D one output at a time)', async () => {
    const int8 = (dims: number[]): HostTensor => ({
      dtype: 'int8',
      dims,
      data: Int8Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.round(rand() * 254 - 127)),
    });
    const scales = (n: number): HostTensor => ({
      dtype: 'float32',
      dims: [n],
      data: Float32Array.from({ length: n }, () => (0.5 + rand()) * 0.01),
    });
    const qdq = buildModel({
      name: 'depthwise',
      opset: 13,
      inputs: [
        { name: 'x', dtype: 'float32', shape: [1, 96, 12, 12] },
        { name: 'x1', dtype: 'float32', shape: [1, 256, 20] },
      ],
      outputs: [
        { name: 'y', dtype: 'float32', shape: [1, 192, 12, 12] },
        { name: 'y1', dtype: 'float32', shape: [1, 256, 4] },
      ],
      initializers: [
        { name: 'dw', tensor: int8([192, 1, 5, 5]) },
        { name: 'ds', tensor: scales(192) },
        { name: 'db', tensor: randomTensor([192], rand, 0.1) },
        { name: 'dw1', tensor: int8([256, 1, 17]) },
        { name: 'ds1', tensor: scales(256) },
      ],
      nodes: [
        { op: 'DequantizeLinear', inputs: ['dw', 'ds'], outputs: ['dwf'], attrs: { axis: { i: 0 } } },
        {
          op: 'Conv',
          inputs: ['x', 'dwf', 'db'],
          outputs: ['c'],
          attrs: { group: { i: 96 }, pads: { ints: [2, 2, 2, 2] } },
        },
        { op: 'Relu', inputs: ['c'], outputs: ['y'] },
        { op: 'DequantizeLinear', inputs: ['dw1', 'ds1'], outputs: ['dw1f'], attrs: { axis: { i: 0 } } },
        { op: 'Conv', inputs: ['x1', 'dw1f'], outputs: ['y1'], attrs: { group: { i: 256 } } },
      ],
    });
    // weights over 16 KiB as float32, which compile does not fold into float32 constants
    const files = await compile(qdq, {});
    expect(ops(files)).toEqual(['Int8Conv+Relu', 'Int8Conv']);
    expect(files.manifest.memory.persistentBytes).toBe(0);
    const feeds = { x: randomTensor([1, 96, 12, 12], rand), x1: randomTensor([1, 256, 20], rand) };
    const ours = await runKiln(qdq, feeds);
    const theirs = await runOrt(qdq, feeds);
    // each weight restored as onnxruntime's DequantizeLinear restores it: float32 rounding apart
    for (const name of ['y', 'y1']) expect(relativeError(ours[name], theirs[name])).toBeLessThan(1e-5);

    // --weights int8 of a float32 depthwise weight over 4 KiB: stored and read as int8
    const float = buildModel({
      name: 'depthwise-fp32',
      opset: 17,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 48, 12, 12] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 48, 12, 12] }],
      initializers: [{ name: 'w', tensor: randomTensor([48, 1, 5, 5], rand, 0.3) }],
      nodes: [
        {
          op: 'Conv',
          inputs: ['x', 'w'],
          outputs: ['y'],
          attrs: { group: { i: 48 }, pads: { ints: [2, 2, 2, 2] } },
        },
      ],
    });
    const [fp32w, int8w] = await Promise.all([compile(float, {}), compile(float, { weights: 'int8' })]);
    expect(ops(int8w)).toEqual(['Int8Conv']);
    expect(int8w.manifest.memory.persistentBytes).toBe(0);
    expect(int8w.weights.byteLength / fp32w.weights.byteLength).toBeLessThan(0.3);
    const x = randomTensor([1, 48, 12, 12], rand);
    const err = relativeError(
      (await runKiln(float, { x }, { weights: 'int8' })).y,
      (await runOrt(float, { x })).y,
    );
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(TOLERANCE);
  });

  it('a depthwise conv over a small map (the padded rows end to end, depthwise-flat.ts) reads int8 weights', async () => {
    // tf-mobilenet's last stage: 480 channels of 5×5, 3×3 p1; 229 with a multiplier of 2 (over 16 KiB as float32)
    const dims = (c: number, m: number) => ({ x: [1, c, 5, 5], w: [c * m, 1, 3, 3] });
    const cases = [dims(480, 1), dims(229, 2)];
    const qdq = buildModel({
      name: 'depthwise-small',
      opset: 13,
      inputs: cases.map((c, i) => ({ name: `x${i}`, dtype: 'float32' as const, shape: c.x })),
      outputs: cases.map((_, i) => ({ name: `y${i}`, dtype: 'float32' as const })),
      initializers: cases.flatMap((c, i) => [
        {
          name: `w${i}`,
          tensor: {
            dtype: 'int8' as const,
            dims: c.w,
            data: Int8Array.from({ length: c.w.reduce((a, b) => a * b, 1) }, () =>
              Math.round(rand() * 254 - 127),
            ),
          },
        },
        {
          name: `s${i}`,
          tensor: {
            dtype: 'float32' as const,
            dims: [c.w[0]],
            data: Float32Array.from({ length: c.w[0] }, () => (0.5 + rand()) * 0.01),
          },
        },
        { name: `b${i}`, tensor: randomTensor([c.w[0]], rand, 0.1) },
      ]),
      nodes: cases.flatMap((c, i): NodeSpec[] => [
        {
          op: 'DequantizeLinear',
          inputs: [`w${i}`, `s${i}`],
          outputs: [`wf${i}`],
          attrs: { axis: { i: 0 } },
        },
        {
          op: 'Conv',
          inputs: [`x${i}`, `wf${i}`, `b${i}`],
          outputs: [`c${i}`],
          attrs: { group: { i: c.x[1] }, pads: { ints: [1, 1, 1, 1] } },
        },
        { op: 'Relu', inputs: [`c${i}`], outputs: [`y${i}`] },
      ]),
    });
    const files = await compile(qdq, {});
    expect(ops(files)).toEqual(['Int8Conv+Relu', 'Int8Conv+Relu']);
    const feeds = Object.fromEntries(cases.map((c, i) => [`x${i}`, randomTensor(c.x, rand)]));
    const ours = await runKiln(qdq, feeds);
    const theirs = await runOrt(qdq, feeds);
    for (const name of ['y0', 'y1']) expect(relativeError(ours[name], theirs[name])).toBeLessThan(1e-5);
  });

  it("onnxruntime's quantize_dynamic MatMul and Conv (DynamicQuantizeLinear → MatMulInteger / ConvInteger → Cast → Mul) run on the int8 gemm", async () => {
    const int8 = (dims: number[]): HostTensor => ({
      dtype: 'int8',
      dims,
      data: Int8Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.round(rand() * 254 - 127)),
    });
    const float = (dims: number[], data: number[]): HostTensor => ({
      dtype: 'float32',
      dims,
      data: Float32Array.from(data),
    });
    const model = (wZero: number) =>
      buildModel({
        name: 'dynamic',
        opset: 13,
        inputs: [
          { name: 'x', dtype: 'float32', shape: [2, 8, 64] },
          { name: 'i', dtype: 'float32', shape: [1, 8, 10, 10] },
        ],
        outputs: [
          { name: 'y', dtype: 'float32', shape: [2, 8, 48] },
          { name: 'z', dtype: 'float32', shape: [2, 8, 3] },
          { name: 'c', dtype: 'float32', shape: [1, 16, 10, 10] },
        ],
        initializers: [
          { name: 'w', tensor: int8([64, 48]) },
          { name: 'w_zero', tensor: { dtype: 'int8', dims: [], data: Int8Array.of(wZero) } },
          { name: 'w_scale', tensor: float([], [0.004]) },
          { name: 'v', tensor: int8([64, 3]) },
          { name: 'v_scale', tensor: float([3], [0.003, 0.005, 0.002]) },
          { name: 'k', tensor: int8([16, 8, 3, 3]) },
          {
            name: 'k_scale',
            tensor: float(
              [16, 1, 1],
              Array.from({ length: 16 }, (_, j) => 0.002 + j * 1e-4),
            ),
          },
        ],
        nodes: [
          { op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['xq', 'x_scale', 'x_zero'] },
          { op: 'MatMulInteger', inputs: ['xq', 'w', 'x_zero', 'w_zero'], outputs: ['yi'] },
          { op: 'Cast', inputs: ['yi'], outputs: ['yf'], attrs: { to: { i: 1 } } },
          { op: 'Mul', inputs: ['x_scale', 'w_scale'], outputs: ['ys'] },
          { op: 'Mul', inputs: ['yf', 'ys'], outputs: ['y'] },
          { op: 'MatMulInteger', inputs: ['xq', 'v', 'x_zero'], outputs: ['zi'] },
          { op: 'Cast', inputs: ['zi'], outputs: ['zf'], attrs: { to: { i: 1 } } },
          { op: 'Mul', inputs: ['v_scale', 'x_scale'], outputs: ['zs'] },
          { op: 'Mul', inputs: ['zs', 'zf'], outputs: ['z'] },
          { op: 'DynamicQuantizeLinear', inputs: ['i'], outputs: ['iq', 'i_scale', 'i_zero'] },
          {
            op: 'ConvInteger',
            inputs: ['iq', 'k', 'i_zero'],
            outputs: ['ci'],
            attrs: { pads: { ints: [1, 1, 1, 1] } },
          },
          { op: 'Cast', inputs: ['ci'], outputs: ['cf'], attrs: { to: { i: 1 } } },
          { op: 'Mul', inputs: ['i_scale', 'k_scale'], outputs: ['cs'] },
          { op: 'Mul', inputs: ['cf', 'cs'], outputs: ['c'] },
        ],
      });
    const bytes = model(0);
    const files = await compile(bytes, {});
    expect(ops(files)).toEqual(['Int8MatMul', 'Int8MatMul', 'Int8Conv']);
    const feeds = { x: randomTensor([2, 8, 64], rand), i: randomTensor([1, 8, 10, 10], rand) };
    const ours = await runKiln(bytes, feeds);
    const theirs = await runOrt(bytes, feeds);
    for (const name of ['y', 'z', 'c']) {
      const err = relativeError(ours[name], theirs[name]);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(TOLERANCE);
    }
    // a weight zero point other than 0: the int8 gemm too, with a correction term (see below)
    expect(ops(await compile(model(3), {}))).not.toContain('MatMulInteger');
  });

  it('QLinearMatMul of an int8 weight: DequantizeLinear → Int8MatMul → QuantizeLinear, within a step of onnxruntime', async () => {
    const [K, N] = [64, 32];
    const bytes = buildModel({
      name: 'qlinear',
      opset: 13,
      inputs: [{ name: 'a', dtype: 'uint8', shape: [4, K] }],
      outputs: [{ name: 'y', dtype: 'uint8', shape: [4, N] }],
      initializers: [
        { name: 'a_scale', tensor: { dtype: 'float32', dims: [], data: Float32Array.of(0.02) } },
        { name: 'a_zero', tensor: { dtype: 'uint8', dims: [], data: Uint8Array.of(128) } },
        {
          name: 'w',
          tensor: {
            dtype: 'int8',
            dims: [K, N],
            data: Int8Array.from({ length: K * N }, () => Math.round(rand() * 254 - 127)),
          },
        },
        {
          name: 'w_scale',
          tensor: {
            dtype: 'float32',
            dims: [N],
            data: Float32Array.from({ length: N }, () => 0.001 + rand() * 0.002),
          },
        },
        { name: 'w_zero', tensor: { dtype: 'int8', dims: [N], data: new Int8Array(N) } },
        { name: 'y_scale', tensor: { dtype: 'float32', dims: [], data: Float32Array.of(0.05) } },
        { name: 'y_zero', tensor: { dtype: 'uint8', dims: [], data: Uint8Array.of(128) } },
      ],
      nodes: [
        {
          op: 'QLinearMatMul',
          inputs: ['a', 'a_scale', 'a_zero', 'w', 'w_scale', 'w_zero', 'y_scale', 'y_zero'],
          outputs: ['y'],
        },
      ],
    });
    const files = await compile(bytes, {});
    expect(ops(files)).toContain('Int8MatMul');
    expect(ops(files)).not.toContain('QLinearMatMul');
    const a: HostTensor = {
      dtype: 'uint8',
      dims: [4, K],
      data: Uint8Array.from({ length: 4 * K }, () => Math.floor(rand() * 256)),
    };
    const ours = (await runKiln(bytes, { a })).y.data as Uint8Array;
    const theirs = (await runOrt(bytes, { a })).y.data as Uint8Array;
    const diffs = Array.from(ours, (v, i) => Math.abs(v - theirs[i]));
    // a re-quantized per row: the output's rounding may land one step away, rarely two
    expect(Math.max(...diffs)).toBeLessThanOrEqual(2);
    expect(diffs.reduce((x, y) => x + y, 0) / diffs.length).toBeLessThan(0.5);
    // the outputs span many steps (not all clipped to one value)
    expect(new Set(theirs).size).toBeGreaterThan(20);
  });

  it('QLinearConv of an int8 weight with an int32 bias: DequantizeLinear → Int8Conv → QuantizeLinear', async () => {
    const M = 16;
    const tensor = (
      dtype: 'uint8' | 'int8' | 'int32' | 'float32',
      dims: number[],
      data: number[],
    ): HostTensor => ({
      dtype,
      dims,
      data: { uint8: Uint8Array, int8: Int8Array, int32: Int32Array, float32: Float32Array }[dtype].from(
        data,
      ),
    });
    const many = (n: number, f: () => number) => Array.from({ length: n }, f);
    const bytes = buildModel({
      name: 'qlinear-conv',
      opset: 13,
      inputs: [{ name: 'x', dtype: 'uint8', shape: [1, 8, 8, 8] }],
      outputs: [{ name: 'y', dtype: 'uint8', shape: [1, M, 8, 8] }],
      initializers: [
        { name: 'x_scale', tensor: tensor('float32', [], [0.02]) },
        { name: 'x_zero', tensor: tensor('uint8', [], [128]) },
        {
          name: 'w',
          tensor: tensor(
            'int8',
            [M, 8, 3, 3],
            many(M * 72, () => Math.round(rand() * 254 - 127)),
          ),
        },
        {
          name: 'w_scale',
          tensor: tensor(
            'float32',
            [M],
            many(M, () => 0.001 + rand() * 0.002),
          ),
        },
        {
          name: 'w_zero',
          tensor: tensor(
            'int8',
            [M],
            many(M, () => 0),
          ),
        },
        { name: 'y_scale', tensor: tensor('float32', [], [0.05]) },
        { name: 'y_zero', tensor: tensor('uint8', [], [128]) },
        {
          name: 'b',
          tensor: tensor(
            'int32',
            [M],
            many(M, () => Math.round((rand() - 0.5) * 20000)),
          ),
        },
      ],
      nodes: [
        {
          op: 'QLinearConv',
          inputs: ['x', 'x_scale', 'x_zero', 'w', 'w_scale', 'w_zero', 'y_scale', 'y_zero', 'b'],
          outputs: ['y'],
          attrs: { pads: { ints: [1, 1, 1, 1] } },
        },
      ],
    });
    const files = await compile(bytes, {});
    expect(ops(files)).toContain('Int8Conv');
    expect(ops(files)).not.toContain('QLinearConv');
    const x = tensor(
      'uint8',
      [1, 8, 8, 8],
      many(512, () => Math.floor(rand() * 256)),
    );
    const ours = (await runKiln(bytes, { x })).y.data as Uint8Array;
    const theirs = (await runOrt(bytes, { x })).y.data as Uint8Array;
    const diffs = Array.from(ours, (v, i) => Math.abs(v - theirs[i]));
    expect(Math.max(...diffs)).toBeLessThanOrEqual(2);
    expect(diffs.reduce((p, d) => p + d, 0) / diffs.length).toBeLessThan(0.5);
    expect(new Set(theirs).size).toBeGreaterThan(20);
  });

  it('with the webgpu target, weights are restored to float32 at load for both targets', async () => {
    const bytes = denseModel(17);
    const files = await compile(bytes, { weights: 'int8', targets: ['wasm', 'webgpu'] });
    expect(ops(files)).toEqual(['MatMul+Relu', 'Gemm']);
    expect(files.manifest.memory.persistentBytes).toBeGreaterThanOrEqual((64 * 96 + 72 * 96) * 4);
    const x = randomTensor([2, 5, 64], rand);
    const ours = await runKiln(bytes, { x }, { weights: 'int8', targets: ['wasm', 'webgpu'] });
    const theirs = await runOrt(bytes, { x });
    expect(relativeError(ours.y, theirs.y)).toBeLessThan(TOLERANCE);
  });
});

/**
 * Quantized models whose weights are uint8 or have zero points other than 0 (issue 18): uint8 values are
 * shifted to int8, and zero points either subtracted at compile time (every q − zp fits int8) or kept
 * as a correction term, −zp · s · Σ x (a MatMul / Conv of the activation with ones), both exact; a
 * grouped conv with several channels per group has no such sum and keeps the generic kernel.
 */
describe('int8 kernels: uint8 weights and weight zero points', () => {
  type Int = 'uint8' | 'int8';
  const ints = (dtype: Int, n: number, lo: number, hi: number) => {
    const values = Array.from({ length: n }, () => lo + Math.floor(rand() * (hi - lo + 1)));
    return dtype === 'uint8' ? Uint8Array.from(values) : Int8Array.from(values);
  };
  const tensor = (dtype: Int | 'float32' | 'int32', dims: number[], data: ArrayLike<number>): HostTensor => ({
    dtype,
    dims,
    data: { uint8: Uint8Array, int8: Int8Array, int32: Int32Array, float32: Float32Array }[dtype].from(data),
  });
  const scales = (n: number) => Float32Array.from({ length: n }, () => 0.001 + rand() * 0.002);
  /** weights of `dtype` in [lo, hi] and one zero point per channel in [zlo, zhi] */
  interface Weights {
    dtype: Int;
    range: [number, number];
    zeros: [number, number];
  }
  const cases: [string, Weights, 'folded' | 'correction'][] = [
    ['uint8 weights, zero point 128', { dtype: 'uint8', range: [0, 255], zeros: [128, 128] }, 'folded'],
    [
      'uint8 weights, zero points 90..160',
      { dtype: 'uint8', range: [0, 255], zeros: [90, 160] },
      'correction',
    ],
    ['int8 weights, zero points −3..3', { dtype: 'int8', range: [-120, 120], zeros: [-3, 3] }, 'folded'],
    ['int8 weights, zero points 4..9', { dtype: 'int8', range: [-127, 127], zeros: [4, 9] }, 'correction'],
  ];

  /** |ours − theirs| in quantization steps: at most 2, mean under 0.5, over outputs spanning many steps */
  async function expectWithinSteps(bytes: Uint8Array, feeds: Record<string, HostTensor>) {
    const ours = (await runKiln(bytes, feeds)).y.data as Uint8Array;
    const theirs = (await runOrt(bytes, feeds)).y.data as Uint8Array;
    const diffs = Array.from(ours, (v, i) => Math.abs(v - theirs[i]));
    expect(Math.max(...diffs)).toBeLessThanOrEqual(2);
    expect(diffs.reduce((p, d) => p + d, 0) / diffs.length).toBeLessThan(0.5);
    expect(new Set(theirs).size).toBeGreaterThan(20);
  }

  for (const [name, w, how] of cases)
    it(`QLinearMatMul, ${name}: Int8MatMul (${how}), odd sizes, within 2 steps of onnxruntime`, async () => {
      const [M, K, N] = [5, 37, 19];
      const bytes = buildModel({
        name: 'qlinear-zero-points',
        opset: 13,
        inputs: [{ name: 'a', dtype: 'uint8', shape: [M, K] }],
        outputs: [{ name: 'y', dtype: 'uint8', shape: [M, N] }],
        initializers: [
          { name: 'a_scale', tensor: tensor('float32', [], [0.02]) },
          { name: 'a_zero', tensor: tensor('uint8', [], [128]) },
          { name: 'w', tensor: tensor(w.dtype, [K, N], ints(w.dtype, K * N, ...w.range)) },
          { name: 'w_scale', tensor: tensor('float32', [N], scales(N)) },
          { name: 'w_zero', tensor: tensor(w.dtype, [N], ints(w.dtype, N, ...w.zeros)) },
          { name: 'y_scale', tensor: tensor('float32', [], [0.05]) },
          { name: 'y_zero', tensor: tensor('uint8', [], [128]) },
        ],
        nodes: [
          {
            op: 'QLinearMatMul',
            inputs: ['a', 'a_scale', 'a_zero', 'w', 'w_scale', 'w_zero', 'y_scale', 'y_zero'],
            outputs: ['y'],
          },
        ],
      });
      const kernels = ops(await compile(bytes, {}));
      expect(kernels).toContain('Int8MatMul');
      expect(kernels).not.toContain('QLinearMatMul');
      // the correction's Σ x is a MatMul with ones; a folded zero point needs none
      expect(kernels.includes('MatMul')).toBe(how === 'correction');
      await expectWithinSteps(bytes, { a: tensor('uint8', [M, K], ints('uint8', M * K, 0, 255)) });
    });

  /** QLinearConv over x [1, C, 9, 7] (3×3, stride 2, pads 1) with M output channels in `group` groups. */
  function qlinearConv(w: Weights, C: number, M: number, group: number) {
    const size = M * (C / group) * 9;
    return buildModel({
      name: 'qlinear-conv-zero-points',
      opset: 13,
      inputs: [{ name: 'x', dtype: 'uint8', shape: [1, C, 9, 7] }],
      outputs: [{ name: 'y', dtype: 'uint8', shape: [1, M, 5, 4] }],
      initializers: [
        { name: 'x_scale', tensor: tensor('float32', [], [0.02]) },
        { name: 'x_zero', tensor: tensor('uint8', [], [128]) },
        { name: 'w', tensor: tensor(w.dtype, [M, C / group, 3, 3], ints(w.dtype, size, ...w.range)) },
        { name: 'w_scale', tensor: tensor('float32', [M], scales(M)) },
        { name: 'w_zero', tensor: tensor(w.dtype, [M], ints(w.dtype, M, ...w.zeros)) },
        { name: 'y_scale', tensor: tensor('float32', [], [0.02]) },
        { name: 'y_zero', tensor: tensor('uint8', [], [128]) },
        { name: 'b', tensor: tensor('int32', [M], ints('int8', M, -100, 100)) },
      ],
      nodes: [
        {
          op: 'QLinearConv',
          inputs: ['x', 'x_scale', 'x_zero', 'w', 'w_scale', 'w_zero', 'y_scale', 'y_zero', 'b'],
          outputs: ['y'],
          attrs: { pads: { ints: [1, 1, 1, 1] }, strides: { ints: [2, 2] }, group: { i: group } },
        },
      ],
    });
  }

  for (const [name, w, how] of cases)
    for (const [C, M, group] of [
      [13, 11, 1],
      [12, 12, 12],
    ])
      it(`QLinearConv ${group === 1 ? '' : 'depthwise '}${C}→${M}, ${name}: Int8Conv (${how}), within 2 steps of onnxruntime`, async () => {
        const bytes = qlinearConv(w, C, M, group);
        const kernels = ops(await compile(bytes, {}));
        expect(kernels.some((k) => k.startsWith('Int8Conv'))).toBe(true);
        expect(kernels).not.toContain('QLinearConv');
        expect(kernels.includes('Conv')).toBe(how === 'correction');
        await expectWithinSteps(bytes, { x: tensor('uint8', [1, C, 9, 7], ints('uint8', C * 63, 0, 255)) });
      });

  it('a grouped QLinearConv with several channels per group and zero points that do not fold keeps the generic kernel', async () => {
    const bytes = qlinearConv({ dtype: 'uint8', range: [0, 255], zeros: [90, 160] }, 6, 12, 2);
    expect(ops(await compile(bytes, {}))).toContain('QLinearConv');
  });

  it("quantize_dynamic's MatMulInteger / ConvInteger with uint8 weights and zero points run on the int8 gemm", async () => {
    const [K, N, C, M] = [29, 13, 7, 10];
    const bytes = buildModel({
      name: 'dynamic-uint8',
      opset: 13,
      inputs: [
        { name: 'x', dtype: 'float32', shape: [3, K] },
        { name: 'i', dtype: 'float32', shape: [1, C, 6, 5] },
      ],
      outputs: [
        { name: 'y', dtype: 'float32', shape: [3, N] },
        { name: 'c', dtype: 'float32', shape: [1, M, 6, 5] },
      ],
      initializers: [
        { name: 'w', tensor: tensor('uint8', [K, N], ints('uint8', K * N, 0, 255)) },
        { name: 'w_zero', tensor: tensor('uint8', [N], ints('uint8', N, 100, 150)) },
        { name: 'w_scale', tensor: tensor('float32', [N], scales(N)) },
        { name: 'k', tensor: tensor('uint8', [M, C, 3, 3], ints('uint8', M * C * 9, 0, 255)) },
        // onnxruntime's ConvInteger takes one weight zero point only
        { name: 'k_zero', tensor: tensor('uint8', [], [117]) },
        { name: 'k_scale', tensor: tensor('float32', [M, 1, 1], scales(M)) },
      ],
      nodes: [
        { op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['xq', 'x_scale', 'x_zero'] },
        { op: 'MatMulInteger', inputs: ['xq', 'w', 'x_zero', 'w_zero'], outputs: ['yi'] },
        { op: 'Cast', inputs: ['yi'], outputs: ['yf'], attrs: { to: { i: 1 } } },
        { op: 'Mul', inputs: ['x_scale', 'w_scale'], outputs: ['ys'] },
        { op: 'Mul', inputs: ['yf', 'ys'], outputs: ['y'] },
        { op: 'DynamicQuantizeLinear', inputs: ['i'], outputs: ['iq', 'i_scale', 'i_zero'] },
        {
          op: 'ConvInteger',
          inputs: ['iq', 'k', 'i_zero', 'k_zero'],
          outputs: ['ci'],
          attrs: { pads: { ints: [1, 1, 1, 1] } },
        },
        { op: 'Cast', inputs: ['ci'], outputs: ['cf'], attrs: { to: { i: 1 } } },
        { op: 'Mul', inputs: ['i_scale', 'k_scale'], outputs: ['cs'] },
        { op: 'Mul', inputs: ['cf', 'cs'], outputs: ['c'] },
      ],
    });
    const kernels = ops(await compile(bytes, {}));
    expect(kernels.filter((k) => k.startsWith('Int8'))).toEqual(['Int8MatMul', 'Int8Conv']);
    expect(kernels).not.toContain('MatMulInteger');
    expect(kernels).not.toContain('ConvInteger');
    const feeds = { x: randomTensor([3, K], rand), i: randomTensor([1, C, 6, 5], rand) };
    const ours = await runKiln(bytes, feeds);
    const theirs = await runOrt(bytes, feeds);
    for (const name of ['y', 'c']) {
      const err = relativeError(ours[name], theirs[name]);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(TOLERANCE);
    }
  });
});
