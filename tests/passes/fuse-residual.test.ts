/**
 * Residual epilogues (passes/fuse-residual.ts): the Add of a skip tensor after a Conv, Gemm or MatMul
 * (and the Relu after it) joins the GEMM's kernel, and the fused bundle computes what onnxruntime does,
 * with the rows known only at run time too (the relaxed variant: tests/runtime/relaxed.test.ts; webgpu,
 * which lowers the unfused graph: tests/webgpu/fuse-epilogue.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { buildModel, randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { tensorFromNumbers } from '../../src/ir/tensor.js';
import { ortMismatches } from '../helpers/ort-oracle.js';
import { bertResidualModel, convResidualModel, RESIDUAL_CASES } from '../helpers/residual-models.js';

const feedsOf = (x: number[], s: number[], seed = 7) => ({
  x: randomTensor(x, seededRandom(seed), 3),
  s: randomTensor(s, seededRandom(seed + 1), 3),
});

describe('residual epilogue fusion', () => {
  for (const c of RESIDUAL_CASES)
    it(
      `${c.name}: the Add in the gemm's kernel, as onnxruntime computes it`,
      { timeout: 60_000 },
      async () => {
        const files = await compileModel(c.bytes, { relaxed: false });
        expect((files.manifest.kernels ?? []).map((k) => k.op)).toEqual(c.ops);
        const model = await loadModel(files, { backend: 'wasm' });
        try {
          expect(await ortMismatches(c.bytes, model, feedsOf(c.x, c.s))).toEqual([]);
        } finally {
          model.dispose();
        }
      },
    );

  it('act(conv) + skip (a Relu before the Add) is not fused, and computes what onnxruntime does', async () => {
    const bytes = convResidualModel(6, 7, 3, 9, { reluFirst: true });
    const files = await compileModel(bytes, { relaxed: false });
    expect((files.manifest.kernels ?? []).map((k) => k.op)).toEqual(['Conv+Relu', 'Add']);
    const model = await loadModel(files, { backend: 'wasm' });
    try {
      expect(await ortMismatches(bytes, model, feedsOf([1, 6, 7, 9], [1, 7, 7, 9]))).toEqual([]);
    } finally {
      model.dispose();
    }
  });

  it('a BERT block with seq known only at run time (1..40) adds the residual in its row blocks', async () => {
    const bytes = bertResidualModel('seq', 19, 13, 11);
    const files = await compileModel(bytes, { relaxed: false, dims: { seq: { min: 1, max: 40 } } });
    expect((files.manifest.kernels ?? []).map((k) => k.op)).toContain('MatMul+Add+Add');
    const model = await loadModel(files, { backend: 'wasm' });
    try {
      for (const seq of [1, 3, 7, 40])
        expect(
          await ortMismatches(bytes, model, feedsOf([1, seq, 19], [1, seq, 13], seq)),
          `seq ${seq}`,
        ).toEqual([]);
    } finally {
      model.dispose();
    }
  });

  it("another op's fourth input (Resize's sizes) is no residual", async () => {
    const bytes = buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 3, 5] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2, 6, 10] }],
      initializers: [{ name: 'sizes', tensor: tensorFromNumbers('int64', [4], [1, 2, 6, 10]) }],
      nodes: [
        { op: 'Resize', inputs: ['x', '', '', 'sizes'], outputs: ['y'], attrs: { mode: { s: 'nearest' } } },
      ],
    });
    const model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
    try {
      const feeds = { x: randomTensor([1, 2, 3, 5], seededRandom(3)) };
      expect(await ortMismatches(bytes, model, feeds)).toEqual([]);
    } finally {
      model.dispose();
    }
  });
  it('a fused conv that runs later (where its Add ran) keeps the weights where the webgpu lowering puts them', async () => {
    // y = Relu(ConvA(x) + MaxPool(ConvB(x))): ConvA, fused with the Add, now runs
    // after ConvB; `--targets wasm,webgpu` lowers both graphs over one weights.bin
    const r = seededRandom(11);
    const bytes = buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 5, 6] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4, 5, 6] }],
      initializers: [
        { name: 'wa', tensor: randomTensor([4, 3, 1, 1], r) },
        { name: 'wb', tensor: randomTensor([4, 3, 1, 1], r) },
      ],
      nodes: [
        { op: 'Conv', inputs: ['x', 'wa'], outputs: ['a'] },
        { op: 'Conv', inputs: ['x', 'wb'], outputs: ['b'] },
        {
          op: 'MaxPool',
          inputs: ['b'],
          outputs: ['sb'],
          attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } },
        },
        { op: 'Add', inputs: ['a', 'sb'], outputs: ['s'] },
        { op: 'Relu', inputs: ['s'], outputs: ['y'] },
      ],
    });
    const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'], relaxed: false });
    expect(files.manifest.kernels?.map((k) => k.op)).toContain('Conv+Add+Relu');
    const model = await loadModel(files, { backend: 'wasm' });
    try {
      expect(await ortMismatches(bytes, model, { x: randomTensor([1, 3, 5, 6], r) })).toEqual([]);
    } finally {
      model.dispose();
    }
  });
});
