/**
 * Spreading loops over invocations: what the analysis parallelizes (dispatch sizes asserted) and what it
 * must keep in one invocation, each loop nest checked for its results on the GPU against the interpreter.
 */
import { describe, expect, it } from 'vitest';
import {
  add,
  cast,
  cmp,
  f32,
  i32,
  load,
  local,
  loop,
  mul,
  parallelLoop,
  set,
  store,
  v,
} from '../../../src/kernels/build.js';
import type { Expr } from '../../../src/kernels/ir.js';
import { compileProgramWgsl } from '../../../src/codegen/wgsl/index.js';
import { gridFor } from '../../../src/codegen/wgsl/render.js';
import { LOOP_NESTS, LOOP_NEST_CASES } from '../cases/statements.js';
import { describeCases, type KernelCase } from '../cases/case.js';
import { place, programOf, typed, type Elements, type NumDType } from '../program.js';
import { compileCase, runBoth, runWgsl, webgpuTarget } from './harness.js';

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

  it('keeps to one invocation: a scan reading what other iterations write, overlapping stores', () => {
    // y[i] = y[i-1] + x[i]
    const scan = dispatchOf(LOOP_NESTS.scan);
    expect(scan.workgroups).toEqual([1, 1, 1]);
    expect(scan.code).toMatch(/if \(gid >= 1u\)/);
    // y[i] and y[i+1] both written by iteration i: neighbours overlap
    expect(dispatchOf(LOOP_NESTS.overlapping).workgroups).toEqual([1, 1, 1]);
    // y[99 - i]: a negative coefficient is fine
    expect(dispatchOf(LOOP_NESTS.reversed).workgroups).toEqual([2, 1, 1]);
    // int8 elements share words: one invocation per word, 4 elements each
    expect(dispatchOf(LOOP_NESTS.narrow).code).toMatch(/if \(gid >= 25u\)/);
  });

  it('spreads interleaved lines (an in-place scan along a middle axis), not lines reading their neighbours', async () => {
    const [y] = place([{ dtype: 'float32', length: 3 * 5 * 7 + 1 }]);
    const data = typed(
      'float32',
      Array.from({ length: 3 * 5 * 7 + 1 }, (_, k) => (k % 11) - 5),
    );
    // y[o, r, i] over [3, 5, 7], scanned along r: invocation (o, i) walks i, i + 7, …, i + 28 of row o
    const at = (shift: number) =>
      add(add(add(mul(v('o'), i32(35)), mul(v('r'), i32(7))), v('i')), i32(shift));
    const scan = (read: Expr) =>
      programOf(
        [y],
        [
          loop('o', 3, [
            loop('i', 7, [
              local('acc', 'f32', f32(0)),
              loop('r', 5, [
                set('acc', add(v('acc', 'f32'), load(y, read))),
                store(y, at(0), v('acc', 'f32')),
              ]),
            ]),
          ]),
        ],
      );
    const own = await runBoth(scan(at(0)), [{ buf: y, data }], [y]);
    expect(own.compiled.code).toMatch(/if \(gid >= 21u\)/);
    expect(Array.from(own.results[0])).toEqual(Array.from(own.wasm[0] as Elements));
    // reading y[o, r, i + 1], which the next line's invocation writes: one invocation
    const next = await runBoth(scan(at(1)), [{ buf: y, data }], [y]);
    expect(next.compiled.code).toMatch(/if \(gid >= 1u\)/);
    expect(Array.from(next.results[0])).toEqual(Array.from(next.wasm[0] as Elements));
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
    // declared parallel with int8 stores, which share words: one invocation per word
    const bytes = compileProgramWgsl(
      programOf(bufs, [parallelLoop('i', 64, [store(narrow, v('i'), i32(1))])]),
    );
    expect(bytes.code).toMatch(/if \(gid >= 16u\)/);
  });
});

describe('wgsl narrow stores: each invocation owns whole u32 words', () => {
  const source = (n: number) => Array.from({ length: n }, (_, i) => ((i * 37) % 601) - 300);
  /** y[i] from x[i]: f16 of x·1.5, or x wrapped to the integer type, or x > 0 */
  const valueOf = (dtype: NumDType, x: ReturnType<typeof load>) =>
    dtype === 'float16' ? mul(cast('f32', x), f32(1.5)) : dtype === 'bool' ? cmp('gt', x, i32(0)) : x;
  for (const dtype of ['float16', 'int8', 'uint8', 'bool', 'int16'] as const)
    for (const n of [1, 3, 5, 1023])
      it(`${dtype} × ${n}: ceil(n / elements per word) invocations, equal to wasm`, async () => {
        const [x, y] = place([
          { dtype: 'int32', length: n },
          { dtype, length: n },
        ]);
        const program = programOf(
          [x, y],
          [loop('i', n, [store(y, v('i'), valueOf(dtype, load(x, v('i'))))])],
        );
        const { results, wasm, compiled } = await runBoth(
          program,
          [{ buf: x, data: typed('int32', source(n)) }],
          [y],
        );
        const words = Math.ceil(n / (dtype === 'float16' || dtype === 'int16' ? 2 : 4));
        expect(compiled.code).toMatch(new RegExp(`if \\(gid >= ${words}u\\)`));
        expect(compiled.run[0].workgroups).toEqual(gridFor(words));
        expect(Array.from(results[0])).toEqual(Array.from(wasm[0] as Elements));
      });

  it('rows of odd length share words: whole rows per invocation, 4 of them for int8', async () => {
    const [x, y] = place([
      { dtype: 'int32', length: 9 * 5 },
      { dtype: 'int8', length: 9 * 5 },
    ]);
    const at = add(mul(v('r'), i32(5)), v('c'));
    const program = programOf([x, y], [loop('r', 9, [loop('c', 5, [store(y, at, load(x, at))])])]);
    const { results, wasm, compiled } = await runBoth(
      program,
      [{ buf: x, data: typed('int32', source(45)) }],
      [y],
    );
    expect(compiled.code).toMatch(/if \(gid >= 3u\)/);
    expect(Array.from(results[0])).toEqual(Array.from(wasm[0] as Elements));
  });

  it('keeps to one invocation where words cannot be owned: a strided narrow store', () => {
    const [y] = place([{ dtype: 'int8', length: 2 * 7 }]);
    // y[c*2 + r]: neighbouring elements of a word come from different rows
    const program = programOf(
      [y],
      [loop('r', 2, [loop('c', 7, [store(y, add(mul(v('c'), i32(2)), v('r')), v('c'))])])],
    );
    expect(compileProgramWgsl(program).code).toMatch(/if \(gid >= 1u\)/);
  });
});
