/**
 * Stride-1 convs of 16–48 input and 9–16 output channels over a run-time height and width run as the
 * static ones of those channels do (compiler/symbolic-shifted-conv.ts, ops/nn/conv-shifted.ts): one gemm
 * per tap over shifted views of a zero-padded copy of the input, read in place — no im2col matrix — and
 * match onnxruntime at several sizes (the lower bound, non-square maps, positions not a multiple of the
 * tile); the relaxed variant in tests/runtime/relaxed.test.ts.
 */
import { expect, it } from 'vitest';
import type { Stmt } from '../../src/kernels/ir.js';
import { forEachStmt } from '../../src/kernels/walk.js';
import { SHIFTED_CONV_CASES, windowModel } from '../helpers/window-models.js';
import { describeMatchesOrtAtSizes, loweredKernel } from '../helpers/run-time-kernels.js';

const modelOf = (c: (typeof SHIFTED_CONV_CASES)[number]) =>
  windowModel(c.node, c.outChannels, c.kernel, c.channels);

for (const c of SHIFTED_CONV_CASES)
  describeMatchesOrtAtSizes(c.name, modelOf(c), c.channels, 80, [
    [8, 8],
    [9, 13],
    [17, 80],
    [80, 11],
    [67, 71],
  ]);

it('a 3×3 conv 48 → 12 over a run-time size runs a gemm per tap on the padded input in place, no im2col', () => {
  const c = SHIFTED_CONV_CASES[0];
  const side = { min: 8, max: 80 };
  const kernel = loweredKernel(modelOf(c), { x: [1, c.channels, side, side] }, /Conv/);
  const gemms: { K: number; streamB: boolean }[] = [];
  for (const s of kernel.body)
    forEachStmt(
      s,
      (st: Stmt) => void (st.k === 'gemm' && gemms.push({ K: st.K, streamB: st.streamB === true })),
    );
  // the first tap, the middle ones in a loop, the last: each over the input's channels, B read where it lies
  expect(gemms).toEqual(Array.from({ length: 3 }, () => ({ K: c.channels, streamB: true })));
});
