/**
 * Elementwise epilogues (passes/fuse-epilogue.ts): the chain after a Conv, Gemm or MatMul joins its
 * kernel (one kernel in the manifest's table, labelled with every fused op), and the fused bundle
 * computes what onnxruntime does (the relaxed variant: tests/runtime/relaxed.test.ts; webgpu:
 * tests/webgpu/fuse-epilogue.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { ortMismatches, runOrt } from '../helpers/ort-oracle.js';
import { expectedKernels, EPILOGUE_CASES, gelu, matMulModel } from '../helpers/epilogue-models.js';
import { compareTensors } from '../../scripts/compare.js';
import type { Feed } from '../../src/runtime/types.js';
import type { HostTensor } from '../../src/ir/tensor.js';

describe('elementwise epilogue fusion', () => {
  for (const c of EPILOGUE_CASES)
    it(`${c.name}: one kernel, as onnxruntime computes it`, { timeout: 60_000 }, async () => {
      const files = await compileModel(c.bytes, { relaxed: false });
      expect((files.manifest.kernels ?? []).map((k) => k.op)).toEqual(expectedKernels(c));
      const model = await loadModel(files, { backend: 'wasm' });
      try {
        const feeds = { x: randomTensor(c.x, seededRandom(7), 3) };
        expect(await ortMismatches(c.bytes, model, feeds)).toEqual([]);
      } finally {
        model.dispose();
      }
    });
  it(
    'an int8-weight MatMul (--weights int8) applies a fused GELU in its int8 gemm',
    { timeout: 60_000 },
    async () => {
      const bytes = matMulModel(gelu('c'), 8, [16, 129, 67]);
      const files = await compileModel(bytes, { weights: 'int8', relaxed: false });
      expect((files.manifest.kernels ?? []).map((k) => k.op)).toEqual(['Int8MatMul+Add+Div+Erf+Add+Mul+Mul']);
      const model = await loadModel(files, { backend: 'wasm' });
      try {
        const feeds = { x: randomTensor([1, 16, 129], seededRandom(7)) };
        const got = ((await model.run(feeds as Record<string, Feed>)) as Record<string, HostTensor>).y;
        // int8 weights and activations err by about 2 % of a product here
        expect(compareTensors(got, (await runOrt(bytes, feeds)).y, 0.03, 0.05)).toBeUndefined();
      } finally {
        model.dispose();
      }
    },
  );
});
