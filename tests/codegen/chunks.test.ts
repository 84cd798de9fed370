/**
 * Large kernels' heavy loops become functions called in chunks (src/codegen/wasm/chunks.ts): the structure
 * of the module, and outputs identical to the unsplit form. No timings here: scripts/perf/first-run.ts.
 */
import binaryen from 'binaryen';
import { describe, expect, it } from 'vitest';
import { compileProgram, programToWat, type WasmOptions } from '../../src/codegen/wasm/index.js';
import { add, f32, i32, load, local, loop, mul, set, store, un, v } from '../../src/kernels/build.js';
import type { PlacedBuffer, Program, Stmt } from '../../src/kernels/ir.js';
import { CHUNK_WORK, chunkCount, MAX_CHUNKS, workOf } from '../../src/codegen/wasm/chunks.js';
import { gemmCase, gemmInputs, type GemmShape } from './cases/gemm.js';
import { programOfCase } from './cases/case.js';
import { place, programOf } from './program.js';

/** Runs a program compiled with `opts`, buffers filled from `inputs`, and returns every buffer's bytes. */
function run(program: Program, inputs: (Float32Array | undefined)[], opts: WasmOptions): Uint8Array[] {
  const bytes = compileProgram(program, opts);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const memory = instance.exports.memory as WebAssembly.Memory;
  const bufs = program.buffers;
  inputs.forEach((data, i) => {
    if (data) new Float32Array(memory.buffer, bufs[i].offset, data.length).set(data);
  });
  (instance.exports.init as () => void)();
  (instance.exports.run as () => void)();
  return bufs.map((b) => new Uint8Array(memory.buffer, b.offset, b.length * 4).slice());
}

/** Functions split off the kernel and how often each is called. */
function chunkCalls(wat: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const [, id] of wat.matchAll(/\(call (\$kernel\.0\.[^ )]*\.[a-z]+\d+) /g))
    calls.set(id, (calls.get(id) ?? 0) + 1);
  return calls;
}

function expectSameOutputs(program: Program, inputs: (Float32Array | undefined)[]): void {
  for (const optimize of [false, true]) {
    const split = run(program, inputs, { optimize });
    const whole = run(program, inputs, { optimize, chunks: false });
    split.forEach((bytes, i) => expect(Buffer.compare(bytes, whole[i]), `buffer ${i}`).toBe(0));
  }
}

describe('large kernels are split into chunk functions', () => {
  const gemmProgram = (shape: GemmShape) => programOfCase(gemmCase('gemm', shape)).program;

  const shapes: [string, GemmShape][] = [
    // N ≥ M: packed B panels, the panel loop is split (plus M and N tails)
    ['panel loop', { M: 62, N: 300, K: 120, bias: { offset: 0, rs: 1, cs: 0 }, act: { op: 'relu' } }],
    // M > N: every panel packed first, the row-block loop is split
    ['row blocks over panels', { M: 303, N: 45, K: 150 }],
    // B transposed: dot-product tiles, row blocks split
    ['dot form', { M: 151, N: 70, K: 120, b: { rs: 1, cs: 120 } }],
    // a matrix-vector product (a fully connected layer, batch 1): the column tiles split instead
    [
      'one row, dot form',
      { M: 1, N: 1003, K: 2050, b: { rs: 1, cs: 2050 }, bias: { offset: 0, rs: 0, cs: 1 } },
    ],
    ['one row, broadcast form', { M: 1, N: 1003, K: 1100 }],
  ];
  for (const [what, shape] of shapes) {
    it(`gemm, ${what}: called in chunks, same outputs as one function`, () => {
      const program = gemmProgram(shape);
      const wat = programToWat(program);
      const calls = chunkCalls(wat);
      expect(calls.size).toBeGreaterThan(0);
      const work = shape.M * shape.N * shape.K;
      const most = Math.max(...calls.values());
      expect(most).toBeGreaterThanOrEqual(Math.min(MAX_CHUNKS, Math.floor(work / CHUNK_WORK)) / 2);
      expect(most).toBeLessThanOrEqual(MAX_CHUNKS);
      expect(chunkCalls(programToWat(program, { chunks: false })).size).toBe(0);
      // the optimizer keeps them apart (no-inline), so V8 sees a function called many times
      const optimized = binaryen.readBinary(compileProgram(program));
      try {
        const names = Array.from(
          { length: optimized.getNumFunctions() },
          (_, i) => binaryen.getFunctionInfo(optimized.getFunctionByIndex(i)).name,
        );
        for (const id of calls.keys()) expect(names).toContain(id.slice(1));
      } finally {
        optimized.dispose();
      }
      const [A, B, Bias, C] = gemmInputs(shape);
      expectSameOutputs(program, [A, B, Bias, C]);
    });
  }

  /** y[i, j] = sqrt(|x[i, j]|)·2 + row sum of x over a window: loops with locals, inner loops, a reduction */
  const irKernel = (rows: number, cols: number, [X, Y]: PlacedBuffer[]): Stmt[] => [
    loop('i', rows, [
      local('s', 'f32', f32(0)),
      loop('w', 16, [set('s', add(v('s', 'f32'), load(X, add(mul(v('i'), i32(cols)), v('w')))))]),
      loop('j', cols, [
        store(
          Y,
          add(mul(v('i'), i32(cols)), v('j')),
          add(mul(un('sqrt', load(X, add(mul(v('i'), i32(cols)), v('j')))), f32(2)), v('s', 'f32')),
        ),
      ]),
    ]),
  ];

  it('a large loop nest of Kernel IR: outer loop called in chunks over (lo, hi), same outputs', () => {
    const [rows, cols] = [1000, 700];
    const bufs = place([
      { dtype: 'float32', length: rows * cols },
      { dtype: 'float32', length: rows * cols },
    ]);
    const body = irKernel(rows, cols, bufs);
    const program = programOf(bufs, body);
    const wat = programToWat(program);
    const calls = [...chunkCalls(wat)];
    expect(calls).toHaveLength(1);
    expect(calls[0][0]).toMatch(/^\$kernel\.0\.test_kernel\.loop\d+$/);
    expect(calls[0][1]).toBe(chunkCount(rows, workOf(body, Number)));
    expect(calls[0][1]).toBeGreaterThan(8);
    const X = Float32Array.from({ length: rows * cols }, (_, i) => Math.abs(Math.sin(i)));
    expectSameOutputs(program, [X, undefined]);
  });

  it('a large vectorized loop: f32x4 groups called in chunks, the scalar tail in the kernel, same outputs', () => {
    const n = 3 * (1 << 18) + 3;
    const bufs = place([
      { dtype: 'float32', length: n },
      { dtype: 'float32', length: n },
    ]);
    const [X, Y] = bufs;
    const body = [loop('i', n, [store(Y, v('i'), add(mul(load(X, v('i')), f32(2)), f32(1)))])];
    const program = programOf(bufs, body);
    const wat = programToWat(program);
    const calls = [...chunkCalls(wat)];
    expect(calls).toHaveLength(1);
    expect(calls[0][1]).toBe(chunkCount(n, workOf(body, Number)));
    expect(wat).toMatch(/f32x4\.mul/);
    const x = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
    expectSameOutputs(program, [x, undefined]);
  });

  it('small kernels and reductions into outer locals stay whole', () => {
    const small = place([
      { dtype: 'float32', length: 64 * 64 },
      { dtype: 'float32', length: 64 * 64 },
    ]);
    expect(chunkCalls(programToWat(programOf(small, irKernel(64, 64, small)))).size).toBe(0);
    // one accumulator across the whole loop: the loop cannot move into a function of its own
    const n = 1 << 21;
    const [X, Y] = place([
      { dtype: 'float32', length: n },
      { dtype: 'float32', length: 1 },
    ]);
    const sum = [
      local('acc', 'f32', f32(0)),
      loop('i', n, [set('acc', add(v('acc', 'f32'), load(X, v('i'))))]),
      store(Y, i32(0), v('acc', 'f32')),
    ];
    expect(chunkCalls(programToWat(programOf([X, Y], sum))).size).toBe(0);
  });
});
