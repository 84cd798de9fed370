/**
 * Local declarations moving into loops so row loops can be spread: where a local's value at the start of
 * an iteration is dead it moves (and the loop spreads), where it carries over it stays (and the loop keeps
 * to one invocation); per-channel locals move into the next loop only if they read nothing it writes.
 * Every case runs on the GPU next to the wasm generator.
 */
import { describe, expect, it } from 'vitest';
import {
  add,
  cmp,
  f32,
  i32,
  load,
  local,
  loop,
  max,
  mul,
  set,
  store,
  v,
  when,
} from '../../../src/kernels/build.js';
import type { PlacedBuffer, Stmt } from '../../../src/kernels/ir.js';
import { sinkLocals } from '../../../src/kernels/rewrite/sink-locals.js';
import { place, programOf } from '../harness.js';
import { expectClose, runBoth } from './harness.js';

const [ROWS, COLS] = [100, 5];
const data = Float32Array.from({ length: ROWS * COLS }, (_, i) => Math.cos(i * 0.9) * 2);

/** Runs `body` over X (float32[ROWS·COLS], filled) and Y (float32[ROWS·COLS]); returns Y's workgroups. */
async function run(body: (X: PlacedBuffer, Y: PlacedBuffer) => Stmt[]) {
  const bufs = place([
    { dtype: 'float32', length: ROWS * COLS },
    { dtype: 'float32', length: ROWS * COLS },
  ]);
  const program = programOf(bufs, body(bufs[0], bufs[1]));
  const { results, wasm, compiled } = await runBoth(program, [{ buf: bufs[0], data }], bufs);
  results.forEach((r, i) => expectClose(r, wasm[i], { rel: 1e-6 }, `buffer ${i}`));
  expect(compiled.run).toHaveLength(1);
  return compiled.run[0].workgroups;
}

const at = (r: string, c: string) => add(mul(v(r), i32(COLS)), v(c));

describe('wgsl local sinking', () => {
  it('a row maximum declared before the row loop and reset in each row moves in: one invocation per row', async () => {
    const scan = (X: PlacedBuffer, Y: PlacedBuffer): Stmt[] => [
      loop('k', COLS, [set('m', max(v('m', 'f32'), load(X, at('r', 'k'))))]),
      loop('j', COLS, [store(Y, at('r', 'j'), v('m', 'f32'))]),
    ];
    const body = (X: PlacedBuffer, Y: PlacedBuffer): Stmt[] => [
      local('m', 'f32', f32(0)),
      local('unused', 'i32', i32(0)),
      loop('r', ROWS, [set('m', f32(-Infinity)), ...scan(X, Y)]),
    ];
    const [X, Y] = place([
      { dtype: 'float32', length: 1 },
      { dtype: 'float32', length: 1 },
    ]);
    // the reset becomes the declaration; the unused local goes
    expect(sinkLocals(body(X, Y))).toEqual([
      loop('r', ROWS, [local('m', 'f32', f32(-Infinity)), ...scan(X, Y)]),
    ]);
    expect(await run(body)).toEqual([2, 1, 1]);
  });

  it('keeps a running sum, a value read after the loop and one written on some paths only where they are', async () => {
    // a prefix sum over rows and columns: the sum carries from one row to the next
    const prefixSum = (X: PlacedBuffer, Y: PlacedBuffer): Stmt[] => [
      local('acc', 'f32', f32(0)),
      loop('r', ROWS, [
        loop('c', COLS, [
          set('acc', add(v('acc', 'f32'), load(X, at('r', 'c')))),
          store(Y, at('r', 'c'), v('acc', 'f32')),
        ]),
      ]),
    ];
    const lastPositive = (X: PlacedBuffer, Y: PlacedBuffer): Stmt[] => [
      local('last', 'f32', f32(0)),
      loop('i', ROWS * COLS, [
        when(cmp('gt', load(X, v('i')), f32(0)), [set('last', load(X, v('i')))]),
        store(Y, v('i'), v('last', 'f32')),
      ]),
    ];
    const readAfter = (X: PlacedBuffer, Y: PlacedBuffer): Stmt[] => [
      local('x', 'f32', f32(0)),
      loop('i', ROWS * COLS, [set('x', load(X, v('i'))), store(Y, v('i'), v('x', 'f32'))]),
      store(Y, i32(0), v('x', 'f32')),
    ];
    for (const body of [prefixSum, lastPositive, readAfter]) {
      const [X, Y] = place([
        { dtype: 'float32', length: 1 },
        { dtype: 'float32', length: 1 },
      ]);
      expect(sinkLocals(body(X, Y))).toEqual(body(X, Y));
      expect(await run(body)).toEqual([1, 1, 1]);
    }
  });

  it('per-row factors move into the element loop unless that loop writes what they read', async () => {
    // y = x * x[row start]: the factor reads X, which the loop does not write: spread over all elements
    const scaled = await run((X, Y) => [
      loop('r', ROWS, [
        local('f', 'f32', load(X, mul(v('r'), i32(COLS)))),
        loop('c', COLS, [store(Y, at('r', 'c'), mul(load(X, at('r', 'c')), v('f', 'f32')))]),
      ]),
    ]);
    expect(scaled).toEqual([8, 1, 1]);
    // in place, x *= x[row start]: the element loop overwrites the row start before reading it for its
    // other elements, so it spreads over rows only
    const inPlace = await run((X) => [
      loop('r', ROWS, [
        local('f', 'f32', load(X, mul(v('r'), i32(COLS)))),
        loop('c', COLS, [store(X, at('r', 'c'), mul(load(X, at('r', 'c')), v('f', 'f32')))]),
      ]),
    ]);
    expect(inPlace).toEqual([2, 1, 1]);
  });
});
