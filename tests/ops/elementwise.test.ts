import { describe, expect, it } from 'vitest';
import { expectClose, infer, run, t, values } from './elementwise-harness.js';

const one = (op: string, opset: number, inputs: Parameters<typeof run>[2], attrs = {}) =>
  values(run(op, opset, inputs, attrs)[0]);

describe('binary arithmetic', () => {
  it('broadcasts Add across ranks and wraps narrow integers', () => {
    expect(
      one('Add', 14, [t('float32', [2, 3], [1, 2, 3, 4, 5, 6]), t('float32', [3], [10, 20, 30])]),
    ).toEqual([11, 22, 33, 14, 25, 36]);
    expect(one('Add', 14, [t('int8', [2], [127, -128]), t('int8', [], [1])])).toEqual([-128, -127]);
    expect(one('Sub', 14, [t('uint8', [2], [0, 5]), t('uint8', [2], [1, 3])])).toEqual([255, 2]);
  });

  it('broadcasts both ways: [3,1] * [1,2] is [3,2]', () => {
    const out = run('Mul', 14, [t('int64', [3, 1], [1, 2, 3]), t('int64', [1, 2], [10, 100])])[0];
    expect(out.dims).toEqual([3, 2]);
    expect(values(out)).toEqual([10, 100, 20, 200, 30, 300]);
  });

  it('divides integers truncating toward zero, unsigned where the dtype is, and 0 for x/0', () => {
    expect(one('Div', 14, [t('int32', [4], [-7, 7, 9, 5]), t('int32', [4], [2, -2, 3, 0])])).toEqual([
      -3, -3, 3, 0,
    ]);
    expect(one('Div', 14, [t('uint32', [1], [4294967295]), t('uint32', [1], [2])])).toEqual([2147483647]);
  });

  it('Mod follows the divisor sign by default and the dividend sign with fmod=1', () => {
    const a = t('int32', [6], [-4, 7, 5, 4, -7, 8]);
    const b = t('int32', [6], [2, -3, 8, -2, 3, 5]);
    expect(one('Mod', 13, [a, b])).toEqual([0, -2, 5, 0, 2, 3]);
    expect(one('Mod', 13, [a, b], { fmod: 1 })).toEqual([0, 1, 5, 0, -1, 3]);
    expectClose(
      one('Mod', 13, [t('float32', [2], [-4.5, 7.5]), t('float32', [2], [2, -2])], { fmod: 1 }),
      [-0.5, 1.5],
    );
    expect(one('Mod', 13, [t('uint32', [1], [4294967295]), t('uint32', [1], [10])])).toEqual([5]);
  });

  it('Pow keeps the base dtype, with integer results truncated', () => {
    expect(one('Pow', 15, [t('int32', [3], [2, 3, -2]), t('float32', [3], [3, 0.5, 2])])).toEqual([8, 1, 4]);
    expectClose(one('Pow', 15, [t('float32', [2], [4, 2]), t('int64', [2], [2, -1])]), [16, 0.5]);
  });

  it('rejects mismatched dtypes, unbroadcastable shapes and float Mod without fmod', () => {
    expect(() => infer('Add', 14, [t('int32', [1], [1]), t('float32', [1], [1])])).toThrow(
      /inputs must share one dtype; input 0 is int32, input 1 is float32/,
    );
    expect(() =>
      infer('Add', 14, [
        { dtype: 'float32', shape: [2, 3] },
        { dtype: 'float32', shape: [4] },
      ]),
    ).toThrow(/Add node "Add_test" \(opset 14\): shapes \[2,3\] and \[4\] cannot be broadcast/);
    expect(() => infer('Mod', 13, [t('float32', [1], [1]), t('float32', [1], [1])])).toThrow(/fmod=1/);
    expect(() =>
      infer('Add', 14, [
        { dtype: 'string', shape: [1] },
        { dtype: 'string', shape: [1] },
      ]),
    ).toThrow(/input 0 \("in0"\): string tensors are not supported/);
  });
});

describe('variadic Sum Mean Min Max', () => {
  it('folds any number of broadcast inputs', () => {
    const xs = [t('float32', [2], [1, 5]), t('float32', [], [3]), t('float32', [1, 2], [2, 4])];
    expect(run('Sum', 13, xs)[0].dims).toEqual([1, 2]);
    expect(one('Sum', 13, xs)).toEqual([6, 12]);
    expect(one('Mean', 13, xs)).toEqual([2, 4]);
    expect(one('Min', 13, xs)).toEqual([1, 3]);
    expect(one('Max', 13, xs)).toEqual([3, 5]);
    expect(one('Max', 13, [xs[0]])).toEqual([1, 5]);
  });

  it('orders uint32 and uint64 as unsigned', () => {
    expect(one('Max', 13, [t('uint32', [2], [4294967295, 1]), t('uint32', [2], [1, 2147483648])])).toEqual([
      4294967295, 2147483648,
    ]);
    expect(one('Min', 13, [t('uint64', [1], [2 ** 63]), t('uint64', [1], [7])])).toEqual([7]);
  });

  it('propagates NaN in float Min/Max', () => {
    expect(one('Max', 13, [t('float32', [1], [NaN]), t('float32', [1], [1])])).toEqual([NaN]);
  });
});

describe('bitwise, logical and comparison ops', () => {
  it('shifts unsigned integers, wrapping narrow results', () => {
    expect(
      one('BitShift', 11, [t('uint8', [3], [1, 200, 16]), t('uint8', [3], [7, 1, 2])], { direction: 'LEFT' }),
    ).toEqual([128, 144, 64]);
    expect(
      one('BitShift', 11, [t('uint32', [1], [4294967295]), t('uint32', [1], [28])], { direction: 'RIGHT' }),
    ).toEqual([15]);
    expect(() =>
      infer('BitShift', 11, [t('uint8', [1], [1]), t('uint8', [1], [1])], { direction: 'UP' }),
    ).toThrow(/direction must be "LEFT" or "RIGHT", found "UP"/);
  });

  it('computes BitwiseAnd/Or/Xor/Not', () => {
    const a = t('int32', [2], [12, -1]);
    const b = t('int32', [2], [10, 5]);
    expect(one('BitwiseAnd', 18, [a, b])).toEqual([8, 5]);
    expect(one('BitwiseOr', 18, [a, b])).toEqual([14, -1]);
    expect(one('BitwiseXor', 18, [a, b])).toEqual([6, -6]);
    expect(one('BitwiseNot', 18, [t('uint8', [2], [0, 0x0f])])).toEqual([255, 0xf0]);
  });

  it('combines bools and negates them', () => {
    const a = t('bool', [4], [0, 0, 1, 1]);
    const b = t('bool', [4], [0, 1, 0, 1]);
    expect(one('And', 7, [a, b])).toEqual([0, 0, 0, 1]);
    expect(one('Or', 7, [a, b])).toEqual([0, 1, 1, 1]);
    expect(one('Xor', 7, [a, b])).toEqual([0, 1, 1, 0]);
    expect(one('Not', 1, [a])).toEqual([1, 1, 0, 0]);
  });

  it('compares to bool, unsigned for uint32', () => {
    const a = t('uint32', [3], [2147483648, 1, 5]);
    const b = t('uint32', [3], [1, 1, 6]);
    expect(run('Greater', 13, [a, b])[0].dtype).toBe('bool');
    expect(one('Greater', 13, [a, b])).toEqual([1, 0, 0]);
    expect(one('GreaterOrEqual', 16, [a, b])).toEqual([1, 1, 0]);
    expect(one('Less', 13, [a, b])).toEqual([0, 0, 1]);
    expect(one('LessOrEqual', 16, [a, b])).toEqual([0, 1, 1]);
    expect(one('Equal', 13, [a, b])).toEqual([0, 1, 0]);
    expect(one('Equal', 13, [t('float32', [1], [NaN]), t('float32', [1], [NaN])])).toEqual([0]);
  });

  it('selects with Where over three broadcast inputs', () => {
    const out = run('Where', 16, [
      t('bool', [2, 1], [1, 0]),
      t('int64', [2], [1, 2]),
      t('int64', [], [9]),
    ])[0];
    expect(out.dims).toEqual([2, 2]);
    expect(values(out)).toEqual([1, 2, 9, 9]);
    expect(() =>
      infer('Where', 16, [t('int32', [1], [1]), t('int64', [1], [1]), t('int64', [1], [1])]),
    ).toThrow(/input 0 \("in0"\) has dtype int32; expected one of bool/);
  });
});

describe('unary math', () => {
  it('handles Abs, Neg and Sign for signed, unsigned and float inputs', () => {
    expect(one('Abs', 13, [t('int8', [3], [-5, 0, 7])])).toEqual([5, 0, 7]);
    expect(one('Abs', 13, [t('uint32', [1], [4294967295])])).toEqual([4294967295]);
    expect(one('Neg', 13, [t('int64', [2], [3, -4])])).toEqual([-3, 4]);
    expect(one('Sign', 13, [t('float32', [4], [-2, 0, 3, NaN])])).toEqual([-1, 0, 1, NaN]);
    expect(one('Sign', 13, [t('uint32', [2], [0, 4294967295])])).toEqual([0, 1]);
    expect(() => infer('Neg', 13, [t('uint8', [1], [1])])).toThrow(/dtype uint8/);
  });

  it('rounds half to even and floors, ceils', () => {
    const x = t('float32', [5], [0.5, 1.5, 2.5, -0.5, -1.7]);
    expect(one('Round', 11, [x])).toEqual([0, 2, 2, -0, -2]);
    expect(one('Floor', 13, [x])).toEqual([0, 1, 2, -1, -2]);
    expect(one('Ceil', 13, [x])).toEqual([1, 2, 3, -0, -1]);
  });

  it('computes transcendental functions in float', () => {
    expectClose(one('Exp', 13, [t('float32', [2], [0, 1])]), [1, Math.E]);
    expectClose(one('Atanh', 9, [t('float64', [1], [0.5])]), [Math.atanh(0.5)], 1e-12);
    expect(() => infer('Sqrt', 13, [t('int32', [1], [4])])).toThrow(
      /expected one of float16, float32, float64/,
    );
  });

  it('detects NaN and infinities by sign', () => {
    const x = t('float32', [4], [1, NaN, Infinity, -Infinity]);
    expect(one('IsNaN', 13, [x])).toEqual([0, 1, 0, 0]);
    expect(one('IsInf', 10, [x])).toEqual([0, 0, 1, 1]);
    expect(one('IsInf', 10, [x], { detect_positive: 0 })).toEqual([0, 0, 0, 1]);
    expect(one('IsInf', 10, [x], { detect_negative: 0 })).toEqual([0, 0, 1, 0]);
  });
});

describe('Cast and CastLike', () => {
  const cast = (x: ReturnType<typeof t>, to: number) => values(run('Cast', 13, [x], { to })[0]);

  it('truncates floats toward zero into integers and wraps narrow ones', () => {
    const x = t('float32', [4], [-2.7, 2.7, 300, -1]);
    expect(cast(x, 6)).toEqual([-2, 2, 300, -1]); // int32
    expect(cast(x, 2)).toEqual([254, 2, 44, 255]); // uint8
    expect(cast(t('float64', [1], [3e9]), 12)).toEqual([3e9]); // uint32
  });

  it('maps to bool as x != 0 and back to 0/1', () => {
    expect(cast(t('float32', [3], [0, -0.1, NaN]), 9)).toEqual([0, 1, 1]);
    expect(cast(t('bool', [2], [1, 0]), 1)).toEqual([1, 0]);
  });

  it('reads unsigned sources as unsigned and wraps wide integers', () => {
    expect(cast(t('uint32', [1], [4294967295]), 11)).toEqual([4294967295]); // float64
    expect(cast(t('uint32', [1], [4294967295]), 7)).toEqual([4294967295]); // int64
    expect(cast(t('int64', [2], [257, -129]), 3)).toEqual([1, 127]); // int8
    expect(cast(t('int8', [1], [-1]), 12)).toEqual([4294967295]); // uint32
  });

  it('round-trips through float16', () => {
    const half = run('Cast', 13, [t('float32', [2], [1.5, 65504])], { to: 10 })[0];
    expect(half.dtype).toBe('float16');
    expect(values(run('Cast', 13, [half], { to: 1 })[0])).toEqual([1.5, 65504]);
  });

  it('CastLike takes the dtype of its second input', () => {
    const out = run('CastLike', 15, [t('float32', [2], [1.9, -1.9]), t('int64', [0], [])])[0];
    expect(out.dtype).toBe('int64');
    expect(values(out)).toEqual([1, -1]);
  });

  it('refuses string and unsupported target types', () => {
    expect(() => infer('Cast', 13, [t('float32', [1], [1])], { to: 8 })).toThrow(
      /casting to string is not supported/,
    );
    expect(() => infer('Cast', 13, [{ dtype: 'string', shape: [1] }], { to: 1 })).toThrow(
      /casting from string/,
    );
    expect(() => infer('Cast', 13, [t('float32', [1], [1])], { to: 16 })).toThrow(/BFLOAT16/);
  });
});

describe('Clip', () => {
  it('takes bounds from attributes before opset 11', () => {
    expect(one('Clip', 6, [t('float32', [3], [-5, 0.5, 5])], { min: -1, max: 1 })).toEqual([-1, 0.5, 1]);
    expect(one('Clip', 6, [t('float32', [1], [Infinity])])).toEqual([3.4028234663852886e38]);
  });

  it('takes optional scalar bounds from inputs from opset 11, for integers too', () => {
    const x = t('int8', [3], [-100, 0, 100]);
    expect(one('Clip', 13, [x, t('int8', [], [-10])])).toEqual([-10, 0, 100]);
    expect(one('Clip', 13, [x, undefined, t('int8', [], [10])])).toEqual([-100, 0, 10]);
    expect(one('Clip', 13, [x, t('int8', [], [5]), t('int8', [], [1])])).toEqual([1, 1, 1]);
    expect(() => infer('Clip', 13, [x, t('int8', [2], [0, 1])])).toThrow(/input 1 \(min\) must be a scalar/);
  });

  it('reads run-time bounds from their buffers', () => {
    const x = t('float32', [3], [-5, 0.5, 5]);
    const out = run('Clip', 13, [x, t('float32', [], [0]), t('float32', [], [2])], {}, [1, 2]);
    expect(values(out[0])).toEqual([0, 0.5, 2]);
  });
});

describe('activations', () => {
  const x = [-3, -0.5, 0, 0.5, 3];
  const input = t('float32', [5], x);
  const check = (op: string, opset: number, f: (v: number) => number, attrs = {}) =>
    expectClose(one(op, opset, [input], attrs), x.map(f), 1e-5);

  it('computes the Relu family', () => {
    check('Relu', 14, (v) => Math.max(v, 0));
    expect(one('Relu', 14, [t('int32', [2], [-3, 3])])).toEqual([0, 3]);
    check('LeakyRelu', 16, (v) => (v < 0 ? 0.1 * v : v), { alpha: 0.1 });
    check('ThresholdedRelu', 10, (v) => (v > 0.5 ? v : 0), { alpha: 0.5 });
    check('Elu', 6, (v) => (v < 0 ? 2 * (Math.exp(v) - 1) : v), { alpha: 2 });
    check('Selu', 6, (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1)));
    check('Celu', 12, (v) => Math.max(0, v) + Math.min(0, 2 * (Math.exp(v / 2) - 1)), { alpha: 2 });
  });

  it('computes sigmoid-shaped functions', () => {
    check('Sigmoid', 13, (v) => 1 / (1 + Math.exp(-v)));
    check('HardSigmoid', 6, (v) => Math.max(0, Math.min(1, 0.2 * v + 0.5)));
    check('HardSwish', 14, (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5)));
    check('Softsign', 1, (v) => v / (1 + Math.abs(v)));
    check('Softplus', 1, (v) => Math.log(1 + Math.exp(v)));
    check('Mish', 18, (v) => v * Math.tanh(Math.log(1 + Math.exp(v))));
  });

  it('keeps Softplus finite for large inputs', () => {
    expectClose(one('Softplus', 1, [t('float32', [2], [100, -100])]), [100, Math.exp(-100)]);
  });

  it('computes Gelu exactly and with the tanh approximation', () => {
    const erf = (v: number) => {
      // Midpoint-rule integral of the definition: accurate to ~1e-8 here, no library needed.
      let s = 0;
      const n = 2000;
      for (let i = 0; i < n; i++) s += Math.exp(-((((i + 0.5) * v) / n) ** 2));
      return ((2 / Math.sqrt(Math.PI)) * s * v) / n;
    };
    check('Gelu', 20, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
    const c = Math.sqrt(2 / Math.PI);
    check('Gelu', 20, (v) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3))), { approximate: 'tanh' });
    expect(() => infer('Gelu', 20, [input], { approximate: 'fast' })).toThrow(
      /attribute 'approximate' must be one of none, tanh, got "fast"/,
    );
  });

  it('shrinks floats and integers', () => {
    check('Shrink', 9, (v) => (v < -1 ? v + 0.5 : v > 1 ? v - 0.5 : 0), { lambd: 1, bias: 0.5 });
    expect(one('Shrink', 9, [t('int32', [3], [-5, 1, 5])], { lambd: 1.5, bias: 1 })).toEqual([-4, 0, 4]);
  });

  it('broadcasts the PRelu slope onto X only', () => {
    const xs = t('float32', [2, 3], [-1, -2, -3, 1, 2, 3]);
    expect(one('PRelu', 16, [xs, t('float32', [3], [1, 2, 3])])).toEqual([-1, -4, -9, 1, 2, 3]);
    expect(() =>
      infer('PRelu', 16, [t('float32', [3], [1, 2, 3]), t('float32', [2, 3], [1, 2, 3, 4, 5, 6])]),
    ).toThrow(/slope of shape \[2,3\] does not broadcast to X of shape \[3\]/);
  });

  it('handles empty and 0-d tensors', () => {
    expect(run('Relu', 14, [t('float32', [2, 0], [])])[0].dims).toEqual([2, 0]);
    expect(one('Add', 14, [t('float32', [], [1]), t('float32', [], [2])])).toEqual([3]);
    expect(run('Add', 14, [t('float32', [0, 3], []), t('float32', [1, 3], [1, 2, 3])])[0].dims).toEqual([
      0, 3,
    ]);
  });
});
