/**
 * f64 math on the webgpu target: demoted to f32 where every buffer of the kernel is float32/float16 (the
 * GPU result then agrees with the wasm generator's f64 within float tolerance), and next to integer
 * buffers where every f64 value ends in a float; refused where an f64 value becomes an integer, as f64 may
 * be what keeps it exact.
 */
import { describe, expect, it } from 'vitest';
import {
  add,
  cast,
  div,
  f64,
  i32,
  load,
  local,
  loop,
  mul,
  set,
  store,
  sub,
  un,
  v,
} from '../../../src/kernels/build.js';
import type { BufRef, Expr } from '../../../src/kernels/ir.js';
import { compileProgramWgsl } from '../../../src/codegen/wgsl/index.js';
import { place, programOf } from '../harness.js';
import { expectClose, runBoth } from './harness.js';

const wide = (buf: BufRef, index: Expr) => cast('f64', load(buf, index));
const values = (n: number, scale: number, shift = 0) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * scale + shift);

describe('wgsl f64 demotion', () => {
  it('a BatchNormalization-like kernel computing its per-channel factors in f64 runs in f32, within 1e-6', async () => {
    const [C, S] = [3, 40];
    const bufs = place([
      { dtype: 'float32', length: C * S }, // X
      { dtype: 'float32', length: C }, // scale
      { dtype: 'float16', length: C }, // B, a narrower float: f32 holds it exactly
      { dtype: 'float32', length: C }, // mean
      { dtype: 'float32', length: C }, // var
      { dtype: 'float32', length: C * S }, // Y
    ]);
    const [X, scale, B, mean, variance, Y] = bufs;
    const c = v('c');
    const program = programOf(bufs, [
      loop('c', C, [
        local('a', 'f64', div(wide(scale, c), un('sqrt', add(wide(variance, c), f64(1e-5))))),
        local('b', 'f64', sub(wide(B, c), mul(wide(mean, c), v('a', 'f64')))),
        loop('s', S, [
          store(
            Y,
            add(mul(c, i32(S)), v('s')),
            cast('f32', add(mul(wide(X, add(mul(c, i32(S)), v('s'))), v('a', 'f64')), v('b', 'f64'))),
          ),
        ]),
      ]),
    ]);
    const inputs = [
      { buf: X, data: values(C * S, 4, 1) },
      { buf: scale, data: Float32Array.of(0.5, -2, 3) },
      { buf: B, data: Uint16Array.of(0x3c00, 0xbc00, 0x3800) }, // 1, -1, 0.5
      { buf: mean, data: Float32Array.of(1, 0.25, -3) },
      { buf: variance, data: Float32Array.of(4, 0.5, 9) },
    ];
    const { results, wasm } = await runBoth(program, inputs, [Y]);
    expectClose(results[0], wasm[0], { rel: 1e-6, abs: 1e-6 }, 'Y');
    // the reference really is the f64 formula
    expect(wasm[0][0]).toBeCloseTo(((inputs[0].data[0] - 1) / Math.sqrt(4 + 1e-5)) * 0.5 + 1, 5);
  });

  it('a row mean and variance accumulated in f64 agree within float tolerance', async () => {
    const [R, N] = [4, 300];
    const bufs = place([
      { dtype: 'float32', length: R * N },
      { dtype: 'float32', length: R * 2 },
    ]);
    const [X, Out] = bufs;
    const x = (k: string) => wide(X, add(mul(v('r'), i32(N)), v(k)));
    const program = programOf(bufs, [
      loop('r', R, [
        local('sum', 'f64', f64(0)),
        loop('i', N, [set('sum', add(v('sum', 'f64'), x('i')))]),
        local('mean', 'f64', div(v('sum', 'f64'), f64(N))),
        local('sq', 'f64', f64(0)),
        loop('j', N, [
          local('dev', 'f64', sub(x('j'), v('mean', 'f64'))),
          set('sq', add(v('sq', 'f64'), mul(v('dev', 'f64'), v('dev', 'f64')))),
        ]),
        store(Out, mul(v('r'), i32(2)), cast('f32', v('mean', 'f64'))),
        store(Out, add(mul(v('r'), i32(2)), i32(1)), cast('f32', div(v('sq', 'f64'), f64(N)))),
      ]),
    ]);
    // with a mean far from zero f32 accumulation is visibly off f64 (about 3e-7 relative), within tolerance
    const { results, wasm } = await runBoth(program, [{ buf: X, data: values(R * N, 2, 100) }], [Out]);
    expectClose(results[0], wasm[0], { rel: 2e-6 }, 'mean/variance');
  });

  it('sums int32 values in f32 when the f64 sum ends in a float, within float tolerance', async () => {
    const bufs = place([
      { dtype: 'int32', length: 8 },
      { dtype: 'float32', length: 1 },
    ]);
    const [I, Out] = bufs;
    const program = programOf(bufs, [
      local('sum', 'f64', f64(0)),
      loop('i', 8, [set('sum', add(v('sum', 'f64'), cast('f64', load(I, v('i')))))]),
      store(Out, i32(0), cast('f32', v('sum', 'f64'))),
    ]);
    const data = Int32Array.of(1 << 30, 3, -5, 123456789, 7, -(1 << 29), 11, 1);
    const { results, wasm } = await runBoth(program, [{ buf: I, data }], [Out]);
    expectClose(results[0], wasm[0], { rel: 1e-6 }, 'sum');
  });

  it('refuses f64 math next to an int32 buffer where an f64 value becomes an integer, naming why', () => {
    const bufs = place([
      { dtype: 'int32', length: 8 },
      { dtype: 'int32', length: 1 },
    ]);
    const [I, Out] = bufs;
    const program = programOf(bufs, [
      local('sum', 'f64', f64(0)),
      loop('i', 8, [set('sum', add(v('sum', 'f64'), cast('f64', load(I, v('i')))))]),
      store(Out, i32(0), cast('i32', div(v('sum', 'f64'), f64(3)))),
    ]);
    expect(() => compileProgramWgsl(program)).toThrow(
      'webgpu codegen: kernel "test kernel": f64 values are not supported with the int32 buffer #0: ' +
        'f32 stands in for f64 next to integer or float64 buffers only where no f64 value becomes an integer ' +
        'or is made from loop indices, as f64 may keep integers exact here',
    );
  });
});
