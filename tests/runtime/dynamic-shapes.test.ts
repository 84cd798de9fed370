/**
 * Dims known only at run time (#11): a model compiled once with bounds runs at every shape within
 * them, matching onnxruntime-node, and refuses shapes outside them with one clear error.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { WasmInstance } from '../../src/runtime/wasm-backend.js';
import { checkManifestShape, verifyBundle } from '../../src/bundle/verify.js';
import { checkLayout } from '../../src/bundle/layout.js';
import type { Manifest } from '../../src/bundle/manifest.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import type { Feed } from '../../src/runtime/types.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import {
  attentionProductsFeeds,
  attentionProductsModel,
  encoderFeeds,
  encoderModel,
  mlpModel,
} from '../helpers/models.js';
import { bertEncoder } from '../../scripts/bench-models.js';
import { buildModel, randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { ortMismatches } from '../helpers/ort-oracle.js';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { specialize } from '../../src/passes/specialize.js';
import { evaluateProgram } from '../../src/codegen/wasm/evaluate.js';
import { lowerGraph } from '../../src/compiler/lower.js';
import type { Stmt } from '../../src/kernels/ir.js';

async function expectMatchesOrt(bytes: Uint8Array, model: Model, feeds: Record<string, HostTensor>) {
  expect(await ortMismatches(bytes, model, feeds)).toEqual([]);
}

describe('an MLP compiled with --dim batch=1..40', () => {
  const bytes = mlpModel();
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, { dims: { batch: { min: 1, max: 40 } }, relaxed: false });
    model = await loadModel(files, { backend: 'wasm' });
  });
  afterAll(() => model.dispose());

  test('lists the bounded dim in its signature', () => {
    expect(model.inputs[0].shape).toEqual([{ name: 'batch', min: 1, max: 40 }, 64]);
    expect(model.outputs[0].shape).toEqual([{ name: 'batch', min: 1, max: 40 }, 10]);
  });

  // 1, 3 and 17 rows run the 1-, 4- and 16-row blocks' remainders; 40 = 2·16 + 2·4
  test.each([1, 3, 17, 40])('matches onnxruntime at batch %i, with outputs of the real shape', async (b) => {
    await expectMatchesOrt(bytes, model, { x: randomTensor([b, 64], seededRandom(b)) });
  });

  test('refuses a batch outside the bounds, naming input, axis and range, and stays usable', async () => {
    const x = randomTensor([41, 64], seededRandom(1));
    await expect(model.run({ x: x as Feed })).rejects.toThrow(
      'input "x" axis 0 is 41, outside the bounds of "batch" (1..40)',
    );
    await expect(model.run({ x: randomTensor([0, 64], seededRandom(1)) as Feed })).rejects.toThrow(
      'outside the bounds of "batch" (1..40)',
    );
    await expectMatchesOrt(bytes, model, { x: randomTensor([2, 64], seededRandom(2)) });
  });

  test('refuses a static dim that differs', async () => {
    await expect(model.run({ x: randomTensor([2, 63], seededRandom(1)) as Feed })).rejects.toThrow(
      'has dims [2,63] but the model expects [batch(1..40),64]',
    );
  });
});

describe.each([
  ['with constant Reshape targets', false],
  ["with the exporter's Shape → Gather → Unsqueeze → Concat → Reshape", true],
])('a BERT-style encoder (%s) compiled once with --dim batch=1..4 --dim seq=1..128', (_, exporterShapes) => {
  const bytes = encoderModel({ exporterShapes });
  let model: Model;
  beforeAll(async () => {
    const dims = { batch: { min: 1, max: 4 }, seq: { min: 1, max: 128 } };
    model = await loadModel(await compileModel(bytes, { dims, relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model.dispose());

  test.each([
    [1, 1],
    [1, 7],
    [2, 32],
    [4, 128],
  ])('matches onnxruntime at batch %i, seq %i', async (batch, seq) => {
    await expectMatchesOrt(bytes, model, encoderFeeds(batch, seq));
  });

  test('lists its output as [batch, seq, 32]', () => {
    expect(model.outputs[0].shape).toEqual([
      { name: 'batch', min: 1, max: 4 },
      { name: 'seq', min: 1, max: 128 },
      32,
    ]);
  });
});

describe("the benchmarks' exporter-shaped bert-enc (2 layers, hidden 64) with --dim batch=1..4 --dim sequence=1..256", () => {
  // position and token-type ids are sliced from [1, 512] buffers by the sequence length (a shape value)
  const { bytes } = bertEncoder({ layers: 2, hidden: 64, heads: 4, vocab: 50 });
  const dims = { batch: { min: 1, max: 4 }, sequence: { min: 1, max: 256 } };
  let model: Model;
  let kernels: Manifest['kernels'];
  beforeAll(async () => {
    const files = await compileModel(bytes, { dims, relaxed: false });
    kernels = files.manifest.kernels;
    model = await loadModel(files, { backend: 'wasm' });
  });
  afterAll(() => model.dispose());

  test.each([
    [1, 1],
    [1, 7],
    [2, 64],
    [1, 91], // 64 + 16 + 2·4 + 3 rows: every block of the dense layers' gemms
    [4, 256],
  ])('matches onnxruntime at batch %i, sequence %i', async (batch, seq) => {
    await expectMatchesOrt(bytes, model, encoderFeeds(batch, seq));
  });

  test('runs the kernels of a bundle with the shapes fixed after the embeddings (bias and GELU in the MatMuls)', async () => {
    const fixed = await compileModel(bytes, {
      shapes: { input_ids: [2, 64], attention_mask: [2, 64] },
      relaxed: false,
    });
    /** the ops of the kernels from the embeddings' sum on, one per node (not per block of rows) */
    const ops = (table: Manifest['kernels']) => {
      const list = (table ?? []).filter((k) => !/_rows\d+$/.test(k.name)).map((k) => k.op);
      return list.slice(list.indexOf('Add+Add'));
    };
    expect(ops(kernels)).toContain('MatMul+Add+Div+Erf+Add+Mul+Mul');
    expect(ops(kernels)).toEqual(ops(fixed.manifest.kernels));
  });
});

/**
 * Scaled attention with crnn-rec's head size (15, not a multiple of the gemm's 8-wide panels): softmax-free
 * scores·V after a Mul by the scale that fuses into the Q·Kᵀ MatMul.
 */
const scaledAttentionModel = (): Uint8Array =>
  buildModel({
    inputs: [
      { name: 'q', dtype: 'float32', shape: [1, 3, 'seq', 15] },
      { name: 'kt', dtype: 'float32', shape: [1, 3, 15, 'seq'] },
      { name: 'v', dtype: 'float32', shape: [1, 3, 'seq', 15] },
    ],
    outputs: [{ name: 'context', dtype: 'float32', shape: [1, 3, 'seq', 15] }],
    initializers: [{ name: 'scale', tensor: { dtype: 'float32', dims: [], data: new Float32Array([0.25]) } }],
    nodes: [
      { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['raw'] },
      { op: 'Mul', inputs: ['raw', 'scale'], outputs: ['scores'] },
      { op: 'MatMul', inputs: ['scores', 'v'], outputs: ['context'] },
    ],
  });

describe('scaled attention with head size 15 and --dim seq=1..130', () => {
  const bytes = scaledAttentionModel();
  const dims = { seq: { min: 1, max: 130 } };
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await compileModel(bytes, { dims, relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model.dispose());

  // 1: one partial block of 8; 8, 40: whole blocks of 8 (and 32); 13, 130: partial last blocks (130: the bound)
  test.each([1, 8, 13, 40, 130])('matches onnxruntime at seq %i', async (seq) => {
    const r = seededRandom(seq);
    await expectMatchesOrt(bytes, model, {
      q: randomTensor([1, 3, seq, 15], r),
      kt: randomTensor([1, 3, 15, seq], r),
      v: randomTensor([1, 3, seq, 15], r),
    });
  });

  test('the scale applies as the scores are copied out; a run-time N or K past its blocks of 32 runs in blocks of 8', () => {
    const graph = specialize(parseOnnxModel(bytes), { evaluate: evaluateProgram, dims });
    const gemmsOf = (stmts: Stmt[]): { N: number; K: number; act: boolean }[] =>
      stmts.flatMap((s) =>
        s.k === 'gemm'
          ? [{ N: s.N, K: s.K, act: s.act !== undefined }]
          : s.k === 'loop'
            ? gemmsOf(s.body)
            : s.k === 'if'
              ? gemmsOf([...s.then, ...(s.else ?? [])])
              : [],
      );
    const run = lowerGraph(graph).program.run;
    // no pass of the scale over the scores at their bounds (130 × 130 per head)
    expect(run.map((k) => k.name)).not.toContain('activation');
    // Q·Kᵀ: N = seq in blocks of 32, then of 8; scores·V: head size 15 as two whole panels, K = seq likewise
    expect(run.flatMap((k) => gemmsOf(k.body))).toEqual([
      { N: 32, K: 15, act: false },
      { N: 8, K: 15, act: false },
      { N: 16, K: 32, act: false },
      { N: 16, K: 8, act: false },
    ]);
  });
});

describe('scaled attention with a bound of one block: --dim seq=1..8', () => {
  const bytes = scaledAttentionModel();
  const dims = { seq: { min: 1, max: 8 } };
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await compileModel(bytes, { dims, relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model.dispose());

  // the block is the bound (8) and the step: below it the one block is partly past seq, not skipped
  test.each([1, 5, 8])('matches onnxruntime at seq %i', async (seq) => {
    const r = seededRandom(seq);
    await expectMatchesOrt(bytes, model, {
      q: randomTensor([1, 3, seq, 15], r),
      kt: randomTensor([1, 3, 15, seq], r),
      v: randomTensor([1, 3, seq, 15], r),
    });
  });
});

describe('attention products with --dim batch=1..2 --dim seq=1..255', () => {
  const bytes = attentionProductsModel();
  const dims = { batch: { min: 1, max: 2 }, seq: { min: 1, max: 255 } };
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await compileModel(bytes, { dims, relaxed: false }), { backend: 'wasm' });
  });
  afterAll(() => model.dispose());

  // 1, 3, 7: one partial block of 16 rows / 32 columns; 64: whole blocks; 255: the bound, every tail
  test.each([
    [1, 1],
    [2, 3],
    [1, 7],
    [2, 64],
    [2, 255],
  ])('match onnxruntime at batch %i, seq %i', async (batch, seq) => {
    await expectMatchesOrt(bytes, model, attentionProductsFeeds(batch, seq));
  });

  test('run on the gemm, not on expression-stride loops', () => {
    const graph = specialize(parseOnnxModel(bytes), { evaluate: evaluateProgram, dims });
    const gemms = (stmts: Stmt[]): number =>
      stmts.reduce(
        (n, s) =>
          n +
          (s.k === 'gemm'
            ? 1
            : s.k === 'loop'
              ? gemms(s.body)
              : s.k === 'if'
                ? gemms([...s.then, ...(s.else ?? [])])
                : 0),
        0,
      );
    // one over the blocks of 32 of the run-time N (K), one over the rest in blocks of 8
    expect(lowerGraph(graph).program.run.map((k) => gemms(k.body))).toEqual([2, 2]);
  });
});

/** y = a + b over [batch, 4], a second input sharing the symbol. */
const sumModel = () =>
  buildModel({
    inputs: [
      { name: 'a', dtype: 'float32', shape: ['batch', 4] },
      { name: 'b', dtype: 'float32', shape: ['batch', 4] },
    ],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 4] }],
    nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['y'] }],
  });

describe('bounds from the command line', () => {
  test('inputs that share a symbol must agree on it', async () => {
    const model = await loadModel(await compileModel(sumModel(), { dims: { batch: { min: 1, max: 8 } } }));
    const t = (rows: number) => randomTensor([rows, 4], seededRandom(rows)) as Feed;
    await expect(model.run({ a: t(2), b: t(3) })).rejects.toThrow(
      'input "b" axis 0 is 3 but input "a" axis 0 is 2; both are "batch"',
    );
    const out = await model.run({ a: t(5), b: t(5) });
    expect(out.y.dims).toEqual([5, 4]);
    model.dispose();
  });

  test("the wasm instance refuses a run without the symbols' values rather than run with zeros", async () => {
    const files = await compileModel(sumModel(), { dims: { batch: { min: 1, max: 8 } }, relaxed: false });
    const instance = await WasmInstance.create(files);
    expect(() => instance.run([new Uint8Array(16), new Uint8Array(16)])).toThrow(
      'no value for shape symbol "batch"',
    );
    expect(instance.run([new Uint8Array(16), new Uint8Array(16)], { batch: 1 }).y.dims).toEqual([1, 4]);
  });

  test('the manifest check refuses symbolic dims the runtime could not fill', async () => {
    const { manifest } = await compileModel(sumModel(), {
      dims: { batch: { min: 1, max: 8 } },
      relaxed: false,
    });
    expect(checkManifestShape(structuredClone(manifest)).dims).toEqual(manifest.dims);
    const edited = (edit: (m: Manifest) => void) => {
      const m = structuredClone(manifest);
      edit(m);
      return () => checkManifestShape(m);
    };
    expect(edited((m) => delete m.dims)).toThrow(
      'shapes name symbols (batch) but the manifest has no dims block',
    );
    expect(edited((m) => (m.dims!.symbols[0].name = 'seq'))).toThrow(
      'shape symbol "batch" is not in the dims block',
    );
    expect(edited((m) => (m.inputs[0].shape[0] = { name: 'batch', min: 5, max: 2 }))).toThrow(
      'inputs[0] ("a") shape must be a list of non-negative integers and { name, min, max } bounds',
    );
  });

  test('the layout check refuses a dims block placed over another region', async () => {
    const files = await compileModel(sumModel(), { dims: { batch: { min: 1, max: 8 } }, relaxed: false });
    await expect(verifyBundle(files)).resolves.toBeUndefined();
    const { manifest } = files;
    manifest.dims!.offset = manifest.memory.ioOffset;
    expect(() => checkLayout(manifest, files.weights.byteLength)).toThrow(
      /bundle memory plan: .*the dims block/,
    );
  });

  test('--shape bounds a dim by position; a number there stays static', async () => {
    const files = await compileModel(sumModel(), { shapes: { a: [{ min: 2, max: 6 }, 4] } });
    expect(files.manifest.inputs.map((i) => i.shape)).toEqual([
      [{ name: 'batch', min: 2, max: 6 }, 4],
      [{ name: 'batch', min: 2, max: 6 }, 4],
    ]);
    const fixed = await compileModel(sumModel(), { shapes: { a: [3, 4], b: [3, 4] } });
    expect(fixed.manifest.inputs.map((i) => i.shape)).toEqual([
      [3, 4],
      [3, 4],
    ]);
    expect(fixed.manifest.dims).toBeUndefined();
  });

  test('a symbolic dim with no bounds is fixed to 1, and the warning says so and how to bound it', async () => {
    const warnings: string[] = [];
    const files = await compileModel(sumModel(), { onWarning: (m) => warnings.push(m) });
    expect(files.manifest.inputs[0].shape).toEqual([1, 4]);
    expect(warnings[0]).toBe(
      'input "a" has symbolic dimension "batch" with no bounds; fixed to 1 (bound it with --dim batch=MIN..MAX, or fix it with --shape a=...)',
    );
  });

  test('--dim naming no dim of the model is refused', async () => {
    await expect(compileModel(sumModel(), { dims: { seq: { min: 1, max: 8 } } })).rejects.toThrow(
      '--dim names "seq", which is no symbolic dimension of the model\'s inputs (inputs: a, b)',
    );
  });

  test('an op without symbolic support names the op, node and dim, and suggests --shape', async () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 4] }],
      nodes: [{ op: 'CumSum', inputs: ['x', 'axis'], outputs: ['y'], name: 'running' }],
      initializers: [{ name: 'axis', tensor: { dtype: 'int64', dims: [], data: new BigInt64Array([0n]) } }],
    });
    await expect(compileModel(bytes, { dims: { batch: { min: 1, max: 8 } } })).rejects.toThrow(
      'CumSum node "running" (opset 17): dim batch of input 0 ("x") is known only at run time: Kiln runs this op only at fixed shapes; fix the dims it comes from with --shape',
    );
  });

  test('a reduction over a symbolic axis is refused, not run at the bound', async () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4] }],
      nodes: [{ op: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['y'], name: 'total' }],
      initializers: [{ name: 'axes', tensor: { dtype: 'int64', dims: [1], data: new BigInt64Array([0n]) } }],
    });
    await expect(compileModel(bytes, { dims: { batch: { min: 1, max: 8 } } })).rejects.toThrow(
      'ReduceSum node "total" (opset 17): dim batch of input 0 ("x") is known only at run time: ReduceSum runs over dim batch',
    );
  });

  test('a value computed from a symbolic shape feeds only a Reshape target; elsewhere it is refused', async () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 4] }],
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['dims'] },
        { op: 'ConstantOfShape', inputs: ['dims'], outputs: ['y'], name: 'zeros' },
      ],
    });
    await expect(compileModel(bytes, { dims: { batch: { min: 1, max: 8 } } })).rejects.toThrow(
      'ConstantOfShape node "zeros" (opset 17): input 0 ("dims") is computed from dims known only at run time ([batch, 4]); Kiln reads such values only as a Reshape\'s target shape, a Slice\'s bounds or a Resize\'s sizes: fix the dims with --shape',
    );
  });

  test('an output dim that is an expression (Flatten, axis -1: batch·2) is sized at run time', async () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2, 3] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      nodes: [
        { op: 'Flatten', inputs: ['x'], outputs: ['flat'], attrs: { axis: { i: -1 } } },
        { op: 'Relu', inputs: ['flat'], outputs: ['y'] },
      ],
    });
    const model = await loadModel(await compileModel(bytes, { dims: { batch: { min: 1, max: 8 } } }));
    expect(model.outputs[0].shape[0]).toMatchObject({ name: 'batch*2', min: 2, max: 16 });
    await expectMatchesOrt(bytes, model, { x: randomTensor([3, 2, 3], seededRandom(3)) });
    model.dispose();
  });

  test('a Gemm bias with fixed rows is refused, not applied row by row at the bound', async () => {
    const r = seededRandom(5);
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 3] }],
      initializers: [
        { name: 'w', tensor: randomTensor([4, 3], r) },
        { name: 'c', tensor: randomTensor([8, 3], r) },
      ],
      nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'c'], outputs: ['y'], name: 'fc' }],
    });
    await expect(compileModel(bytes, { dims: { batch: { min: 1, max: 8 } } })).rejects.toThrow(
      'Gemm node "fc" (opset 17): dim batch of input 0 ("x") is known only at run time: Gemm bias C with 8 fixed rows',
    );
  });
});
