/** Shape inference, validation errors and edge cases (zero-size dims, clamped indices) of the shape ops. */
import { describe, expect, it } from 'vitest';
import '../../src/ops/shape/index.js';
import type { AttrValue, Node, TensorType } from '../../src/ir/graph.js';
import type { DType } from '../../src/ir/dtype.js';
import { tensorFromNumbers, tensorToNumbers, type HostTensor } from '../../src/ir/tensor.js';
import { findOp, type OpContext } from '../../src/ops/registry.js';
import { evalOp } from './shape-harness/node-test.js';

function node(op: string, inputs: number, attrs: Record<string, AttrValue> = {}, outputs = 1): Node {
  return {
    op,
    domain: '',
    name: `${op}_test`,
    inputs: Array.from({ length: inputs }, (_, i) => `in${i}`),
    outputs: Array.from({ length: outputs }, (_, i) => `out${i}`),
    attrs,
  };
}

/** Run infer with the given input types; `consts` marks inputs known at compile time. */
function infer(n: Node, opset: number, inputs: (TensorType | HostTensor | undefined)[]): TensorType[] {
  const ctx: OpContext = {
    node: n,
    opset,
    inputs: inputs.map((t) => (t && 'dims' in t ? { dtype: t.dtype, shape: t.dims } : t)),
    consts: inputs.map((t) => (t && 'dims' in t ? t : undefined)),
  };
  return findOp(n.op, '', opset)!.infer(ctx);
}

const T = (dtype: DType, shape: number[]): TensorType => ({ dtype, shape });
const ints = (values: number[], dtype: DType = 'int64') => tensorFromNumbers(dtype, [values.length], values);
const f32 = (dims: number[], values?: number[]) =>
  tensorFromNumbers(
    'float32',
    dims,
    values ?? Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => i),
  );
const run = (n: Node, opset: number, inputs: (HostTensor | undefined)[]) => evalOp(n, opset, inputs);
const values = (t: HostTensor) => tensorToNumbers(t);

describe('Reshape / Flatten / Squeeze / Unsqueeze', () => {
  it('resolves 0 and -1', () => {
    expect(infer(node('Reshape', 2), 14, [T('float32', [2, 3, 4]), ints([0, -1])])[0].shape).toEqual([2, 12]);
  });
  it('keeps 0 as a dim with allowzero', () => {
    expect(
      infer(node('Reshape', 2, { allowzero: 1 }), 14, [T('float32', [0, 3]), ints([3, 0])])[0].shape,
    ).toEqual([3, 0]);
  });
  it('rejects a mismatched element count and two -1', () => {
    expect(() => infer(node('Reshape', 2), 14, [T('float32', [2, 3]), ints([4, 2])])).toThrow(/6 elements/);
    expect(() => infer(node('Reshape', 2), 14, [T('float32', [2, 3]), ints([-1, -1])])).toThrow(
      /more than one -1/,
    );
  });
  it('types a shape fed at run time at its bound, the element count (passes/data-shapes.ts names the dims)', () => {
    expect(infer(node('Reshape', 2), 14, [T('float32', [2, 3]), T('int64', [3])])[0].shape).toEqual([
      6, 6, 6,
    ]);
    expect(() => infer(node('Reshape', 2), 14, [T('float32', [2, 3]), T('int64', [2, 1])])).toThrow(
      'shape (input 1) must be 1-D, found shape [2,1]',
    );
  });
  it('reads the shape attribute before opset 5', () => {
    expect(infer(node('Reshape', 1, { shape: [3, 2] }), 1, [T('float32', [2, 3])])[0].shape).toEqual([3, 2]);
  });
  it('flattens around an axis, including 0 and negative', () => {
    expect(infer(node('Flatten', 1, { axis: 0 }), 13, [T('float32', [2, 3, 4])])[0].shape).toEqual([1, 24]);
    expect(infer(node('Flatten', 1, { axis: -1 }), 13, [T('float32', [2, 3, 4])])[0].shape).toEqual([6, 4]);
  });
  it('squeezes all 1s, or the given axes, and rejects a non-1 axis', () => {
    expect(infer(node('Squeeze', 1), 13, [T('float32', [1, 3, 1])])[0].shape).toEqual([3]);
    expect(infer(node('Squeeze', 2), 13, [T('float32', [1, 3, 1]), ints([-1])])[0].shape).toEqual([1, 3]);
    expect(() => infer(node('Squeeze', 1, { axes: [1] }), 11, [T('float32', [1, 3])])).toThrow(
      /size is 3, not 1/,
    );
  });
  it('unsqueezes with the attribute (<13) and the input (≥13)', () => {
    expect(infer(node('Unsqueeze', 1, { axes: [0, 3] }), 11, [T('float32', [2, 3])])[0].shape).toEqual([
      1, 2, 3, 1,
    ]);
    expect(infer(node('Unsqueeze', 2), 13, [T('float32', [2, 3]), ints([-1, 1])])[0].shape).toEqual([
      2, 1, 3, 1,
    ]);
    expect(() => infer(node('Unsqueeze', 2), 13, [T('float32', [2]), ints([0, 0])])).toThrow(/duplicates/);
  });
  it('refuses string tensors', () => {
    expect(() => infer(node('Identity', 1), 13, [T('string', [2])])).toThrow(/string, which is unsupported/);
  });
});

describe('Dropout', () => {
  it('fills the mask with true', () => {
    const [, mask] = run(node('Dropout', 1, {}, 2), 13, [f32([2, 2])]);
    expect(mask.dtype).toBe('bool');
    expect(values(mask)).toEqual([1, 1, 1, 1]);
  });
  it('refuses training mode', () => {
    const training = tensorFromNumbers('bool', [], [1]);
    expect(() => infer(node('Dropout', 3), 13, [T('float32', [2]), undefined, training])).toThrow(
      /training_mode=true is unsupported/,
    );
  });
});

describe('Shape / Size', () => {
  it('slices the shape with start/end from opset 15', () => {
    const [s] = run(node('Shape', 1, { start: -2 }), 15, [f32([2, 3, 4])]);
    expect(values(s)).toEqual([3, 4]);
    const [all] = run(node('Shape', 1, { start: 1 }), 13, [f32([2, 3, 4])]);
    expect(values(all)).toEqual([2, 3, 4]);
  });
  it('counts elements', () => {
    const [s] = run(node('Size', 1), 13, [f32([2, 0, 4])]);
    expect(s.dims).toEqual([]);
    expect(values(s)).toEqual([0]);
  });
});

describe('Slice', () => {
  it('clamps like NumPy for negative steps', () => {
    const [y] = run(node('Slice', 5), 13, [f32([5]), ints([100]), ints([-100]), ints([0]), ints([-2])]);
    expect(values(y)).toEqual([4, 2, 0]);
  });
  it('gives an empty axis for an empty range', () => {
    const [y] = run(node('Slice', 4), 13, [f32([2, 5]), ints([3]), ints([1]), ints([1])]);
    expect(y.dims).toEqual([2, 0]);
  });
  it('rejects step 0', () => {
    expect(() =>
      infer(node('Slice', 5), 13, [T('float32', [5]), ints([0]), ints([5]), ints([0]), ints([0])]),
    ).toThrow(/step/);
  });
});

describe('Concat / Split', () => {
  it('concatenates with an empty input', () => {
    const [y] = run(node('Concat', 2, { axis: 1 }), 13, [f32([2, 0]), f32([2, 2])]);
    expect(y.dims).toEqual([2, 2]);
    expect(values(y)).toEqual([0, 1, 2, 3]);
  });
  it('rejects mismatched dims', () => {
    expect(() =>
      infer(node('Concat', 2, { axis: 0 }), 13, [T('float32', [2, 3]), T('float32', [2, 4])]),
    ).toThrow(/input 1/);
  });
  it('splits into num_outputs parts with a short last one (opset 18)', () => {
    const outs = run(node('Split', 1, { num_outputs: 3 }, 3), 18, [f32([7])]);
    expect(outs.map((o) => values(o))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });
  it('rejects split sizes that do not sum to the axis', () => {
    expect(() => infer(node('Split', 2, {}, 2), 13, [T('float32', [5]), ints([2, 2])])).toThrow(
      /summing to 5/,
    );
  });
});

describe('Gather family', () => {
  it('wraps negative indices and clamps out-of-range ones inside the buffer', () => {
    const [y] = run(node('Gather', 2), 13, [f32([4]), ints([-1, 7, -9])]);
    expect(values(y)).toEqual([3, 3, 0]);
  });
  it('gives the output shape data[:axis] + indices + data[axis+1:]', () => {
    expect(
      infer(node('Gather', 2, { axis: 1 }), 13, [T('float32', [2, 3, 4]), T('int32', [5, 6])])[0].shape,
    ).toEqual([2, 5, 6, 4]);
  });
  it('refuses float indices and reading from an empty axis', () => {
    expect(() => infer(node('Gather', 2), 13, [T('float32', [3]), T('float32', [2])])).toThrow(
      /int32 or int64, found float32/,
    );
    expect(() => infer(node('Gather', 2), 13, [T('float32', [0]), T('int64', [2])])).toThrow(/size 0/);
  });
  it('GatherND with batch_dims', () => {
    expect(
      infer(node('GatherND', 2, { batch_dims: 1 }), 13, [T('float32', [2, 3, 4]), T('int64', [2, 1])])[0]
        .shape,
    ).toEqual([2, 4]);
  });
  it('clamps GatherElements indices', () => {
    const [y] = run(node('GatherElements', 2, { axis: 1 }), 13, [
      f32([2, 2]),
      tensorFromNumbers('int64', [2, 2], [5, -1, 0, -7]),
    ]);
    expect(values(y)).toEqual([1, 1, 2, 2]);
  });
});

describe('Scatter family', () => {
  it('adds duplicates with reduction=add', () => {
    const [y] = run(node('ScatterElements', 3, { reduction: 'add' }), 16, [
      f32([3], [0, 0, 0]),
      ints([1, 1]),
      f32([2], [2, 3]),
    ]);
    expect(values(y)).toEqual([0, 5, 0]);
  });
  it('refuses unknown reductions', () => {
    expect(() =>
      infer(node('ScatterND', 3, { reduction: 'max' }), 16, [
        T('float32', [3]),
        T('int64', [1, 1]),
        T('float32', [1]),
      ]),
    ).toThrow(/reduction 'max' is unsupported/);
  });
});

describe('Pad', () => {
  it('reflects more than once across the edge like NumPy', () => {
    const [y] = run(node('Pad', 2, { mode: 'reflect' }), 13, [f32([3], [1, 2, 3]), ints([5, 0])]);
    expect(values(y)).toEqual([2, 1, 2, 3, 2, 1, 2, 3]);
  });
  it('wraps (opset 19) and crops with negative pads', () => {
    const [w] = run(node('Pad', 2, { mode: 'wrap' }), 19, [f32([3], [1, 2, 3]), ints([2, 1])]);
    expect(values(w)).toEqual([2, 3, 1, 2, 3, 1]);
    const [c] = run(node('Pad', 2), 13, [f32([4], [1, 2, 3, 4]), ints([-1, 1])]);
    expect(values(c)).toEqual([2, 3, 4, 0]);
  });
  it('reads constant_value and axes (opset 18)', () => {
    const [y] = run(node('Pad', 4), 18, [f32([1, 2], [1, 2]), ints([1, 0]), f32([], [9]), ints([-1])]);
    expect(y.dims).toEqual([1, 3]);
    expect(values(y)).toEqual([9, 1, 2]);
  });
  it('refuses an unknown mode and edge padding of an empty axis', () => {
    expect(() => infer(node('Pad', 2, { mode: 'wrap' }), 13, [T('float32', [3]), ints([1, 1])])).toThrow(
      /mode 'wrap' is unsupported/,
    );
    expect(() => infer(node('Pad', 2, { mode: 'edge' }), 13, [T('float32', [0]), ints([1, 1])])).toThrow(
      /size 0/,
    );
  });
});

describe('Expand / Tile', () => {
  it('broadcasts both ways', () => {
    expect(infer(node('Expand', 2), 13, [T('float32', [3, 1]), ints([2, 1, 4])])[0].shape).toEqual([2, 3, 4]);
    expect(() => infer(node('Expand', 2), 13, [T('float32', [3]), ints([2])])).toThrow(/cannot expand/);
  });
  it('tiles, including zero repeats', () => {
    const [y] = run(node('Tile', 2), 13, [f32([2], [1, 2]), ints([3])]);
    expect(values(y)).toEqual([1, 2, 1, 2, 1, 2]);
    expect(infer(node('Tile', 2), 13, [T('float32', [2]), ints([0])])[0].shape).toEqual([0]);
  });
});

describe('generators', () => {
  it('ConstantOfShape keeps int64 values exact', () => {
    const value = tensorFromNumbers('int64', [1], [0]);
    (value.data as BigInt64Array)[0] = 2n ** 40n + 1n;
    const [y] = run(node('ConstantOfShape', 1, { value }), 13, [ints([2])]);
    expect([...(y.data as BigInt64Array)]).toEqual([2n ** 40n + 1n, 2n ** 40n + 1n]);
  });
  it('Range counts down and refuses delta 0', () => {
    const s = (v: number) => tensorFromNumbers('int32', [], [v]);
    const [y] = run(node('Range', 3), 11, [s(10), s(4), s(-3)]);
    expect(values(y)).toEqual([10, 7]);
    expect(() => infer(node('Range', 3), 11, [s(0), s(4), s(0)])).toThrow(/delta/);
  });
  it('OneHot gives off values for out-of-range indices', () => {
    const [y] = run(node('OneHot', 3), 11, [ints([1, 5]), ints([3]), f32([2], [0, 1])]);
    expect(values(y)).toEqual([0, 1, 0, 0, 0, 0]);
  });
  it('EyeLike shifts the diagonal by k', () => {
    const [y] = run(node('EyeLike', 1, { k: 1 }), 9, [f32([2, 3])]);
    expect(values(y)).toEqual([0, 1, 0, 0, 0, 1]);
  });
});

describe('value-dependent shapes', () => {
  it('NonZero folds a constant input and types a runtime one at its bound', () => {
    const [y] = run(node('NonZero', 1), 13, [f32([2, 2], [0, 3, 4, 0])]);
    expect(y.dims).toEqual([2, 2]);
    expect(values(y)).toEqual([0, 1, 1, 0]);
    // every element nonzero; the count is a data symbol (tests/runtime/data-shapes.test.ts)
    expect(infer(node('NonZero', 1), 13, [T('float32', [2, 3])])[0].shape).toEqual([2, 6]);
  });
  it('Compress selects by a constant condition, or types a run-time one at its length', () => {
    const cond = tensorFromNumbers('bool', [3], [1, 0, 1]);
    const [y] = run(node('Compress', 2, { axis: 1 }), 11, [f32([2, 3]), cond]);
    expect(values(y)).toEqual([0, 2, 3, 5]);
    // the kept count is a data symbol (tests/runtime/data-shapes.test.ts)
    expect(infer(node('Compress', 2), 11, [T('float32', [2, 3]), T('bool', [4])])[0].shape).toEqual([4]);
    expect(() => infer(node('Compress', 2, { axis: 1 }), 11, [T('float32', [2, 3]), T('bool', [4])])).toThrow(
      /condition has 4 entries but axis 1 has size 3/,
    );
  });
});

describe('Resize', () => {
  it('computes sizes from scales and refuses both or neither', () => {
    const empty = tensorFromNumbers('float32', [0], []);
    const x = T('float32', [1, 1, 2, 3]);
    expect(infer(node('Resize', 3), 13, [x, empty, f32([4], [1, 1, 2, 1.5])])[0].shape).toEqual([1, 1, 4, 4]);
    expect(() => infer(node('Resize', 3), 13, [x, empty, empty])).toThrow(/exactly one of scales and sizes/);
  });
  it('refuses linear on integers and antialias', () => {
    const x = T('uint8', [1, 1, 2, 2]);
    const sizes = ints([1, 1, 4, 4]);
    expect(() => infer(node('Resize', 4, { mode: 'linear' }), 13, [x, undefined, undefined, sizes])).toThrow(
      /only nearest/,
    );
    const f = T('float32', [1, 1, 2, 2]);
    expect(() => infer(node('Resize', 4, { antialias: 1 }), 18, [f, undefined, undefined, sizes])).toThrow(
      /antialias/,
    );
  });
  it('Upsample (opset 9) repeats nearest pixels', () => {
    const [y] = run(node('Upsample', 2), 9, [f32([1, 2], [1, 2]), f32([2], [1, 2])]);
    expect(values(y)).toEqual([1, 1, 2, 2]);
  });
});

describe('misc', () => {
  it('Transpose rejects a bad perm', () => {
    expect(() => infer(node('Transpose', 1, { perm: [0, 0] }), 13, [T('float32', [2, 3])])).toThrow(
      /not a permutation/,
    );
  });
  it('ReverseSequence clamps lengths to the time axis', () => {
    const [y] = run(node('ReverseSequence', 2, { batch_axis: 0, time_axis: 1 }), 10, [
      f32([2, 3]),
      ints([9, -1]),
    ]);
    expect(values(y)).toEqual([2, 1, 0, 3, 4, 5]);
  });
  it('DepthToSpace requires channels divisible by blocksize²', () => {
    expect(() => infer(node('DepthToSpace', 1, { blocksize: 2 }), 13, [T('float32', [1, 3, 2, 2])])).toThrow(
      /divisible/,
    );
  });
  it('Trilu handles huge k', () => {
    const k = tensorFromNumbers('int64', [], [1e12]);
    const [y] = run(node('Trilu', 2, { upper: 0 }), 14, [f32([2, 2], [1, 2, 3, 4]), k]);
    expect(values(y)).toEqual([1, 2, 3, 4]);
  });
});
