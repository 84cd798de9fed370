/**
 * Depthwise convs and pools over a run-time height or width (#11) run as the static ones do
 * (ops/nn/window-runs.ts): each interior output is one store of all its taps, in a loop the wasm
 * generator vectorizes, where the shifted-row and per-output paths read and rewrite the output once per
 * tap or check every tap. Each case also matches onnxruntime at several sizes, tails included (widths
 * that are no multiple of 4, the lower bound, non-square maps); the relaxed variant of the convs runs in
 * tests/runtime/relaxed.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ShapeArg } from '../../src/compiler/options.js';
import type { Kernel } from '../../src/kernels/ir.js';
import { visitExpr } from '../../src/kernels/walk.js';
import { C, WINDOW_CASES, windowModel } from '../helpers/window-models.js';
import {
  describeMatchesOrtAtSizes,
  loweredKernel,
  vectorizedSingleStores,
} from '../helpers/run-time-kernels.js';

/** The kernel lowered for the one op, height and width as `shape` gives them. */
const lowered = (bytes: Uint8Array, shape: ShapeArg[]): Kernel =>
  loweredKernel(bytes, { x: shape }, /Conv|Pool/);

/** Loops of the kernel that the wasm generator vectorizes and whose one store reads `taps` input elements. */
function vectorizedWindows(kernel: Kernel, taps: number): number {
  return vectorizedSingleStores(kernel).filter((store) => {
    let loads = 0;
    visitExpr(store.value, (e) => {
      if (e.k === 'load' && e.buf.id !== store.buf.id) loads++;
    });
    return loads === taps;
  }).length;
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

for (const { name, node, outChannels } of WINDOW_CASES)
  describeMatchesOrtAtSizes(
    `${name} over a run-time height and width`,
    windowModel(node, outChannels),
    C,
    40,
    [
      [8, 8],
      [9, 13],
      [32, 32],
      [17, 40],
      [40, 11],
    ],
  );
