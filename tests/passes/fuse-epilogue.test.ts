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
import { ortMismatches } from '../helpers/ort-oracle.js';
import { EPILOGUE_CASES } from '../helpers/epilogue-models.js';

describe('elementwise epilogue fusion', () => {
  for (const c of EPILOGUE_CASES)
    it(`${c.name}: one kernel, as onnxruntime computes it`, { timeout: 60_000 }, async () => {
      const files = await compileModel(c.bytes, { relaxed: false });
      expect((files.manifest.kernels ?? []).map((k) => k.op)).toEqual([c.op]);
      const model = await loadModel(files, { backend: 'wasm' });
      try {
        const feeds = { x: randomTensor(c.x, seededRandom(7), 3) };
        expect(await ortMismatches(c.bytes, model, feeds)).toEqual([]);
      } finally {
        model.dispose();
      }
    });
});
