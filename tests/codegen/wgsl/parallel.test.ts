/**
 * Spreading loops over invocations: what the analysis parallelizes (dispatch sizes asserted) and what it
 * must keep in one invocation, each loop nest checked for its results on the GPU against the interpreter.
 */
import { describe, expect, it } from 'vitest';
import { add, i32, load, loop, mul, parallelLoop, store, v } from '../../../src/kernels/build.js';
import { compileProgramWgsl } from '../../../src/codegen/wgsl/index.js';
import { gridFor } from '../../../src/codegen/wgsl/render.js';
import { LOOP_NESTS, LOOP_NEST_CASES } from '../cases/statements.js';
import { describeCases, type KernelCase } from '../cases/case.js';
import { place, programOf } from '../program.js';
import { compileCase, runWgsl, webgpuTarget } from './harness.js';

/** The one dispatch a loop nest compiles to (its results on the GPU are checked by the shared cases). */
function dispatchOf(c: KernelCase) {
  const compiled = compileCase(c);
  expect(compiled.run).toHaveLength(1);
  return { workgroups: compiled.run[0].workgroups, code: compiled.code };
}

describeCases(webgpuTarget, 'wgsl loop nests', LOOP_NEST_CASES);

describe('wgsl parallel dispatch', () => {
  it('an elementwise kernel runs one invocation per element', () => {
    expect(dispatchOf(LOOP_NESTS.elementwise).workgroups).toEqual([16, 1, 1]);
  });

  it('an in-place update at the same index, and a transposed 2-D nest, are spread whole', () => {
    expect(dispatchOf(LOOP_NESTS.inPlace).workgroups).toEqual([3, 1, 1]);
    // out[j*30 + i] for i < 30, j < 50: both counters spread (1500 invocations)
    expect(dispatchOf(LOOP_NESTS.transposed).workgroups).toEqual([24, 1, 1]);
  });

  it('a row reduction runs one invocation per row, the reduction loop inside it', () => {
    const { workgroups, code } = dispatchOf(LOOP_NESTS.rowReduction);
    expect(workgroups).toEqual([5, 1, 1]);
    expect(code).toMatch(/if \(gid >= 300u\)/);
  });

  it('keeps to one invocation: a scan reading what other iterations write, overlapping stores, narrow stores', () => {
    // y[i] = y[i-1] + x[i]
    const scan = dispatchOf(LOOP_NESTS.scan);
    expect(scan.workgroups).toEqual([1, 1, 1]);
    expect(scan.code).toMatch(/if \(gid >= 1u\)/);
    // y[i] and y[i+1] both written by iteration i: neighbours overlap
    expect(dispatchOf(LOOP_NESTS.overlapping).workgroups).toEqual([1, 1, 1]);
    // y[99 - i]: a negative coefficient is fine
    expect(dispatchOf(LOOP_NESTS.reversed).workgroups).toEqual([2, 1, 1]);
    // int8 elements share words: read-modify-write races
    expect(dispatchOf(LOOP_NESTS.narrow).workgroups).toEqual([1, 1, 1]);
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

  it('spreads exactly the loops the lowering declared parallel, once they check out', async () => {
    const bufs = place([
      { dtype: 'int32', length: 64 * 40 },
      { dtype: 'int8', length: 64 },
    ]);
    const [out, narrow] = bufs;
    const body = (outer: typeof loop) => [
      outer('i', 64, [loop('j', 40, [store(out, add(mul(v('i'), i32(40)), v('j')), add(v('i'), v('j')))])]),
    ];
    // undeclared, the analysis finds both loops; declared, only the outer one is the nest
    const guessed = compileProgramWgsl(programOf(bufs, body(loop)));
    expect(guessed.run[0].workgroups).toEqual([40, 1, 1]);
    const { results, compiled } = await runWgsl(programOf(bufs, body(parallelLoop)), [], [out]);
    expect(compiled.run[0].workgroups).toEqual([1, 1, 1]);
    expect(compiled.code).toMatch(/if \(gid >= 64u\)/);
    expect((results[0] as Int32Array).findIndex((x, k) => x !== Math.floor(k / 40) + (k % 40))).toBe(-1);
    // declared parallel, yet int8 stores share words: the check keeps it in one invocation
    const bytes = compileProgramWgsl(
      programOf(bufs, [parallelLoop('i', 64, [store(narrow, v('i'), i32(1))])]),
    );
    expect(bytes.code).toMatch(/if \(gid >= 1u\)/);
  });
});
