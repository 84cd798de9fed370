import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import type { CompileOptions } from '../../src/compiler/options.js';
import { MIN_COMPRESSED_BYTES, type Manifest, type WeightEntry } from '../../src/bundle/manifest.js';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { specialize } from '../../src/passes/specialize.js';
import { eliminateDeadCode } from '../../src/passes/dce.js';
import { compressWeights } from '../../src/passes/compress-weights.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { buildModel, randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { runKiln, runOrt } from '../helpers/ort-oracle.js';
import { writeTensorFile } from '../../src/tensor-io/index.js';
import '../../src/ops/index.js';
import { evaluateProgram } from '../../src/codegen/wasm/evaluate.js';

const rand = seededRandom(42);

/** Output channel c (along axis 0) scaled by (c + 1) / n: channels whose ranges differ up to n×. */
function rampChannels(t: HostTensor): HostTensor {
  const data = t.data as Float32Array;
  const n = t.dims[0];
  const inner = data.length / n;
  return { ...t, data: data.map((v, i) => (v * (Math.floor(i / inner) + 1)) / n) };
}

// Conv W: 32·16·3·3 floats = 18 KiB; Gemm W: 10·2048 floats = 80 KiB; both biases are small. Channel
// ranges differ, so a scale applied to the wrong channel shows in the outputs.
const convW = rampChannels(randomTensor([32, 16, 3, 3], rand, 0.4));
const convB = randomTensor([32], rand, 0.1);
const fcW = rampChannels(randomTensor([10, 2048], rand, 0.1));
const fcB = randomTensor([10], rand, 0.1);
const x = randomTensor([4, 16, 8, 8], rand);

/** x [4,16,8,8] → Conv 3×3 (32 channels) → Relu → Flatten → Gemm(transB) → logits [4,10]. */
const cnn = (opset: number) =>
  buildModel({
    name: 'small_cnn',
    opset,
    inputs: [{ name: 'x', dtype: 'float32', shape: [4, 16, 8, 8] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [4, 10] }],
    initializers: [
      { name: 'conv.W', tensor: convW },
      { name: 'conv.b', tensor: convB },
      { name: 'fc.W', tensor: fcW },
      { name: 'fc.b', tensor: fcB },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['x', 'conv.W', 'conv.b'],
        outputs: ['c'],
        attrs: { pads: { ints: [1, 1, 1, 1] } },
      },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'Flatten', inputs: ['r'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'fc.W', 'fc.b'], outputs: ['y'], attrs: { transB: { i: 1 } } },
    ],
  });

const compile = (bytes: Uint8Array, weights: CompileOptions['weights']) => compileModel(bytes, { weights });
const weightNamed = (m: Manifest, name: string) => m.weights.find((w) => w.name === name)!;
const largeWeightBytes = (convW.data.length + fcW.data.length) * 4;

/** Symmetric per-channel scales the test expects: max |w| / 127 over each slice along `axis`. */
function expectedScales(w: HostTensor, axis: number): number[] {
  const data = w.data as Float32Array;
  const inner = w.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const max = new Array<number>(w.dims[axis]).fill(0);
  data.forEach((v, i) => {
    const c = Math.floor(i / inner) % w.dims[axis];
    max[c] = Math.max(max[c], Math.abs(v));
  });
  return max.map((m) => Math.fround(m / 127));
}

function argmaxRows(t: HostTensor): number[] {
  const [rows, cols] = t.dims;
  const d = t.data as Float32Array;
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let c = 1; c < cols; c++) if (d[r * cols + c] > d[r * cols + best]) best = c;
    return best;
  });
}

const maxAbs = (t: HostTensor) => Math.max(...Array.from(t.data as Float32Array, Math.abs));
const maxAbsDiff = (a: HostTensor, b: HostTensor) =>
  Math.max(...Array.from(a.data as Float32Array, (v, i) => Math.abs(v - (b.data as Float32Array)[i])));

describe('--weights fp16', () => {
  it('halves weights.bin, lists float16 weights, and stays within 1e-2 of onnxruntime on fp32', async () => {
    const bytes = cnn(17);
    const [fp32, fp16] = await Promise.all([compile(bytes, 'fp32'), compile(bytes, 'fp16')]);
    const ratio = fp16.weights.byteLength / fp32.weights.byteLength;
    expect(fp32.weights.byteLength).toBeGreaterThanOrEqual(largeWeightBytes);
    expect(ratio).toBeGreaterThan(0.48);
    expect(ratio).toBeLessThan(0.52);

    const conv = weightNamed(fp16.manifest, 'conv.W');
    expect(conv).toMatchObject({ dtype: 'float16', dims: [32, 16, 3, 3], byteLength: 32 * 16 * 9 * 2 });
    expect(conv.quant).toBeUndefined();
    expect(weightNamed(fp16.manifest, 'conv.b')).toMatchObject({ dtype: 'float32', byteLength: 32 * 4 });

    const ours = await runKiln(bytes, { x }, { weights: 'fp16' });
    const theirs = await runOrt(bytes, { x });
    expect(compareTensors(ours.y, theirs.y, 1e-2, 1e-3)).toBeUndefined();
  });

  it('a weight read by an elementwise op is restored too', async () => {
    const table = randomTensor([64, 128], rand);
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: [64, 128] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [64, 128] }],
      initializers: [{ name: 'table', tensor: table }],
      nodes: [
        { op: 'Add', inputs: ['x', 'table'], outputs: ['s'] },
        { op: 'Relu', inputs: ['s'], outputs: ['y'] },
      ],
    });
    const input = randomTensor([64, 128], rand);
    const files = await compile(bytes, 'fp16');
    expect(weightNamed(files.manifest, 'table').dtype).toBe('float16');
    const ours = await runKiln(bytes, { x: input }, { weights: 'fp16' });
    const theirs = await runOrt(bytes, { x: input });
    expect(compareTensors(ours.y, theirs.y, 1e-3, 1e-3)).toBeUndefined();
  });
});

describe('--weights int8', () => {
  // Each weight is off by at most half a step, max|w_channel| / 254 (0.4 % of the channel's range);
  // over the 144- and 2048-term dot products those errors partly cancel, so 2 % of the logits' range
  // bounds the output error with room to spare, while a wrong scale or axis is off by far more.
  const INT8_TOLERANCE = 0.02;

  for (const [opset, restore] of [
    [17, 'DequantizeLinear'],
    [11, 'Cast + Mul'],
  ] as const) {
    it(`quarters weights.bin and keeps argmax and logits close (opset ${opset}: ${restore})`, async () => {
      const bytes = cnn(opset);
      const [fp32, int8] = await Promise.all([compile(bytes, 'fp32'), compile(bytes, 'int8')]);
      const ratio = int8.weights.byteLength / fp32.weights.byteLength;
      expect(ratio).toBeGreaterThan(0.24);
      expect(ratio).toBeLessThan(0.28);

      const ours = await runKiln(bytes, { x }, { weights: 'int8' });
      const theirs = await runOrt(bytes, { x });
      expect(argmaxRows(ours.y)).toEqual(argmaxRows(theirs.y));
      const err = maxAbsDiff(ours.y, theirs.y);
      expect(err).toBeGreaterThan(0); // the weights really were quantized
      expect(err).toBeLessThan(INT8_TOLERANCE * maxAbs(theirs.y));
    });
  }

  it('lists per-output-channel quantization parameters in the weights table, the scales by their place in weights.bin', async () => {
    const { manifest, weights } = await compile(cnn(17), 'int8');
    const scalesOf = (w: WeightEntry) => {
      const at = w.quant!.scalesAt!;
      return Array.from(new Float32Array(weights.slice(at.offset, at.offset + 4 * at.length).buffer));
    };
    const conv = weightNamed(manifest, 'conv.W');
    const convScales = expectedScales(convW, 0);
    expect(conv).toMatchObject<Partial<WeightEntry>>({
      dtype: 'float32',
      dims: [32, 16, 3, 3],
      byteLength: 32 * 16 * 9,
      quant: { dtype: 'int8', zeroPoint: 0, axis: 0, scale: Math.max(...convScales) },
    });
    expect(scalesOf(conv)).toEqual(convScales);
    // The int8 gemm reads Gemm's B as [N, K] (each output channel's weights contiguous): axis 0.
    const fc = manifest.weights.find((w) => w.name.startsWith('fc.W'))!;
    expect(fc.dims).toEqual([10, 2048]);
    expect(fc.quant).toMatchObject({ dtype: 'int8', axis: 0 });
    expect(scalesOf(fc)).toEqual(expectedScales(fcW, 0));
    expect(weightNamed(manifest, 'conv.b').quant).toBeUndefined();
    // manifest.json lists no scale values: a MobileNet's made it several times larger
    for (const w of manifest.weights) expect(Object.keys(w.quant ?? {})).not.toContain('scales');
  });

  it('a weight whose readers want different axes gets one scale for the whole tensor', () => {
    const w = randomTensor([64, 64], rand);
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 64] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2, 64] }],
      initializers: [{ name: 'w', tensor: w }],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'w'], outputs: ['a'] },
        { op: 'Gemm', inputs: ['a', 'w'], outputs: ['y'], attrs: { transB: { i: 1 } } },
      ],
    });
    const graph = eliminateDeadCode(specialize(parseOnnxModel(bytes), { evaluate: evaluateProgram }));
    const { quant, graph: out } = compressWeights(graph, 'int8', MIN_COMPRESSED_BYTES);
    expect(quant.get('w')).toEqual({ dtype: 'int8', zeroPoint: 0, scale: Math.fround(maxAbs(w) / 127) });
    expect(out.initializers.get('w')!.dtype).toBe('int8');
    expect(out.nodes.map((n) => n.op)).toEqual(['DequantizeLinear', 'MatMul', 'Gemm']);
  });
});

describe('weights below the threshold', () => {
  it('a model whose weights are all small compiles to the same bundle with any --weights', async () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 32] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2, 16] }],
      initializers: [
        { name: 'w', tensor: randomTensor([32, 16], rand) }, // 2 KiB
        { name: 'b', tensor: randomTensor([16], rand) },
      ],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'w'], outputs: ['m'] },
        { op: 'Add', inputs: ['m', 'b'], outputs: ['y'] },
      ],
    });
    const [fp32, fp16, int8] = await Promise.all([
      compile(bytes, 'fp32'),
      compile(bytes, 'fp16'),
      compile(bytes, 'int8'),
    ]);
    for (const other of [fp16, int8]) {
      expect(other.weights).toEqual(fp32.weights);
      expect(other.wasm).toEqual(fp32.wasm);
      expect(other.manifest).toEqual(fp32.manifest);
    }
  });
});

describe('kiln compile --weights', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-weights-'));
    await writeFile(join(dir, 'cnn.onnx'), cnn(17));
    writeTensorFile(join(dir, 'x.npy'), x);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const kiln = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile('node', ['bin/kiln.js', ...args], (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
      ),
    );

  it('int8 end to end: a quarter-size weights.bin, quant parameters in manifest.json, and it runs', async () => {
    const out = join(dir, 'int8');
    const c = await kiln('compile', join(dir, 'cnn.onnx'), '-o', out, '--weights', 'int8');
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(
      /^int8 weights: \d\.\d\d % relative RMS error against float32 \(cosine 0\.99\d+, worst output "y", 3 sample inputs\); limit 10\.00 %$/m,
    );
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(weightNamed(manifest, 'conv.W').quant).toMatchObject({ dtype: 'int8', axis: 0, zeroPoint: 0 });
    expect((await readFile(join(out, 'weights.bin'))).byteLength).toBeLessThan(largeWeightBytes * 0.28);

    const r = await kiln('run', out, '--input', `x=${join(dir, 'x.npy')}`, '--json');
    expect(r.stderr).toBe('');
    const y = JSON.parse(r.stdout).outputs[0] as { dims: number[]; data: number[] };
    const theirs = await runOrt(cnn(17), { x });
    expect(y.dims).toEqual([4, 10]);
    expect(argmaxRows({ dtype: 'float32', dims: y.dims, data: Float32Array.from(y.data) })).toEqual(
      argmaxRows(theirs.y),
    );
  });

  it('int8 past the error limit: refused with the measured error, written with --force', async () => {
    // a per-tensor scale set by one outlier (the table is read by Add, not by a kernel with channels)
    // rounds every other entry to 0; the output leaves the outlier's row out
    const table = randomTensor([64, 128], rand);
    (table.data as Float32Array)[0] = 1000;
    const bytes = buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [64, 128] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [63, 128] }],
      initializers: [
        { name: 'table', tensor: table },
        { name: 'starts', tensor: { dtype: 'int64', dims: [1], data: BigInt64Array.from([1n]) } },
        { name: 'ends', tensor: { dtype: 'int64', dims: [1], data: BigInt64Array.from([64n]) } },
      ],
      nodes: [
        { op: 'Add', inputs: ['x', 'table'], outputs: ['s'] },
        { op: 'Slice', inputs: ['s', 'starts', 'ends'], outputs: ['y'] },
      ],
    });
    await writeFile(join(dir, 'outlier.onnx'), bytes);
    const out = join(dir, 'outlier');
    const refused = await kiln('compile', join(dir, 'outlier.onnx'), '-o', out, '--weights', 'int8');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /^kiln: int8 weights: \d\d\.\d\d % relative RMS error against float32 .*; limit 10\.00 %: refused \(--force writes the bundle anyway\)\n$/,
    );
    await expect(readFile(join(out, 'manifest.json'))).rejects.toThrow(/ENOENT/);
    const forced = await kiln(
      'compile',
      join(dir, 'outlier.onnx'),
      '-o',
      out,
      '--weights',
      'int8',
      '--force',
    );
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/limit 10\.00 %: written anyway \(--force\)/);
    expect(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')).weights[0].quant.dtype).toBe(
      'int8',
    );
  });
});
