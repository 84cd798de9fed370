/**
 * float64 tensors on the webgpu target: stored as wasm stores them (8 bytes, low word first), read rounded to
 * the nearest f32 and written widened from f32, with their math in f32 (demoteF64).
 */
import { describe, expect, it } from 'vitest';
import { add, cast, f64, load, loop, mul, store, un, v } from '../../../src/kernels/build.js';
import { place, programOf } from '../harness.js';
import { compileProgramWgsl } from '../../../src/codegen/wgsl/index.js';
import { expectClose, runBoth, runWgsl } from './harness.js';

/** f64 values around f32's rounding edges: ties to even, just past them, subnormals, overflow, specials */
const ROUNDING = [
  0,
  -0,
  1,
  1 + 2 ** -24, // a tie: to even, 1
  1 + 3 * 2 ** -24, // a tie: to even, up
  1 + 2 ** -24 + 2 ** -50, // just past a tie: up
  1 - 2 ** -54,
  1 / 3,
  -Math.PI,
  1e-40, // an f32 subnormal
  1.5 * 2 ** -149, // a tie between subnormals: to even, 2^-148
  2 ** -150, // half the smallest subnormal: a tie, to zero
  2 ** -150 * 1.0000001, // just past it: the smallest subnormal
  2 ** -151,
  5e-324, // the smallest f64 subnormal: zero
  3.4028234663852886e38, // f32's largest
  3.4028235677973366e38, // past it by half an ulp and more: infinity
  -1e300,
  Infinity,
  -Infinity,
  NaN,
];

describe('wgsl float64 storage', () => {
  it('reads float64 rounded to the nearest f32 (ties to even), as Math.fround', async () => {
    const bufs = place([
      { dtype: 'float64', length: ROUNDING.length },
      { dtype: 'float32', length: ROUNDING.length },
    ]);
    const [D, F] = bufs;
    const program = programOf(bufs, [
      loop('i', ROUNDING.length, [store(F, v('i'), cast('f32', load(D, v('i'))))]),
    ]);
    const { results } = await runWgsl(program, [{ buf: D, data: Float64Array.from(ROUNDING) }], [F]);
    expectClose(results[0], Float32Array.from(ROUNDING, Math.fround), {}, 'f32');
  });

  it('writes f32 values into float64 exactly (subnormals, specials and signs kept)', async () => {
    const values = [0, -0, 1.5, -1 / 3, 3.4e38, 1e-40, -1e-45, 2 ** -126, Infinity, -Infinity, NaN];
    const bufs = place([
      { dtype: 'float32', length: values.length },
      { dtype: 'float64', length: values.length },
    ]);
    const [F, D] = bufs;
    const program = programOf(bufs, [
      loop('i', values.length, [store(D, v('i'), cast('f64', load(F, v('i'))))]),
    ]);
    const { results } = await runWgsl(program, [{ buf: F, data: Float32Array.from(values) }], [D]);
    expectClose(results[0], Float64Array.from(values, Math.fround), {}, 'f64');
  });

  it('computes on float64 tensors in f32: agrees with the wasm target within float tolerance', async () => {
    const n = 50;
    const bufs = place([
      { dtype: 'float64', length: n },
      { dtype: 'int64', length: n },
      { dtype: 'float64', length: n },
    ]);
    const [X, K, Y] = bufs;
    // y = exp(x) * x + k: float64 math next to an int64 tensor, every f64 value ending in a float
    const x = load(X, v('i'));
    const program = programOf(bufs, [
      loop('i', n, [store(Y, v('i'), add(mul(un('exp', x), x), cast('f64', load(K, v('i')))))]),
    ]);
    const inputs = [
      { buf: X, data: Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 3) },
      { buf: K, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i * 1000 - 7)) },
    ];
    const { results, wasm } = await runBoth(program, inputs, [Y]);
    expectClose(results[0], wasm[0], { rel: 1e-5, abs: 1e-5 }, 'y');
  });

  it('still refuses a kernel that needs f64 next to float64: one making f64 from loop indices', () => {
    const bufs = place([{ dtype: 'float64', length: 8 }]);
    const program = programOf(bufs, [
      loop('i', 8, [store(bufs[0], v('i'), un('sin', mul(cast('f64', v('i')), f64(0.7))))]),
    ]);
    expect(() => compileProgramWgsl(program)).toThrow(
      'webgpu codegen: kernel "test kernel": f64 values are not supported with the float64 buffer #0',
    );
  });
});
