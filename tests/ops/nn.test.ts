/** Shape inference and validation of the neural-network ops (no compilation). */
import { describe, expect, it } from 'vitest';
import '../../src/ops/nn/index.js';
import { findOp, type OpContext } from '../../src/ops/registry.js';
import type { AttrValue, TensorType } from '../../src/ir/graph.js';
import type { DType } from '../../src/ir/dtype.js';

const t = (shape: number[], dtype: DType = 'float32'): TensorType => ({ dtype, shape });

function infer(
  op: string,
  inputs: (TensorType | undefined)[],
  attrs: Record<string, AttrValue> = {},
  opts: { opset?: number; outputs?: number } = {},
): TensorType[] {
  const opset = opts.opset ?? 17;
  const def = findOp(op, '', opset);
  if (!def) throw new Error(`${op} is not registered at opset ${opset}`);
  const ctx: OpContext = {
    node: {
      op,
      domain: '',
      name: `${op}_0`,
      inputs: inputs.map((x, i) => (x ? `in${i}` : '')),
      outputs: Array.from({ length: opts.outputs ?? 1 }, (_, j) => `out${j}`),
      attrs,
    },
    opset,
    inputs,
    consts: inputs.map(() => undefined),
  };
  return def.infer(ctx);
}

const shapeOf = (...args: Parameters<typeof infer>) => infer(...args).map((o) => o.shape);

describe('MatMul', () => {
  it('follows NumPy rules for 1-D operands and batch broadcasting', () => {
    expect(shapeOf('MatMul', [t([2, 3, 4]), t([4, 5])])).toEqual([[2, 3, 5]]);
    expect(shapeOf('MatMul', [t([4]), t([4])])).toEqual([[]]);
    expect(shapeOf('MatMul', [t([3]), t([2, 3, 4])])).toEqual([[2, 4]]);
    expect(shapeOf('MatMul', [t([2, 1, 3, 4]), t([4, 5])])).toEqual([[2, 1, 3, 5]]);
    expect(shapeOf('MatMul', [t([7, 1, 3, 4]), t([6, 4, 2])])).toEqual([[7, 6, 3, 2]]);
  });
  it('names both shapes when inner dims differ', () => {
    expect(() => infer('MatMul', [t([2, 3]), t([4, 5])])).toThrow(
      /MatMul node "MatMul_0".*K=3.*\[4,5\] has K=4/,
    );
  });
  it('rejects incompatible batch dims, mixed dtypes and 0-d operands', () => {
    expect(() => infer('MatMul', [t([2, 3, 4]), t([3, 4, 5])])).toThrow(/cannot be broadcast/);
    expect(() => infer('MatMul', [t([3, 4]), t([4, 5], 'float64')])).toThrow(/dtype float64/);
    expect(() => infer('MatMul', [t([]), t([4, 5])])).toThrow(/rank ≥ 1/);
    expect(() => infer('MatMul', [t([2, 2], 'bool'), t([2, 2], 'bool')])).toThrow(
      /dtype bool; expected one of/,
    );
  });
  it('takes a fused bias [N] (passes/fuse-bias.ts) and names a wrong one', () => {
    expect(shapeOf('MatMul', [t([2, 3, 4]), t([4, 5]), t([5])])).toEqual([[2, 3, 5]]);
    expect(() => infer('MatMul', [t([3, 4]), t([4, 5]), t([1, 5])])).toThrow(
      /bias has shape \[1,5\]; expected \[5\]/,
    );
    expect(() => infer('MatMul', [t([4]), t([4, 5]), t([5])])).toThrow(
      /fused bias needs float32 operands of rank ≥ 2/,
    );
  });
});

describe('Gemm', () => {
  it('applies transA/transB', () => {
    expect(shapeOf('Gemm', [t([4, 3]), t([5, 4]), t([5])], { transA: 1, transB: 1 })).toEqual([[3, 5]]);
  });
  it('checks that C broadcasts to M×N and is given before opset 11', () => {
    expect(() => infer('Gemm', [t([3, 4]), t([4, 5]), t([3])])).toThrow(
      /C has shape \[3\]; it does not broadcast to \[3,5\]/,
    );
    expect(shapeOf('Gemm', [t([3, 4]), t([4, 5]), t([3, 1])])).toEqual([[3, 5]]);
    expect(() => infer('Gemm', [t([3, 4]), t([4, 5]), undefined], {}, { opset: 9 })).toThrow(
      /C\) is required/,
    );
    expect(shapeOf('Gemm', [t([3, 4]), t([4, 5]), undefined], {}, { opset: 13 })).toEqual([[3, 5]]);
  });
});

describe('Conv', () => {
  it('computes output sizes from pads, strides and dilations', () => {
    const x = t([1, 4, 10, 9]);
    const w = t([8, 2, 3, 3]);
    const attrs = { group: 2, pads: [1, 0, 1, 2], strides: [2, 1], dilations: [1, 2] };
    expect(shapeOf('Conv', [x, w, t([8])], attrs)).toEqual([[1, 8, 5, 7]]);
  });
  it('keeps ceil(in/stride) under SAME_UPPER and SAME_LOWER', () => {
    for (const auto_pad of ['SAME_UPPER', 'SAME_LOWER'])
      expect(shapeOf('Conv', [t([1, 1, 7, 8]), t([1, 1, 3, 3])], { auto_pad, strides: [2, 3] })).toEqual([
        [1, 1, 4, 3],
      ]);
  });
  it('names what is inconsistent', () => {
    expect(() => infer('Conv', [t([1, 4, 5, 5]), t([8, 3, 3, 3])])).toThrow(
      /W has 3 channels per group; expected 4\/1 = 4/,
    );
    expect(() => infer('Conv', [t([1, 4, 5, 5]), t([8, 4, 3, 3])], { kernel_shape: [2, 2] })).toThrow(
      /kernel_shape \[2,2\] does not match W spatial dims \[3,3\]/,
    );
    expect(() => infer('Conv', [t([1, 4, 5, 5]), t([8, 4, 3, 3]), t([4])])).toThrow(
      /B has shape \[4\]; expected \[8\]/,
    );
    expect(() => infer('Conv', [t([1, 4, 2, 2]), t([8, 4, 3, 3])])).toThrow(
      /window extent 3 exceeds padded input size 2/,
    );
    expect(() => infer('Conv', [t([1, 4, 5, 5], 'int32'), t([8, 4, 3, 3], 'int32')])).toThrow(/dtype int32/);
  });
});

describe('ConvTranspose', () => {
  it('computes output size from strides, output_padding and pads', () => {
    const attrs = { strides: [3, 2], output_padding: [1, 1], pads: [0, 1, 0, 1] };
    expect(shapeOf('ConvTranspose', [t([1, 1, 3, 3]), t([1, 2, 3, 3])], attrs)).toEqual([[1, 2, 10, 6]]);
  });
  it('takes output_shape, spatial or full', () => {
    const x = t([1, 2, 3, 3]);
    const w = t([2, 3, 3, 3]);
    expect(shapeOf('ConvTranspose', [x, w], { strides: [3, 2], output_shape: [10, 8] })).toEqual([
      [1, 3, 10, 8],
    ]);
    expect(shapeOf('ConvTranspose', [x, w], { strides: [3, 2], output_shape: [1, 3, 10, 8] })).toEqual([
      [1, 3, 10, 8],
    ]);
  });
  it('multiplies W dim 1 by group for the output channels', () => {
    expect(shapeOf('ConvTranspose', [t([1, 4, 2, 2]), t([4, 3, 1, 1])], { group: 2 })).toEqual([
      [1, 6, 2, 2],
    ]);
  });
});

describe('pools', () => {
  it('MaxPool ceil_mode drops a window starting in the end padding', () => {
    const attrs = { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 };
    expect(shapeOf('MaxPool', [t([1, 1, 4, 4])], attrs)).toEqual([[1, 1, 2, 2]]);
    expect(
      shapeOf('MaxPool', [t([1, 1, 5, 5])], {
        kernel_shape: [2, 2],
        strides: [2, 2],
        pads: [0, 0, 1, 1],
        ceil_mode: 1,
      }),
    ).toEqual([[1, 1, 3, 3]]);
  });
  it('MaxPool Indices is int64; int8 input needs opset 12', () => {
    const out = infer(
      'MaxPool',
      [t([1, 2, 4, 4], 'int8')],
      { kernel_shape: [2, 2] },
      { opset: 12, outputs: 2 },
    );
    expect(out).toEqual([t([1, 2, 3, 3], 'int8'), t([1, 2, 3, 3], 'int64')]);
    expect(() =>
      infer('MaxPool', [t([1, 2, 4, 4], 'int8')], { kernel_shape: [2, 2] }, { opset: 11 }),
    ).toThrow(/dtype int8/);
  });
  it('checks kernel_shape and storage_order', () => {
    expect(() => infer('AveragePool', [t([1, 1, 4, 4])], { kernel_shape: [2] })).toThrow(
      /has 1 dims.*2 spatial dims/,
    );
    expect(() => infer('MaxPool', [t([1, 1, 4, 4])], { kernel_shape: [2, 2], storage_order: 2 })).toThrow(
      /storage_order 2/,
    );
    expect(() => infer('LpPool', [t([1, 1, 4, 4])], { kernel_shape: [2, 2], p: 0 })).toThrow(
      /p 0 must be positive/,
    );
  });
  it('global pools keep N, C and set every spatial dim to 1', () => {
    expect(shapeOf('GlobalAveragePool', [t([2, 3, 5, 7, 4])])).toEqual([[2, 3, 1, 1, 1]]);
    expect(shapeOf('GlobalLpPool', [t([2, 3, 5])])).toEqual([[2, 3, 1]]);
  });
});

describe('normalizations', () => {
  const bn = (attrs: Record<string, AttrValue> = {}, outputs = 1) =>
    infer('BatchNormalization', [t([2, 3, 4, 4]), t([3]), t([3]), t([3]), t([3])], attrs, {
      opset: 15,
      outputs,
    });
  it('BatchNormalization is inference-only', () => {
    expect(bn()).toEqual([t([2, 3, 4, 4])]);
    expect(() => bn({ training_mode: 1 }, 3)).toThrow(/training_mode=1 is unsupported/);
    expect(() => infer('BatchNormalization', [t([2, 3, 4]), t([4]), t([3]), t([3]), t([3])])).toThrow(
      /scale has shape \[4\]; expected \[3\]/,
    );
  });
  it('LayerNormalization stats keep the leading dims, float32', () => {
    const out = infer('LayerNormalization', [t([2, 3, 4]), t([3, 4]), t([4])], { axis: 1 }, { outputs: 3 });
    expect(out).toEqual([t([2, 3, 4]), t([2, 1, 1]), t([2, 1, 1])]);
    expect(() => infer('LayerNormalization', [t([2, 3, 4]), t([3])], { axis: -1 })).toThrow(
      /Scale has shape \[3\]; it must broadcast to the normalized shape \[4\]/,
    );
  });
  it('GroupNormalization scale is per group at opset 18 and per channel at opset 21', () => {
    const x = t([2, 6, 3]);
    expect(shapeOf('GroupNormalization', [x, t([3]), t([3])], { num_groups: 3 }, { opset: 18 })).toEqual([
      [2, 6, 3],
    ]);
    expect(() => infer('GroupNormalization', [x, t([3]), t([3])], { num_groups: 3 }, { opset: 21 })).toThrow(
      /scale has shape \[3\]; expected \[6\]/,
    );
    expect(() => infer('GroupNormalization', [x, t([4]), t([4])], { num_groups: 4 }, { opset: 18 })).toThrow(
      /num_groups 4 must be positive and divide the 6 channels/,
    );
  });
  it('MeanVarianceNormalization rejects repeated axes; LRN needs size ≥ 1', () => {
    expect(() => infer('MeanVarianceNormalization', [t([2, 3, 4])], { axes: [1, -2] })).toThrow(
      /repeat an axis/,
    );
    expect(() => infer('LRN', [t([1, 3, 2, 2])], { size: 0 })).toThrow(/size 0 must be ≥ 1/);
  });
});
