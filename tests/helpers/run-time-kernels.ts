/**
 * The kernels a model lowers to with run-time sizes, and its answers at several sizes against
 * onnxruntime-node: the harness of the run-time window and detector kernel tests (#11).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { specialize } from '../../src/passes/specialize.js';
import { prepackWeights } from '../../src/passes/prepack.js';
import { fuseActivations } from '../../src/passes/fuse-activation.js';
import { lowerGraph } from '../../src/compiler/lower.js';
import { evaluateProgram } from '../../src/codegen/wasm/evaluate.js';
import { vectorizableStores } from '../../src/codegen/wasm/vectorize.js';
import { forEachStmt } from '../../src/kernels/walk.js';
import type { Kernel, Stmt } from '../../src/kernels/ir.js';
import { compileModel } from '../../src/compiler/compile.js';
import type { ShapeArg } from '../../src/compiler/options.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { randomTensor, seededRandom } from './onnx-builder.js';
import { ortMismatches } from './ort-oracle.js';
import '../../src/ops/index.js';

/** The first kernel whose name matches `name`, the inputs' dims as `shapes` gives them. */
export function loweredKernel(bytes: Uint8Array, shapes: Record<string, ShapeArg[]>, name: RegExp): Kernel {
  const graph = specialize(prepackWeights(parseOnnxModel(bytes)), { evaluate: evaluateProgram, shapes });
  const { program } = lowerGraph(fuseActivations(graph));
  return program.run.find((k) => name.test(k.name))!;
}

type StoreStmt = Extract<Stmt, { k: 'store' }>;

/** The one store of each loop of the kernel that the wasm generator vectorizes (loops of one store only). */
export function vectorizedSingleStores(kernel: Kernel): StoreStmt[] {
  const found: StoreStmt[] = [];
  for (const s of kernel.body)
    forEachStmt(s, (x: Stmt) => {
      const stores = x.k === 'loop' ? vectorizableStores(x, () => undefined) : undefined;
      if (stores?.length === 1) found.push(stores[0]);
    });
  return found;
}

/**
 * x [1, channels, h, w] compiled once with both spatial dims in `min`..`max` (plain SIMD128), matching
 * onnxruntime-node at each of `sizes`.
 */
export function describeMatchesOrtAtSizes(
  title: string,
  bytes: Uint8Array,
  channels: number,
  max: number,
  sizes: [number, number][],
  min = 8,
): void {
  describe(title, () => {
    let model: Model;
    beforeAll(async () => {
      const side = { min, max };
      model = await loadModel(await compileModel(bytes, { shapes: { x: [1, channels, side, side] } }), {
        backend: 'wasm',
        variant: 'simd128',
      });
    });
    afterAll(() => model.dispose());

    test.each(sizes)('matches onnxruntime at %i×%i', async (h, w) => {
      const x = randomTensor([1, channels, h, w], seededRandom(h * 100 + w));
      expect(await ortMismatches(bytes, model, { x })).toEqual([]);
    });
  });
}
