import binaryen from 'binaryen';
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
} from '../../src/kernels/build.js';
import { compileProgram, evaluateProgram } from '../../src/codegen/wasm/index.js';
import type { Program } from '../../src/kernels/ir.js';
import { place, programOf, runKernel, typed, type NumDType } from './harness.js';

describe('statements', () => {
  it('nested loops, locals, set and if/else', () => {
    // out[i*4+j] = sum_{k<=j} (i+k), negated when i is odd
    const [out] = runKernel([{ dtype: 'int32', length: 12 }], ([O]) => [
      loop('i', 3, [
        loop('j', 4, [
          local('acc', 'i32', i32(0)),
          loop('k', 4, [when(cmp('le', v('k'), v('j')), [set('acc', add(v('acc'), add(v('i'), v('k'))))])]),
          when(
            cmp('eq', { k: 'bin', t: 'i32', op: 'and', a: v('i'), b: i32(1) }, i32(1)),
            [store(O, add(mul(v('i'), i32(4)), v('j')), { k: 'un', t: 'i32', op: 'neg', a: v('acc') })],
            [store(O, add(mul(v('i'), i32(4)), v('j')), v('acc'))],
          ),
        ]),
      ]),
    ]);
    const ref: number[] = [];
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 4; j++) {
        let acc = 0;
        for (let k = 0; k <= j; k++) acc += i + k;
        ref.push(i % 2 ? -acc : acc);
      }
    expect(Array.from(out)).toEqual(ref);
  });

  it('loops of 0 and 1 iterations, and sibling loops reusing a name', () => {
    const [out] = runKernel([{ dtype: 'int32', length: 4 }], ([O]) => [
      loop('i', 0, [store(O, i32(0), i32(99))]),
      loop('i', 1, [store(O, add(v('i'), i32(1)), i32(5))]),
      loop('i', 2, [store(O, add(v('i'), i32(2)), add(v('i'), i32(7)))]),
    ]);
    expect(Array.from(out)).toEqual([0, 5, 7, 8]);
  });

  it('select evaluates per element and negative constant index offsets stay correct', () => {
    const data = Float32Array.from([1, -2, 3, -4, 5]);
    const [, out] = runKernel(
      [
        { dtype: 'float32', length: 5, data },
        { dtype: 'float32', length: 4 },
      ],
      ([A, B]) => [
        loop('i', 4, [
          store(B, v('i'), select(cmp('gt', load(A, add(v('i'), i32(1))), f32(0)), load(A, v('i')), f32(-1))),
        ]),
      ],
    );
    expect(Array.from(out)).toEqual([-1, -2, -1, -4]);
    // element i + big - 100000: the constant part is too negative for the offset immediate
    const [, o2] = runKernel(
      [
        { dtype: 'float32', length: 5, data },
        { dtype: 'float32', length: 4 },
      ],
      ([A, B]) => [
        local('big', 'i32', i32(100001)),
        loop('i', 4, [store(B, v('i'), load(A, add(add(v('i'), v('big')), i32(-100000))))]),
      ],
    );
    expect(Array.from(o2)).toEqual([-2, 3, -4, 5]);
  });

  it('init kernels run before run kernels, each in order', () => {
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
    expect(Array.from(evaluateProgram(program, [], [B])[0] as Int32Array)).toEqual([30, 62]);
  });

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

describe('storage dtypes', () => {
  const CASES: { dtype: NumDType; values: (number | bigint)[] }[] = [
    { dtype: 'int8', values: [0, 1, -1, 127, -128] },
    { dtype: 'uint8', values: [0, 1, 255, 128] },
    { dtype: 'bool', values: [0, 1, 1, 0] },
    { dtype: 'int16', values: [0, -1, 32767, -32768] },
    { dtype: 'uint16', values: [0, 65535, 32768] },
    { dtype: 'int32', values: [0, -1, 2147483647, -2147483648] },
    { dtype: 'uint32', values: [0, 4294967295, 2147483648] },
    { dtype: 'int64', values: [0n, -1n, (1n << 63n) - 1n, -(1n << 63n)] },
    { dtype: 'uint64', values: [0n, (1n << 64n) - 1n, 1n << 63n] },
    { dtype: 'float32', values: [0, -0, 1.5, NaN, -Infinity, 3.4e38, 1e-45] },
    { dtype: 'float64', values: [0, -0, 1 / 3, NaN, Infinity, 5e-324] },
  ];
  for (const c of CASES)
    it(`${c.dtype} round-trips through its compute type`, () => {
      const data = typed(c.dtype, c.values);
      const n = data.length;
      const [, out] = runKernel(
        [
          { dtype: c.dtype, length: n, data },
          { dtype: c.dtype, length: n },
        ],
        ([A, B]) => [loop('i', n, [store(B, v('i'), load(A, v('i')))])],
      );
      expect(Array.from(out)).toEqual(Array.from(data as ArrayLike<number | bigint>));
    });

  it('narrow stores wrap and narrow loads sign- or zero-extend', () => {
    const vals = Int32Array.from([300, -1, 65537, -129]);
    const [, i8, u8, i16, u16, back] = runKernel(
      [
        { dtype: 'int32', length: 4, data: vals },
        { dtype: 'int8', length: 4 },
        { dtype: 'uint8', length: 4 },
        { dtype: 'int16', length: 4 },
        { dtype: 'uint16', length: 4 },
        { dtype: 'int32', length: 16 },
      ],
      ([A, B, C, D, E, R]) => [
        loop('i', 4, [
          store(B, v('i'), load(A, v('i'))),
          store(C, v('i'), load(A, v('i'))),
          store(D, v('i'), load(A, v('i'))),
          store(E, v('i'), load(A, v('i'))),
        ]),
        loop('i', 4, [
          store(R, v('i'), load(B, v('i'))),
          store(R, add(v('i'), i32(4)), load(C, v('i'))),
          store(R, add(v('i'), i32(8)), load(D, v('i'))),
          store(R, add(v('i'), i32(12)), load(E, v('i'))),
        ]),
      ],
    );
    expect(Array.from(i8)).toEqual([44, -1, 1, 127]);
    expect(Array.from(u8)).toEqual([44, 255, 1, 127]);
    expect(Array.from(i16)).toEqual([300, -1, 1, -129]);
    expect(Array.from(u16)).toEqual([300, 65535, 1, 65407]);
    expect(Array.from(back)).toEqual([
      44, -1, 1, 127, 44, 255, 1, 127, 300, -1, 1, -129, 300, 65535, 1, 65407,
    ]);
  });
});
