import { describe, expect, it } from 'vitest';
import { cmp, load, loop, store, un, v } from '../../src/kernels/build.js';
import { BINARY_CASES, CAST_CASES, COMPARISON_CASES, UNARY_CASES } from './cases/scalar-ops.js';
import { describeCases } from './cases/case.js';
import { runKernel, wasmTarget } from './harness.js';

describeCases(wasmTarget, 'binary ops', BINARY_CASES);
describeCases(wasmTarget, 'comparisons', COMPARISON_CASES);
describeCases(wasmTarget, 'unary ops', UNARY_CASES);
describeCases(wasmTarget, 'casts', CAST_CASES);

describe('wasm refusals', () => {
  it('unsigned comparisons are rejected on floats', () => {
    expect(() =>
      runKernel(
        [
          { dtype: 'float32', length: 2 },
          { dtype: 'int32', length: 2 },
        ],
        ([A, B]) => [loop('i', 2, [store(B, v('i'), cmp('lt_u', load(A, v('i')), load(A, v('i'))))])],
      ),
    ).toThrow(/lt_u is not defined on f32/);
  });
  it('rejects float-only ops on integers with a clear message', () => {
    expect(() =>
      runKernel(
        [
          { dtype: 'int32', length: 2 },
          { dtype: 'int32', length: 2 },
        ],
        ([A, B]) => [loop('i', 2, [store(B, v('i'), un('sqrt', load(A, v('i'))))])],
      ),
    ).toThrow(/kernel 'test kernel'.*sqrt is not defined on i32/);
  });
});
