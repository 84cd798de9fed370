/** Statements (loops, locals, set, if/else, select), kernel order, and how kernels become dispatches. */
import { describe, expect, it } from 'vitest';
import {
  add,
  cmp,
  f32,
  i32,
  load,
  local,
  loop,
  mul,
  select,
  set,
  store,
  v,
  when,
} from '../../../src/kernels/build.js';
import type { Program } from '../../../src/kernels/ir.js';
import { place, programOf } from '../harness.js';
import { expectClose, runBoth } from './harness.js';

describe('wgsl statements', () => {
  it('nested loops, locals, set, if/else, zero- and one-trip loops, sibling loops reusing a name', async () => {
    const bufs = place([
      { dtype: 'int32', length: 12 },
      { dtype: 'int32', length: 4 },
    ]);
    const [O, P] = bufs;
    // out[i*4+j] = sum_{k<=j} (i+k), negated when i is odd; accumulated in one local across the nest
    const program = programOf(bufs, [
      local('total', 'i32', i32(0)),
      loop('i', 3, [
        loop('j', 4, [
          local('acc', 'i32', i32(0)),
          loop('k', 4, [when(cmp('le', v('k'), v('j')), [set('acc', add(v('acc'), add(v('i'), v('k'))))])]),
          when(
            cmp('eq', { k: 'bin', t: 'i32', op: 'and', a: v('i'), b: i32(1) }, i32(1)),
            [store(O, add(mul(v('i'), i32(4)), v('j')), { k: 'un', t: 'i32', op: 'neg', a: v('acc') })],
            [store(O, add(mul(v('i'), i32(4)), v('j')), v('acc'))],
          ),
          set('total', add(v('total'), v('acc'))),
        ]),
      ]),
      loop('q', 0, [store(P, i32(0), i32(99))]),
      loop('q', 1, [store(P, add(v('q'), i32(1)), v('total'))]),
      loop('q', 2, [store(P, add(v('q'), i32(2)), add(v('q'), i32(7)))]),
    ]);
    const { results, wasm } = await runBoth(program, [], bufs);
    expectClose(results[0], wasm[0]);
    expectClose(results[1], wasm[1]);
    expect(Array.from(results[1])).toEqual([0, 60, 7, 8]);
  });

  it('select evaluates per element; negative constant offsets in indices', async () => {
    const bufs = place([
      { dtype: 'float32', length: 5 },
      { dtype: 'float32', length: 8 },
    ]);
    const [A, B] = bufs;
    const program = programOf(bufs, [
      loop('i', 4, [
        store(B, v('i'), select(cmp('gt', load(A, add(v('i'), i32(1))), f32(0)), load(A, v('i')), f32(-1))),
        store(B, add(v('i'), i32(4)), load(A, add(add(v('i'), i32(100001)), i32(-100000)))),
      ]),
    ]);
    const { results } = await runBoth(program, [{ buf: A, data: Float32Array.from([1, -2, 3, -4, 5]) }], [B]);
    expect(Array.from(results[0])).toEqual([-1, -2, -1, -4, -2, 3, -4, 5]);
  });

  it('init kernels run once before run kernels, each in order', async () => {
    const bufs = place([{ dtype: 'int32', length: 2 }]);
    const [B] = bufs;
    const program: Program = {
      ...programOf(bufs, []),
      init: [
        { name: 'a', body: [store(B, i32(0), i32(3))] },
        { name: 'a', body: [store(B, i32(0), mul(load(B, i32(0)), i32(10)))] },
      ],
      run: [
        { name: 'r/1', body: [store(B, i32(1), add(load(B, i32(0)), i32(1)))] },
        { name: 'r-2', body: [store(B, i32(1), mul(load(B, i32(1)), i32(2)))] },
      ],
    };
    const { results, compiled } = await runBoth(program, [], [B]);
    expect(Array.from(results[0])).toEqual([30, 62]);
    expect(compiled.init.map((d) => d.entry)).toEqual(['k0_a', 'k1_a']);
    expect(compiled.run.map((d) => [d.entry, d.kernel])).toEqual([
      ['k2_r_1', 'r/1'],
      ['k3_r_2', 'r-2'],
    ]);
  });

  it('one-trip loops dissolve and independent top-level statements become separate dispatches', async () => {
    const bufs = place([
      { dtype: 'float32', length: 64 },
      { dtype: 'float32', length: 64 },
    ]);
    const [A, B] = bufs;
    // like a Conv lowering: loop n 1 { loop g 1 { fill A; then B from A } }
    const program = programOf(bufs, [
      loop('n', 1, [
        loop('g', 1, [
          loop('i', 64, [store(A, add(v('i'), mul(v('n'), i32(64))), mul(f32(0.5), f32(3)))]),
          loop('j', 64, [store(B, add(v('j'), v('g')), add(load(A, v('j')), f32(1)))]),
        ]),
      ]),
    ]);
    const { results, compiled } = await runBoth(program, [], [A, B]);
    expect(compiled.run.map((d) => d.workgroups)).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(compiled.code).toMatch(/if \(gid >= 64u\)/);
    expect(Array.from(results[1])).toEqual(new Array(64).fill(2.5));
  });

  it('reports unknown buffers, undeclared variables and type errors with the kernel name', () => {
    // the wasm generator's messages, with the webgpu prefix
    const bufs = place([{ dtype: 'float32', length: 2 }]);
    const stray = { id: 7, dtype: 'float32' as const, length: 1 };
    const compile = (p: Program) =>
      import('../../../src/codegen/wgsl/index.js').then((m) => m.compileProgramWgsl(p));
    return Promise.all([
      expect(compile(programOf(bufs, [store(stray, i32(0), f32(1))]))).rejects.toThrow(
        /webgpu codegen: kernel "test kernel": store to buffer #7 \(float32\) is not placed/,
      ),
      expect(compile(programOf(bufs, [store(bufs[0], v('q'), f32(1))]))).rejects.toThrow(
        /variable 'q' is used before it is declared/,
      ),
      expect(compile(programOf(bufs, [store(bufs[0], i32(0), i32(1))]))).rejects.toThrow(
        /store of i32 into buffer #0 \(float32\)/,
      ),
    ]);
  });
});
