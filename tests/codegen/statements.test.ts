import binaryen from 'binaryen';
import { describe, expect, it } from 'vitest';
import { f32, i32, store, v } from '../../src/kernels/build.js';
import { compileProgram, evaluateProgram } from '../../src/codegen/wasm/index.js';
import type { Program } from '../../src/kernels/ir.js';
import { LOOP_NEST_CASES, STATEMENT_CASES } from './cases/statements.js';
import { STORAGE_CASES } from './cases/storage.js';
import { describeCases } from './cases/case.js';
import { place, programOf, wasmTarget } from './harness.js';

describeCases(wasmTarget, 'statements', STATEMENT_CASES);
describeCases(wasmTarget, 'loop nests', LOOP_NEST_CASES);
describeCases(wasmTarget, 'storage dtypes', STORAGE_CASES);

describe('wasm module', () => {
  it('exports exactly memory, init and run, with no imports and fixed memory size', () => {
    const bufs = place([{ dtype: 'float32', length: 70000 }]);
    const program = { ...programOf(bufs, []), memoryBytes: 3 * 65536 + 1 };
    const mod = new WebAssembly.Module(compileProgram(program));
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
    expect(
      WebAssembly.Module.exports(mod)
        .map((e) => `${e.name}:${e.kind}`)
        .sort(),
    ).toEqual(['init:function', 'memory:memory', 'run:function']);
    const inst = new WebAssembly.Instance(mod, {});
    const mem = inst.exports.memory as WebAssembly.Memory;
    expect(mem.buffer.byteLength).toBe(4 * 65536);
    expect(() => mem.grow(1)).toThrow();
    const empty = new WebAssembly.Instance(
      new WebAssembly.Module(compileProgram({ buffers: [], memoryBytes: 0, init: [], run: [] })),
      {},
    );
    expect((empty.exports.memory as WebAssembly.Memory).buffer.byteLength).toBe(65536);
  });

  it('keeps each kernel a separate function named after it, also when optimized', () => {
    const bufs = place([{ dtype: 'float32', length: 4 }]);
    const program: Program = {
      ...programOf(bufs, []),
      run: [
        { name: 'conv/1', body: [store(bufs[0], i32(0), f32(1))] },
        { name: 'relu', body: [store(bufs[0], i32(1), f32(2))] },
      ],
    };
    const mod = binaryen.readBinary(compileProgram(program));
    const text = mod.emitText();
    mod.dispose();
    expect(text).toMatch(/\(func \$run\s+\(call \$kernel\.0\.conv_1\)\s+\(call \$kernel\.1\.relu\)/);
  });

  it('reports unknown buffers, undeclared variables and wrong input sizes clearly', () => {
    const bufs = place([{ dtype: 'float32', length: 2 }]);
    const stray = { id: 7, dtype: 'float32' as const, length: 1 };
    expect(() => evaluateProgram(programOf(bufs, [store(stray, i32(0), f32(1))]), [], [])).toThrow(
      /kernel 'test kernel'.*buffer #7 \(float32\) is not placed/,
    );
    expect(() => evaluateProgram(programOf(bufs, [store(bufs[0], v('q'), f32(1))]), [], [])).toThrow(
      /variable 'q' is used before it is declared/,
    );
    expect(() =>
      evaluateProgram(programOf(bufs, []), [{ buf: bufs[0], data: new Float32Array(3) }], []),
    ).toThrow(/input buffer #0 \(float32\[2\]\) needs 8 bytes, got 12/);
  });
});
