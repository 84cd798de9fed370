/**
 * Spreading loops over invocations: what the analysis parallelizes (dispatch sizes asserted) and what it
 * must keep in one invocation, each checked for its results on the GPU.
 */
import { describe, expect, it } from 'vitest';
import { add, f32, i32, load, local, loop, mul, set, store, sub, v } from '../../../src/kernels/build.js';
import type { Stmt } from '../../../src/kernels/ir.js';
import { gridFor } from '../../../src/codegen/wgsl/render.js';
import { place, programOf } from '../harness.js';
import { expectClose, runBoth, runWgsl } from './harness.js';

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3);

/** Runs one kernel over buffers [input x (float32[n]), ...outputs]; returns GPU results, wasm results, dispatch. */
async function run(
  n: number,
  outs: { dtype: 'float32' | 'int8'; length: number }[],
  body: (bufs: ReturnType<typeof place>) => Stmt[],
) {
  const bufs = place([{ dtype: 'float32', length: n }, ...outs]);
  const program = programOf(bufs, body(bufs));
  const { results, wasm, compiled } = await runBoth(program, [{ buf: bufs[0], data: ramp(n) }], bufs);
  results.forEach((r, i) => expectClose(r, wasm[i], { rel: 1e-6 }, `buffer ${i}`));
  expect(compiled.run).toHaveLength(1);
  return { results, dispatch: compiled.run[0], code: compiled.code };
}

describe('wgsl parallel dispatch', () => {
  it('an elementwise kernel runs one invocation per element', async () => {
    const { dispatch, results } = await run(1000, [{ dtype: 'float32', length: 1000 }], ([X, Y]) => [
      loop('i', 1000, [store(Y, v('i'), add(mul(load(X, v('i')), f32(2)), f32(1)))]),
    ]);
    expect(dispatch.workgroups).toEqual([16, 1, 1]);
    expect(results[1][999]).toBeCloseTo(Math.sin(999) * 6 + 1, 5);
  });

  it('an in-place update at the same index, and a transposed 2-D nest, are spread whole', async () => {
    const inPlace = await run(130, [], ([X]) => [
      loop('i', 130, [store(X, v('i'), mul(load(X, v('i')), f32(3)))]),
    ]);
    expect(inPlace.dispatch.workgroups).toEqual([3, 1, 1]);
    // out[j*30 + i] for i < 30, j < 50: both counters spread (1500 invocations)
    const transposed = await run(1500, [{ dtype: 'float32', length: 1500 }], ([X, Y]) => [
      loop('i', 30, [
        loop('j', 50, [
          store(Y, add(mul(v('j'), i32(30)), v('i')), load(X, add(mul(v('i'), i32(50)), v('j')))),
        ]),
      ]),
    ]);
    expect(transposed.dispatch.workgroups).toEqual([24, 1, 1]);
  });

  it('a row reduction runs one invocation per row, the reduction loop inside it', async () => {
    const { dispatch, code } = await run(300 * 7, [{ dtype: 'float32', length: 300 }], ([X, Y]) => [
      loop('r', 300, [
        local('acc', 'f32', f32(0)),
        loop('k', 7, [set('acc', add(v('acc', 'f32'), load(X, add(mul(v('r'), i32(7)), v('k')))))]),
        store(Y, v('r'), v('acc', 'f32')),
      ]),
    ]);
    expect(dispatch.workgroups).toEqual([5, 1, 1]);
    expect(code).toMatch(/if \(gid >= 300u\)/);
  });

  it('keeps to one invocation: a scan reading what other iterations write, overlapping stores, narrow stores', async () => {
    // y[i] = y[i-1] + x[i]
    const scan = await run(200, [{ dtype: 'float32', length: 201 }], ([X, Y]) => [
      loop('i', 200, [store(Y, add(v('i'), i32(1)), add(load(Y, v('i')), load(X, v('i'))))]),
    ]);
    expect(scan.dispatch.workgroups).toEqual([1, 1, 1]);
    expect(scan.code).toMatch(/if \(gid >= 1u\)/);
    // y[i] and y[i+1] both written by iteration i: neighbours overlap
    const overlap = await run(100, [{ dtype: 'float32', length: 101 }], ([X, Y]) => [
      loop('i', 100, [
        store(Y, v('i'), load(X, v('i'))),
        store(Y, add(v('i'), i32(1)), mul(load(X, v('i')), f32(2))),
      ]),
    ]);
    expect(overlap.dispatch.workgroups).toEqual([1, 1, 1]);
    // y[99 - i]: a negative coefficient is fine
    const reversed = await run(100, [{ dtype: 'float32', length: 100 }], ([X, Y]) => [
      loop('i', 100, [store(Y, sub(i32(99), v('i')), load(X, v('i')))]),
    ]);
    expect(reversed.dispatch.workgroups).toEqual([2, 1, 1]);
    // int8 elements share words: read-modify-write races
    const narrow = await run(100, [{ dtype: 'int8', length: 100 }], ([, B]) => [
      loop('i', 100, [store(B, v('i'), v('i'))]),
    ]);
    expect(narrow.dispatch.workgroups).toEqual([1, 1, 1]);
    expect(Array.from(narrow.results[1]).slice(95)).toEqual([95, 96, 97, 98, 99]);
  });

  it('past 65535 workgroups the grid becomes two-dimensional, and every element is still written once', async () => {
    expect(gridFor(64 * 65535)).toEqual([65535, 1, 1]);
    expect(gridFor(64 * 200000)).toEqual([50000, 4, 1]);
    const n = 64 * 65535 + 100;
    const bufs = place([{ dtype: 'int32', length: n }]);
    const program = programOf(bufs, [
      loop('i', n, [store(bufs[0], v('i'), add(load(bufs[0], v('i')), v('i')))]),
    ]);
    const { results, compiled } = await runWgsl(program, [], bufs);
    expect(compiled.run[0].workgroups).toEqual([32769, 2, 1]);
    const wrong = (results[0] as Int32Array).findIndex((x, i) => x !== i);
    expect(wrong).toBe(-1);
  });
});
