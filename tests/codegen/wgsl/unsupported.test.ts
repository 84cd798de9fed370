/** What the webgpu target refuses so far: f64 math it cannot do in f32, named with the kernel. */
import { describe, expect, it } from 'vitest';
import { bin, cast, f64, i32, load, loop, store, v } from '../../../src/kernels/build.js';
import { compileProgramWgsl } from '../../../src/codegen/wgsl/index.js';
import { place, programOf } from '../harness.js';

const NOTE =
  /\(the webgpu target supports float32, float64 computed in f32, int64\/uint64, int32 and narrower types so far\)/;

describe('wgsl unsupported types', () => {
  it('refuses f64 math it cannot do in f32, with the kernel name and what is unsupported', () => {
    const bufs = place([
      { dtype: 'float32', length: 4 },
      { dtype: 'float64', length: 4 },
      { dtype: 'int64', length: 4 },
      { dtype: 'int32', length: 4 },
    ]);
    const [F, D, L, I] = bufs;
    const compile = (body: Parameters<typeof programOf>[1]) => () =>
      compileProgramWgsl(programOf(bufs, body));
    expect(compile([store(I, i32(0), cast('i32', f64(1.5)))])).toThrow(
      /^webgpu codegen: kernel "test kernel": f64 values are not supported/,
    );
    expect(compile([store(I, i32(0), cast('i32', f64(1.5)))])).toThrow(NOTE);
    // float64 buffers are stored as f64 and computed on in f32
    expect(compile([loop('i', 4, [store(D, v('i'), f64(0))])])().code).toMatch(/\bst_f64_mem\d+\(/);
    expect(compile([store(F, i32(0), cast('f32', load(D, i32(0))))])().code).toMatch(/\bld_f64_mem\d+\(/);
    // an int64 value in f64 math that ends in a float: f32 stands in; one that ends in an int64: refused
    const sum = bin('add', cast('f64', load(L, i32(0))), f64(0.5));
    expect(compile([store(F, i32(0), cast('f32', sum))])().code).not.toMatch(/\bf64\b/);
    expect(compile([store(L, i32(0), cast('i64', sum))])).toThrow(
      /f64 values are not supported with the int64 buffer #2/,
    );
    expect(compile([store(L, i32(0), cast('i64', sum))])).toThrow(NOTE);
  });
});
