/** What the webgpu target refuses so far: 64-bit values and buffers, each named with the kernel. */
import { describe, expect, it } from 'vitest';
import { cast, f64, i32, i64, load, loop, store, v } from '../../../src/kernels/build.js';
import { compileProgramWgsl } from '../../../src/codegen/wgsl/index.js';
import { place, programOf } from '../harness.js';

const NOTE = /\(the webgpu target supports float32\/int32 and narrower types so far\)/;

describe('wgsl unsupported types', () => {
  it('refuses f64 and i64 values and 64-bit buffers with the kernel name and what is unsupported', () => {
    const bufs = place([
      { dtype: 'float32', length: 4 },
      { dtype: 'float64', length: 4 },
      { dtype: 'int64', length: 4 },
      { dtype: 'uint64', length: 4 },
      { dtype: 'int32', length: 4 },
    ]);
    const [F, D, L, U, I] = bufs;
    const compile = (body: Parameters<typeof programOf>[1]) => () =>
      compileProgramWgsl(programOf(bufs, body));
    expect(compile([store(I, i32(0), cast('i32', f64(1.5)))])).toThrow(
      /^webgpu codegen: kernel "test kernel": f64 values are not supported/,
    );
    expect(compile([store(F, i32(0), cast('f32', i64(3)))])).toThrow(/i64 values are not supported/);
    expect(compile([store(I, i32(0), cast('i32', f64(1.5)))])).toThrow(NOTE);
    expect(compile([loop('i', 4, [store(D, v('i'), f64(0))])])).toThrow(
      /f64 values are not supported|float64 buffer/,
    );
    expect(compile([store(F, i32(0), cast('f32', load(D, i32(0))))])).toThrow(
      /load from buffer #1 is a float64 buffer, which is not supported/,
    );
    expect(compile([store(F, i32(0), cast('f32', load(L, i32(0))))])).toThrow(/buffer #2 is a int64 buffer/);
    expect(compile([store(U, i32(0), i64(1))])).toThrow(NOTE);
  });
});
