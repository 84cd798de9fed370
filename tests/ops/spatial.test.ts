/** GridSample, RoiAlign and MaxUnpool: shape inference, validation messages, kernels, and onnxruntime. */
import { describe, expect, it } from 'vitest';
import '../../src/ops/spatial/index.js';
import { expectClose, infer, run, t, values } from './elementwise-harness.js';
import { compareWithOrt, type NodeCase, type OperandSpec } from '../helpers/ort-oracle.js';
import type { DType } from '../../src/ir/dtype.js';

const f = (dims: number[], dtype: DType = 'float32', vals?: number[]): OperandSpec => ({
  dtype,
  dims,
  ...(vals ? { values: vals } : {}),
});
/** Grid coordinates spread over [-1.7, 1.7], so every padding mode has points outside the image. */
const spreadGrid = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i * 37) % 101) / 30 - 1.7);

describe('GridSample', () => {
  const x = t('float32', [1, 1, 2, 3], [1, 2, 3, 4, 5, 6]);
  const grid = (pts: number[]) => t('float32', [1, 1, pts.length / 2, 2], pts);

  it('samples pixel centres exactly and blends halfway points (align_corners=1)', () => {
    // (x, y) = (-1, -1) is pixel (0, 0); (1, 1) is pixel (1, 2); (0, 0) the centre of the image.
    const out = run('GridSample', 16, [x, grid([-1, -1, 1, 1, 0, 0, 0, -1])], { align_corners: 1 })[0];
    expect(out.dims).toEqual([1, 1, 1, 4]);
    expectClose(values(out), [1, 6, 3.5, 2]);
  });

  it('reads zeros outside the image, the edge for border, a mirror image for reflection', () => {
    const far = grid([-3, -1]); // x 2 image widths left of the first column, y on row 0
    expect(values(run('GridSample', 16, [x, far], { align_corners: 1, mode: 'nearest' })[0])).toEqual([0]);
    const border = run('GridSample', 16, [x, far], { align_corners: 1, padding_mode: 'border' })[0];
    expect(values(border)).toEqual([1]);
    // x = -3 → column -2 reflects to column 2 (columns span 0..2 with align_corners)
    const mirrored = run('GridSample', 16, [x, far], { align_corners: 1, padding_mode: 'reflection' })[0];
    expect(values(mirrored)).toEqual([3]);
  });

  it('takes opset 20 mode names, N-D inputs and a float64 grid', () => {
    const g16 = grid([-0.3, 0.2, 0.7, -0.9]);
    const g20 = t('float64', [1, 1, 2, 2], [-0.3, 0.2, 0.7, -0.9]);
    const old = values(run('GridSample', 16, [x, g16], { mode: 'bicubic' })[0]);
    expectClose(values(run('GridSample', 20, [x, g20], { mode: 'cubic' })[0]), old);
    // 1-D: the single grid coordinate indexes the only spatial dim
    const line = t('float32', [1, 1, 3], [10, 20, 30]);
    const out = run('GridSample', 20, [line, t('float32', [1, 2, 1], [-1, 0.5])], { align_corners: 1 })[0];
    expect(out.dims).toEqual([1, 1, 2]);
    expectClose(values(out), [10, 25]);
  });

  it('infers [N, C, grid dims] and names bad shapes and attributes', () => {
    const X = { dtype: 'float32' as const, shape: [2, 3, 5, 6] };
    const G = { dtype: 'float32' as const, shape: [2, 4, 7, 2] };
    expect(infer('GridSample', 16, [X, G])[0].shape).toEqual([2, 3, 4, 7]);
    const G3 = { dtype: 'float64' as const, shape: [2, 4, 7, 8, 3] };
    expect(infer('GridSample', 20, [{ dtype: 'float32', shape: [2, 3, 5, 6, 7] }, G3])[0].shape).toEqual([
      2, 3, 4, 7, 8,
    ]);
    expect(() => infer('GridSample', 16, [X, { dtype: 'float32', shape: [2, 4, 7, 3] }])).toThrow(
      /grid\) has shape \[2,4,7,3\]; expected \[2, 2 output dims/,
    );
    expect(() => infer('GridSample', 16, [X, G], { mode: 'linear' })).toThrow(/mode 'linear' is unsupported/);
    expect(() => infer('GridSample', 20, [X, G], { mode: 'bicubic' })).toThrow(/mode 'bicubic'/);
    expect(() => infer('GridSample', 16, [X, G], { padding_mode: 'wrap' })).toThrow(/padding_mode 'wrap'/);
    expect(() => infer('GridSample', 16, [{ dtype: 'string', shape: [1, 1, 2, 2] }, G])).toThrow(
      /dtype string/,
    );
  });
});

describe('RoiAlign', () => {
  const X = { dtype: 'float32' as const, shape: [2, 3, 8, 8] };
  const rois = { dtype: 'float32' as const, shape: [5, 4] };
  const idx = { dtype: 'int64' as const, shape: [5] };

  it('infers [num_rois, C, output_height, output_width] and checks its inputs', () => {
    expect(infer('RoiAlign', 16, [X, rois, idx], { output_height: 2, output_width: 3 })[0].shape).toEqual([
      5, 3, 2, 3,
    ]);
    expect(() => infer('RoiAlign', 16, [X, rois, { dtype: 'int64', shape: [4] }])).toThrow(
      /batch_indices\) has shape \[4\]; expected \[5\]/,
    );
    expect(() => infer('RoiAlign', 16, [X, rois, idx], { mode: 'sum' })).toThrow(/mode 'sum' is unsupported/);
    expect(() => infer('RoiAlign', 16, [X, { dtype: 'float64', shape: [5, 4] }, idx])).toThrow(/rois/);
  });

  it('averages a constant image to itself and leaves an ROI with a bad batch index at 0', () => {
    const img = t('float32', [1, 1, 4, 4], new Array(16).fill(2));
    const boxes = t('float32', [2, 4], [0, 0, 3, 3, 1, 1, 2, 2]);
    const out = run('RoiAlign', 16, [img, boxes, t('int64', [2], [0, 1])], { sampling_ratio: 2 }, [0, 1, 2]);
    expectClose(values(out[0]), [2, 0]);
  });

  it('wants rois at compile time for the adaptive sampling ratio', () => {
    const img = t('float32', [1, 1, 4, 4], new Array(16).fill(1));
    const boxes = t('float32', [1, 4], [0, 0, 3, 3]);
    const batch = t('int64', [1], [0]);
    expect(() => run('RoiAlign', 16, [img, boxes, batch], {}, [1])).toThrow(/rois.*known at compile time/);
    expectClose(values(run('RoiAlign', 16, [img, boxes, batch], {}, [0, 2])[0]), [1]);
  });
});

describe('MaxUnpool', () => {
  const pooled = t('float32', [1, 1, 2, 2], [5, 6, 7, 8]);
  const indices = t('int64', [1, 1, 2, 2], [5, 7, 13, 15]);

  it('scatters values to their indices and keeps coordinates under a larger output_shape', () => {
    const attrs = { kernel_shape: [2, 2], strides: [2, 2] };
    const out = run('MaxUnpool', 11, [pooled, indices], attrs, [0, 1])[0];
    expect(values(out)).toEqual([0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8]);
    const shape = t('int64', [4], [1, 1, 5, 3]);
    const cut = run('MaxUnpool', 11, [pooled, indices, shape], attrs, [0, 1])[0];
    expect(cut.dims).toEqual([1, 1, 5, 3]);
    // columns 3 of the 4×4 pooled input do not fit in 3 columns: 6 and 8 are dropped
    expect(values(cut)).toEqual([0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0]);
  });

  it('ignores indices outside the output instead of writing past it', () => {
    const wild = t('int64', [1, 1, 2, 2], [-1, 99, 0, 2 ** 40]);
    const out = run('MaxUnpool', 11, [pooled, wild], { kernel_shape: [2, 2], strides: [2, 2] }, [0, 1])[0];
    expect(values(out)).toEqual([7, ...new Array(15).fill(0)]);
  });

  it('infers the MaxPool input shape and checks attributes and output_shape', () => {
    const x = { dtype: 'float32' as const, shape: [1, 2, 3, 3] };
    const i = { dtype: 'int64' as const, shape: [1, 2, 3, 3] };
    const attrs = { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] };
    expect(infer('MaxUnpool', 11, [x, i], attrs)[0].shape).toEqual([1, 2, 5, 5]);
    expect(() => infer('MaxUnpool', 11, [x, i], { kernel_shape: [2] })).toThrow(
      /must have 2, 2 and 4 entries/,
    );
    expect(() => infer('MaxUnpool', 11, [x, { dtype: 'int64', shape: [1, 2, 3] }], attrs)).toThrow(
      /input 1 \(I\)/,
    );
    expect(() => infer('MaxUnpool', 11, [x, i, t('int64', [3], [1, 2, 5])], attrs)).toThrow(/must list 4/);
    // read at run time: the rank checked now, each dim a fed size (tests/runtime/data-shapes.test.ts)
    expect(infer('MaxUnpool', 11, [x, i, { dtype: 'int64', shape: [4] }], attrs)[0].shape).toEqual([
      1, 2, 5, 5,
    ]);
    expect(() => infer('MaxUnpool', 11, [x, i, { dtype: 'int64', shape: [3] }], attrs)).toThrow(
      /output_shape \(input 2\) must list 4 dims, like X, found shape \[3\]/,
    );
  });
});

const gridCase = (mode: string, padding: string, align: number, opset = 16): NodeCase => ({
  op: 'GridSample',
  opset,
  inputs: [f([2, 3, 4, 5]), f([2, 3, 6, 2], 'float32', spreadGrid(72))],
  attrs: { mode: { s: mode }, padding_mode: { s: padding }, align_corners: { i: align } },
  outputs: ['float32'],
  atol: 1e-5,
});

const oracleCases: Record<string, NodeCase> = {};
for (const mode of ['bilinear', 'nearest', 'bicubic'])
  for (const padding of ['zeros', 'border', 'reflection'])
    for (const align of [0, 1])
      oracleCases[`GridSample ${mode} ${padding} align_corners=${align}`] = gridCase(mode, padding, align);
Object.assign(oracleCases, {
  'RoiAlign avg, half_pixel, adaptive sampling from constant rois': {
    op: 'RoiAlign',
    opset: 16,
    inputs: [
      f([2, 3, 10, 9]),
      {
        dtype: 'float32',
        dims: [4, 4],
        weight: true,
        values: [0, 0, 8, 9, 2.5, 1.5, 6, 4, -3, -2, 4, 5, 7, 8, 12, 12],
      },
      { dtype: 'int64', dims: [4], values: [0, 1, 1, 0] },
    ],
    attrs: { output_height: { i: 3 }, output_width: { i: 2 }, spatial_scale: { f: 1 } },
    outputs: ['float32'],
    atol: 1e-5,
  },
  'RoiAlign max, output_half_pixel, scaled': {
    op: 'RoiAlign',
    opset: 16,
    inputs: [
      f([1, 2, 6, 7]),
      { dtype: 'float32', dims: [3, 4], values: [0, 0, 12, 10, 3, 2, 9, 7, -2, 4, 20, 16] },
      { dtype: 'int64', dims: [3], values: [0, 0, 0] },
    ],
    attrs: {
      mode: { s: 'max' },
      coordinate_transformation_mode: { s: 'output_half_pixel' },
      output_height: { i: 2 },
      output_width: { i: 3 },
      sampling_ratio: { i: 3 },
      spatial_scale: { f: 0.5 },
    },
    outputs: ['float32'],
    atol: 1e-5,
  },
  'MaxUnpool 1-D': {
    op: 'MaxUnpool',
    opset: 11,
    inputs: [f([2, 1, 3]), { dtype: 'int64', dims: [2, 1, 3], values: [0, 3, 5, 6, 8, 11] }],
    attrs: { kernel_shape: { ints: [2] }, strides: { ints: [2] } },
    outputs: ['float32'],
  },
} satisfies Record<string, NodeCase>);

describe('spatial ops against onnxruntime', () => {
  for (const [name, c] of Object.entries(oracleCases))
    it(name, async () => {
      expect(await compareWithOrt(c)).toBeUndefined();
    });
});
