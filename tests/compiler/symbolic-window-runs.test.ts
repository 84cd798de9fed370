/**
 * Depthwise convs and pools over a run-time height or width (#11) run as the static ones do
 * (ops/nn/window-runs.ts): each interior output is one store of all its taps, in a loop the wasm
 * generator vectorizes, where the shifted-row and per-output paths read and rewrite the output once per
 * tap or check every tap. Each case also matches onnxruntime at several sizes, tails included (widths
 * that are no multiple of 4, the lower bound, non-square maps); the relaxed variant of the convs runs in
 * tests/runtime/relaxed.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { specialize } from '../../src/passes/specialize.js';
import { prepackWeights } from '../../src/passes/prepack.js';
import { fuseActivations } from '../../src/passes/fuse-activation.js';
import { lowerGraph } from '../../src/compiler/lower.js';
import { evaluateProgram } from '../../src/codegen/wasm/evaluate.js';
import { vectorizableStores } from '../../src/codegen/wasm/vectorize.js';
import { forEachStmt, visitExpr } from '../../src/kernels/walk.js';
import type { Kernel, Stmt } from '../../src/kernels/ir.js';
import { compileModel } from '../../src/compiler/compile.js';
import type { ShapeArg } from '../../src/compiler/options.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { C, WINDOW_CASES, windowModel } from '../helpers/window-models.js';
import { ortMismatches } from '../helpers/ort-oracle.js';
import '../../src/ops/index.js';

/** The kernel lowered for the one op, height and width as `shape` gives them. */
function lowered(bytes: Uint8Array, shape: ShapeArg[]): Kernel {
  const graph = specialize(prepackWeights(parseOnnxModel(bytes)), {
    evaluate: evaluateProgram,
    shapes: { x: shape },
  });
  const { program } = lowerGraph(fuseActivations(graph));
  return program.run.find((k) => /Conv|Pool/.test(k.name))!;
}

/** Loops of the kernel that the wasm generator vectorizes and whose one store reads `taps` input elements. */
function vectorizedWindows(kernel: Kernel, taps: number): number {
  let found = 0;
  for (const s of kernel.body)
    forEachStmt(s, (x: Stmt) => {
      const stores = x.k === 'loop' ? vectorizableStores(x, () => undefined) : undefined;
      if (stores?.length !== 1) return;
      let loads = 0;
      visitExpr(stores[0].value, (e) => {
        if (e.k === 'load' && e.buf.id !== stores[0].buf.id) loads++;
      });
      if (loads === taps) found++;
    });
  return found;
}

describe('windows over a run-time size lower as the static ones do', () => {
  for (const c of WINDOW_CASES)
    it(`${c.name}: the interior is one vectorized store of every tap`, () => {
      const bytes = windowModel(c.node, c.outChannels);
      const dims = { min: 8, max: 64 };
      expect(vectorizedWindows(lowered(bytes, [1, C, dims, dims]), c.taps)).toBeGreaterThan(0);
      expect(vectorizedWindows(lowered(bytes, [1, C, 9, dims]), c.taps)).toBeGreaterThan(0);
    });
});

describe.each(WINDOW_CASES)('$name over a run-time height and width', ({ node, outChannels }) => {
  const bytes = windowModel(node, outChannels);
  let model: Model;
  beforeAll(async () => {
    const side = { min: 8, max: 40 };
    model = await loadModel(await compileModel(bytes, { shapes: { x: [1, C, side, side] } }), {
      backend: 'wasm',
      variant: 'simd128',
    });
  });
  afterAll(() => model.dispose());

  test.each([
    [8, 8],
    [9, 13],
    [32, 32],
    [17, 40],
    [40, 11],
  ])('matches onnxruntime at %i×%i', async (h, w) => {
    const x = randomTensor([1, C, h, w], seededRandom(h * 100 + w));
    expect(await ortMismatches(bytes, model, { x })).toEqual([]);
  });
});
