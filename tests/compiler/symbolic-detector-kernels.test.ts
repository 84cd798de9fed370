/**
 * The detector's kernels over a run-time height and width (#11) lower as the static ones do
 * (symbolic-spatial.ts, symbolic-resize.ts): dense convs of many output channels gather their im2col
 * matrix in bands of output rows, per output row the columns inside the input row copied in a loop the
 * wasm generator vectorizes and zeros only left and right of it (where the gather checked every element);
 * a 2×2 stride-2 ConvTranspose runs the gemm; a nearest ×2 Resize stores each input element to its 2×2
 * block, no f64 source coordinates. Each conv also matches onnxruntime at several sizes (the lower bound,
 * non-square maps, rows shorter and longer than a tile); ConvTranspose and Resize do in
 * tests/runtime/dynamic-detector.test.ts, and the relaxed variants in tests/runtime/relaxed.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ShapeArg } from '../../src/compiler/options.js';
import type { Kernel, Stmt } from '../../src/kernels/ir.js';
import { forEachStmt, ownExprs, visitExpr } from '../../src/kernels/walk.js';
import { C, GEMM_CONV_CASES, windowModel } from '../helpers/window-models.js';
import { convTransposeVariants, resizeVariants } from '../helpers/resize-models.js';
import {
  describeMatchesOrtAtSizes,
  loweredKernel,
  vectorizedSingleStores,
} from '../helpers/run-time-kernels.js';

/** The first kernel whose name matches `name`, the inputs' dims as `shapes` gives them. */
const lowered = (bytes: Uint8Array, shapes: Record<string, ShapeArg[]>, name = /Conv/): Kernel =>
  loweredKernel(bytes, shapes, name);

/** Loops of the kernel that the wasm generator vectorizes and whose one store copies the input `x`. */
function vectorizedGathers(kernel: Kernel): number {
  const x = kernel.signature?.buffers.find((b) => b.role === 'input');
  return vectorizedSingleStores(kernel).filter((store) => {
    let readsX = false;
    visitExpr(store.value, (e) => {
      if (e.k === 'load' && e.buf.id === x?.buf.id) readsX = true;
    });
    return readsX;
  }).length;
}

describe('the im2col tiles of a run-time size are gathered in vectorized runs', () => {
  for (const c of GEMM_CONV_CASES)
    it(`${c.name}: one vectorized copy per tap`, () => {
      const bytes = windowModel(c.node, c.outChannels, c.kernel);
      const dims = { min: 8, max: 64 };
      // a copy per tap of a kernel row, in the full bands of rows and in the last one
      expect(vectorizedGathers(lowered(bytes, { x: [1, C, dims, dims] }))).toBeGreaterThanOrEqual(c.kernel);
      expect(vectorizedGathers(lowered(bytes, { x: [1, C, 9, dims] }))).toBeGreaterThanOrEqual(c.kernel);
    });
});

for (const { name, node, outChannels, kernel } of GEMM_CONV_CASES)
  describeMatchesOrtAtSizes(
    `${name} over a run-time height and width`,
    windowModel(node, outChannels, kernel),
    C,
    80,
    [
      [8, 8],
      [9, 13],
      [32, 32],
      [17, 80],
      [80, 11],
      [67, 71],
    ],
  );

describe('a dense conv of a run-time size runs the gemm on Y in place', () => {
  const [pointwise, dense3x3] = [GEMM_CONV_CASES[3], GEMM_CONV_CASES[0]];
  const side = { min: 1, max: 64 };
  /** the kernel's gemms as (B's buffer, C's buffer, whether C's row stride is read at run time) */
  const gemmsOf = (kernel: Kernel) => {
    const gemms: { b: number; c: number; runTimeRows: boolean; N: number }[] = [];
    for (const s of kernel.body)
      forEachStmt(s, (st: Stmt) => {
        if (st.k === 'gemm')
          gemms.push({ b: st.b.buf.id, c: st.c.buf.id, runTimeRows: typeof st.c.rs !== 'number', N: st.N });
      });
    return gemms;
  };
  const role = (kernel: Kernel, r: string) => kernel.signature!.buffers.find((b) => b.role === r)!.buf.id;

  it('a 1×1 stride-1 conv: B is X as [C, H·W], C is Y as [M, H·W], both at the run-time plane stride', () => {
    expect(pointwise.name).toMatch(/1×1 .*stride 1/);
    const kernel = lowered(windowModel(pointwise.node, pointwise.outChannels, 1), { x: [1, C, side, side] });
    const [x, y] = [role(kernel, 'input'), role(kernel, 'output')];
    const inPlace = gemmsOf(kernel).filter((g) => g.b === x && g.c === y && g.runTimeRows);
    // the whole tiles of 96 positions (12 SIMD128 and 8 relaxed tiles wide), then 8-wide ones, the last of
    // which ends at the last position
    expect(inPlace.map((g) => g.N)).toEqual([96, 8, 8]);
    // fewer than 8 positions: one 8-wide scratch tile (not a whole tile: 1×12 and 3×12 maps computed 64 columns)
    expect(
      gemmsOf(kernel)
        .filter((g) => g.c !== y)
        .map((g) => g.N),
    ).toEqual([8]);
  });

  it('a 3×3 conv: the tiles of its gathered im2col rows are written into Y', () => {
    const kernel = lowered(windowModel(dense3x3.node, dense3x3.outChannels, 3), { x: [1, C, side, side] });
    const y = role(kernel, 'output');
    expect(gemmsOf(kernel).filter((g) => g.c === y && g.runTimeRows).length).toBeGreaterThanOrEqual(2);
  });
});

// fewer output positions than 8 (a scratch tile copied out), 8-wide tiles with an overlapping last one
// (15, 63, 81) or without (80), exactly one tile (96), a tile and an overlapping 8-wide one (100), a tile and
// a whole 8-wide one (104), and all three (121)
describeMatchesOrtAtSizes(
  `${GEMM_CONV_CASES[3].name}, fewer positions than a tile`,
  windowModel(GEMM_CONV_CASES[3].node, GEMM_CONV_CASES[3].outChannels, 1),
  C,
  80,
  [
    [1, 1],
    [2, 3],
    [3, 5],
    [7, 9],
    [8, 12],
    [1, 80],
    [9, 9],
    [10, 10],
    [8, 13],
    [11, 11],
  ],
  1,
);

it('a ConvTranspose whose taps are disjoint (2×2, stride 2) over a run-time size runs the gemm on X in place, no division per position', () => {
  const side = { min: 1, max: 20 };
  const kernel = lowered(convTransposeVariants(), { x: [1, 4, side, side] });
  const x = kernel.signature!.buffers.find((b) => b.role === 'input')!.buf.id;
  const gemmBuffers: number[] = [];
  const divisions = new Set(['div', 'rem', 'div_u', 'rem_u']);
  let divided = 0;
  for (const s of kernel.body)
    forEachStmt(s, (st: Stmt) => {
      if (st.k === 'gemm') gemmBuffers.push(st.b.buf.id);
      // a position's row and column come from the loops over them, not from dividing it by the width
      if (st.k === 'local' || st.k === 'set' || st.k === 'store')
        for (const e of ownExprs(st))
          visitExpr(e, (sub) => void (sub.k === 'bin' && divisions.has(sub.op) && divided++));
    });
  // the whole tiles and the last, overlapping one read X where it lies; fewer positions than a tile, a copy
  expect(gemmBuffers.filter((b) => b === x).length).toBe(2);
  expect(gemmBuffers.length).toBe(3);
  expect(divided).toBe(0);
});

it('a nearest ×2 Resize (asymmetric, floor) over a run-time size stores blocks, no f64 source coordinates', () => {
  const side = { min: 2, max: 24 };
  const like = { min: 1, max: 40 };
  // Resize_5 is the variant nearest_floor_x2
  const kernel = lowered(
    resizeVariants(13),
    { x: [1, 2, side, side], like: [1, 1, like, like] },
    /^Resize_5$/,
  );
  let f64s = 0;
  for (const s of kernel.body)
    forEachStmt(s, (st: Stmt) => {
      if (st.k === 'local' && st.t === 'f64') f64s++;
    });
  expect(kernel.body.length).toBeGreaterThan(0);
  expect(f64s).toBe(0);
});
