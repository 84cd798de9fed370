/** Statements and kernel order on the GPU (the shared cases), and how kernels become dispatches. */
import { describe, expect, it } from 'vitest';
import { f32, i32, store, v } from '../../../src/kernels/build.js';
import { compileProgramWgsl } from '../../../src/codegen/wgsl/index.js';
import type { Program } from '../../../src/kernels/ir.js';
import { INIT_ORDER_CASE, ONE_TRIP_LOOPS_CASE, STATEMENT_CASES } from '../cases/statements.js';
import { describeCases } from '../cases/case.js';
import { place, programOf } from '../program.js';
import { compileCase, webgpuTarget } from './harness.js';

describeCases(webgpuTarget, 'wgsl statements', STATEMENT_CASES);

describe('wgsl dispatches', () => {
  it('one entry point per kernel, init before run, named after the kernel', () => {
    const compiled = compileCase(INIT_ORDER_CASE);
    expect(compiled.init.map((d) => d.entry)).toEqual(['k0_a', 'k1_a']);
    expect(compiled.run.map((d) => [d.entry, d.kernel])).toEqual([
      ['k2_r_1', 'r/1'],
      ['k3_r_2', 'r-2'],
    ]);
  });

  it('one-trip loops dissolve and independent top-level statements become separate dispatches', () => {
    const compiled = compileCase(ONE_TRIP_LOOPS_CASE);
    expect(compiled.run.map((d) => d.workgroups)).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(compiled.code).toMatch(/if \(gid >= 64u\)/);
  });

  it('reports unknown buffers, undeclared variables and type errors with the kernel name', () => {
    // the wasm generator's messages, with the webgpu prefix
    const bufs = place([{ dtype: 'float32', length: 2 }]);
    const stray = { id: 7, dtype: 'float32' as const, length: 1 };
    const compile = (p: Program) => () => compileProgramWgsl(p);
    expect(compile(programOf(bufs, [store(stray, i32(0), f32(1))]))).toThrow(
      /webgpu codegen: kernel "test kernel": store to buffer #7 \(float32\) is not placed/,
    );
    expect(compile(programOf(bufs, [store(bufs[0], v('q'), f32(1))]))).toThrow(
      /variable 'q' is used before it is declared/,
    );
    expect(compile(programOf(bufs, [store(bufs[0], i32(0), i32(1))]))).toThrow(
      /store of i32 into buffer #0 \(float32\)/,
    );
  });
});
