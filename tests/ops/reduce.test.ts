import { describe, expect, it } from 'vitest';
import { expectClose, infer, run, t, values } from './elementwise-harness.js';

const x234 = t(
  'float32',
  [2, 3, 4],
  Array.from({ length: 24 }, (_, i) => i),
);

describe('Reduce*', () => {
  it('reads axes from the attribute before the input form', () => {
    const out = run('ReduceSum', 11, [x234], { axes: [1], keepdims: 0 })[0];
    expect(out.dims).toEqual([2, 4]);
    expect(values(out)).toEqual([12, 15, 18, 21, 48, 51, 54, 57]);
    expect(values(run('ReduceSum', 11, [x234])[0])).toEqual([276]);
    expect(run('ReduceSum', 11, [x234])[0].dims).toEqual([1, 1, 1]);
  });

  it('reads axes from input 1 from opset 13 (ReduceSum) and 18 (the rest)', () => {
    const axes = t('int64', [2], [-1, 0]);
    const sum = run('ReduceSum', 13, [x234, axes])[0];
    expect(sum.dims).toEqual([1, 3, 1]);
    expect(values(sum)).toEqual([60, 92, 124]);
    expect(values(run('ReduceMax', 18, [x234, axes], { keepdims: 0 })[0])).toEqual([15, 19, 23]);
    expect(values(run('ReduceMin', 18, [x234, axes], { keepdims: 0 })[0])).toEqual([0, 4, 8]);
    expect(values(run('ReduceMean', 18, [x234, axes], { keepdims: 0 })[0])).toEqual([7.5, 11.5, 15.5]);
  });

  it('treats empty axes as all axes, or as identity with noop_with_empty_axes', () => {
    const empty = t('int64', [0], []);
    expect(values(run('ReduceSum', 13, [x234, empty])[0])).toEqual([276]);
    expect(values(run('ReduceSum', 13, [x234])[0])).toEqual([276]);
    const same = run('ReduceSum', 13, [x234, empty], { noop_with_empty_axes: 1 })[0];
    expect(same.dims).toEqual([2, 3, 4]);
    expect(values(same)).toEqual(values(x234));
  });

  it('computes every reduction kind', () => {
    const x = t('float32', [2, 2], [1, -2, 3, 4]);
    const r = (op: string) => values(run(op, 11, [x], { axes: [1], keepdims: 0 })[0]);
    expect(r('ReduceProd')).toEqual([-2, 12]);
    expect(r('ReduceL1')).toEqual([3, 7]);
    expect(r('ReduceSumSquare')).toEqual([5, 25]);
    expectClose(r('ReduceL2'), [Math.sqrt(5), 5]);
    expectClose(r('ReduceLogSum'), [Math.log(-1), Math.log(7)]);
    expectClose(r('ReduceLogSumExp'), [
      Math.log(Math.exp(1) + Math.exp(-2)),
      Math.log(Math.exp(3) + Math.exp(4)),
    ]);
  });

  it('keeps LogSumExp finite for large values', () => {
    const out = run('ReduceLogSumExp', 13, [t('float32', [2], [1000, 1000])], { keepdims: 0 })[0];
    expectClose(values(out), [1000 + Math.log(2)]);
  });

  it('handles integer dtypes: truncating means, unsigned order, real-valued results', () => {
    const r = (op: string, x: ReturnType<typeof t>) => values(run(op, 13, [x], { keepdims: 0 })[0]);
    expect(r('ReduceMean', t('int32', [3], [1, 2, 4]))).toEqual([2]);
    expect(r('ReduceMax', t('uint32', [3], [1, 4294967295, 7]))).toEqual([4294967295]);
    expect(r('ReduceMin', t('int8', [3], [5, -128, 7]))).toEqual([-128]);
    expect(r('ReduceSum', t('int64', [2], [2 ** 40, 1]))).toEqual([2 ** 40 + 1]);
    expect(r('ReduceL2', t('int32', [2], [3, 4]))).toEqual([5]);
  });

  it('reduces over an empty axis to the identity of the reduction', () => {
    const x = t('float32', [2, 0], []);
    const r = (op: string) => values(run(op, 11, [x], { axes: [1], keepdims: 0 })[0]);
    expect(r('ReduceSum')).toEqual([0, 0]);
    expect(r('ReduceProd')).toEqual([1, 1]);
    expect(r('ReduceMax')).toEqual([-Infinity, -Infinity]);
    expect(r('ReduceMin')).toEqual([Infinity, Infinity]);
  });

  it('rejects bad axes', () => {
    expect(() => infer('ReduceSum', 11, [x234], { axes: [1, -2] })).toThrow(
      /axes \[1,-2\] name an axis twice/,
    );
    expect(() => infer('ReduceMax', 11, [x234], { axes: [3] })).toThrow(/axis 3 out of range for rank 3/);
  });

  it('types run-time axes at their bounds: the input dims (keepdims), else the dims that can land there', () => {
    const axes = { dtype: 'int64' as const, shape: [1] };
    expect(infer('ReduceSum', 13, [x234, axes])[0].shape).toEqual([2, 3, 4]);
    expect(infer('ReduceSum', 13, [x234, axes], { keepdims: 0 })[0].shape).toEqual([3, 4]);
    expect(() => infer('ReduceSum', 13, [x234, { dtype: 'int64', shape: [4] }], { keepdims: 0 })).toThrow(
      /axes \(input 1\) must be 1-D and at most the rank of input 0 \(3\), found shape \[4\]/,
    );
  });
});

describe('ArgMax / ArgMin', () => {
  const x = t('float32', [2, 3], [2, 7, 7, 5, 1, 5]);
  it('returns the first extreme, or the last with select_last_index', () => {
    const out = run('ArgMax', 13, [x], { axis: 1 })[0];
    expect(out.dtype).toBe('int64');
    expect(out.dims).toEqual([2, 1]);
    expect(values(out)).toEqual([1, 0]);
    expect(values(run('ArgMax', 13, [x], { axis: -1, select_last_index: 1, keepdims: 0 })[0])).toEqual([
      2, 2,
    ]);
    expect(values(run('ArgMin', 13, [x], { axis: 1, keepdims: 0 })[0])).toEqual([0, 1]);
    expect(values(run('ArgMin', 13, [x], { axis: 0, keepdims: 0 })[0])).toEqual([0, 1, 1]);
  });

  it('orders unsigned values as unsigned', () => {
    expect(values(run('ArgMax', 13, [t('uint32', [3], [1, 4294967295, 7])], { keepdims: 0 })[0])).toEqual([
      1,
    ]);
  });

  it('rejects empty axes and 0-d inputs', () => {
    expect(() => infer('ArgMax', 13, [t('float32', [2, 0], [])], { axis: 1 })).toThrow(/axis 1 has size 0/);
    expect(() => infer('ArgMin', 13, [t('float32', [], [1])])).toThrow(/rank >= 1/);
  });
});

describe('Softmax family', () => {
  const softmax = (row: number[]) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b);
    return e.map((v) => v / s);
  };
  const x = t('float32', [2, 2, 2], [0, 1, 2, 3, 4, 5, 1000, 1001]);

  it('normalizes over one axis from opset 13', () => {
    const out = values(run('Softmax', 13, [x], { axis: 1 })[0]);
    const [a, b] = [softmax([0, 2]), softmax([1, 3])];
    const [c, d] = [softmax([4, 1000]), softmax([5, 1001])];
    expectClose(out, [a[0], b[0], a[1], b[1], c[0], d[0], c[1], d[1]]);
  });

  it('coerces to 2-D at axis before opset 13', () => {
    const out = values(run('Softmax', 11, [x], { axis: 1 })[0]);
    expectClose(out, [...softmax([0, 1, 2, 3]), ...softmax([4, 5, 1000, 1001])]);
  });

  it('computes LogSoftmax stably', () => {
    const out = values(run('LogSoftmax', 13, [t('float32', [2], [1000, 1001])])[0]);
    expectClose(out, softmax([1000, 1001]).map(Math.log));
  });

  it('marks the first maximum with Hardmax', () => {
    expect(values(run('Hardmax', 13, [t('float32', [2, 3], [1, 3, 3, -1, -5, -2])])[0])).toEqual([
      0, 1, 0, 1, 0, 0,
    ]);
    expect(() => infer('Softmax', 13, [x], { axis: 3 })).toThrow(/axis 3 out of range for rank 3/);
    expect(() => infer('Softmax', 13, [t('int32', [1], [1])])).toThrow(/dtype int32/);
  });
});

describe('CumSum', () => {
  const x = t('int32', [2, 3], [1, 2, 3, 4, 5, 6]);
  const cumsum = (axis: number, attrs = {}, dynamic: number[] = []) =>
    values(run('CumSum', 14, [x, t('int64', [], [axis])], attrs, dynamic)[0]);

  it('sums along an axis, exclusive and reversed', () => {
    expect(cumsum(1)).toEqual([1, 3, 6, 4, 9, 15]);
    expect(cumsum(0)).toEqual([1, 2, 3, 5, 7, 9]);
    expect(cumsum(-1, { exclusive: 1 })).toEqual([0, 1, 3, 0, 4, 9]);
    expect(cumsum(1, { reverse: 1 })).toEqual([6, 5, 3, 15, 11, 6]);
    expect(cumsum(1, { reverse: 1, exclusive: 1 })).toEqual([5, 3, 0, 11, 6, 0]);
  });

  it('takes the axis at run time when it is not constant', () => {
    expect(cumsum(0, {}, [1])).toEqual([1, 2, 3, 5, 7, 9]);
    expect(cumsum(-1, {}, [1])).toEqual([1, 3, 6, 4, 9, 15]);
  });

  it('rejects a non-scalar axis', () => {
    expect(() => infer('CumSum', 14, [x, t('int64', [2], [0, 1])])).toThrow(
      /axis \(input 1\) must be a scalar/,
    );
  });
});
