/**
 * Run-time sizes on the wasm target: each kernel compiled once (plain and optimized) runs at
 * several symbol values written into the dims block, matching the Kernel IR interpreter; and what the
 * generator does with a run-time extent (reads the dims block, vectorizes with a run-time tail).
 */
import { describe, expect, it } from 'vitest';
import { compileProgram, programToWat } from '../../src/codegen/wasm/index.js';
import { DTYPES } from '../../src/ir/dtype.js';
import { add, cmp, dim, f32, i32, load, local, loop, set, store, v, when } from '../../src/kernels/build.js';
import { expectClose } from './cases/case.js';
import { interpretSymbolic, programOfSymbolic, runInputs, SYMBOLIC_CASES } from './cases/symbolic.js';
import { place, programOf, type NumDType } from './program.js';

const VARIANTS = [
  { name: 'plain', opts: { optimize: false } },
  { name: 'optimized', opts: { optimize: true } },
];

describe('wasm: kernels over run-time sizes', () => {
  for (const c of SYMBOLIC_CASES)
    it(`${c.name}: compiled once, run at ${c.runs.length} sizes`, () => {
      const { program, bufs, dimsBuf } = programOfSymbolic(c);
      for (const { name, opts } of VARIANTS) {
        const instance = new WebAssembly.Instance(new WebAssembly.Module(compileProgram(program, opts)), {});
        const memory = instance.exports.memory as WebAssembly.Memory;
        c.runs.forEach((values, r) => {
          const inputs = runInputs(c, values, r);
          [...bufs, dimsBuf].forEach((b, i) =>
            new Uint8Array(memory.buffer, b.offset, inputs[i].byteLength).set(
              new Uint8Array(inputs[i].buffer),
            ),
          );
          (instance.exports.run as () => void)();
          const want = interpretSymbolic(c, program, bufs, inputs, values);
          bufs.forEach((b, i) => {
            const info = DTYPES[b.dtype as NumDType];
            const got = new info.array(b.length);
            new Uint8Array(got.buffer).set(new Uint8Array(memory.buffer, b.offset, b.length * info.bytes));
            expectClose(got, want[i], { rel: 1e-6 }, `${name} at ${JSON.stringify(values)}, buffer ${i}`);
          });
        });
      }
    });

  it('reads symbols from the dims block and vectorizes a run-time loop with a run-time tail', () => {
    const { program, dimsBuf } = programOfSymbolic(SYMBOLIC_CASES[0]);
    const wat = programToWat(program);
    expect(wat).toContain(`(i32.load offset=${dimsBuf.offset} (i32.const 0))`);
    expect(wat).toMatch(/f32x4\.mul/);
    expect(wat).toMatch(/i32\.and \(local\.get \$\d+_n\) \(i32\.const -4\)/);
  });

  it('refuses a dims block that is misaligned, outside memory or over a buffer', () => {
    const { program, bufs } = programOfSymbolic(SYMBOLIC_CASES[0]);
    const at = (offset: number) => ({ ...program, dims: { ...program.dims!, offset } });
    expect(() => programToWat(at(program.dims!.offset + 4))).toThrow(
      /^wasm codegen: the dims block at \d+ is not 16-byte aligned/,
    );
    expect(() => programToWat(at(Math.ceil(program.memoryBytes / 16) * 16))).toThrow(
      /ends past the program's \d+ bytes of memory/,
    );
    expect(() => programToWat(at(bufs[1].offset))).toThrow(
      new RegExp(`the dims block \\[${bufs[1].offset}, \\d+\\) overlaps buffer #1`),
    );
  });

  it('lets a kernel store a computed size (computedBy) into its dims-block word, which a later kernel reads', () => {
    // buffer 0: 8 floats in; buffer 1: 8 floats out; the dims block holds [n (input-bound), count (computed)]
    const [x, y] = place([
      { dtype: 'float32', length: 8 },
      { dtype: 'float32', length: 8 },
    ]);
    const offset = Math.ceil((y.offset + 32 + 16) / 16) * 16;
    const word = { id: 2, dtype: 'int32' as const, length: 1, offset: offset + 4 };
    const symbols = [
      { name: 'n', min: 0, max: 8 },
      { name: 'count', min: 0, max: 8, computedBy: 'positives' },
    ];
    const program = {
      buffers: [x, y, word],
      dims: { offset, symbols },
      memoryBytes: 65536,
      init: [],
      run: [
        {
          name: 'count positives',
          body: [
            local('c', 'i32', i32(0)),
            loop('i', dim('n'), [when(cmp('gt', load(x, v('i')), f32(0)), [set('c', add(v('c'), i32(1)))])]),
            store(word, i32(0), v('c')),
          ],
        },
        { name: 'fill', body: [loop('j', dim('count'), [store(y, v('j'), f32(1))])] },
      ],
    };
    const instance = new WebAssembly.Instance(new WebAssembly.Module(compileProgram(program)), {});
    const memory = (instance.exports.memory as WebAssembly.Memory).buffer;
    new Float32Array(memory, x.offset, 8).set([1, -1, 2, 0, 3, -2, 0, 4]);
    new Int32Array(memory, offset, 1)[0] = 8;
    (instance.exports.run as () => void)();
    expect(new Int32Array(memory, offset, 2)[1]).toBe(4);
    expect([...new Float32Array(memory, y.offset, 8)]).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    // the same buffer over a symbol the runtime writes is refused
    const inputBound = { ...program, dims: { offset, symbols: [symbols[1], symbols[0]] } };
    expect(() => programToWat(inputBound)).toThrow(/buffer #2 offset \d+ is not 16-byte aligned/);
  });

  it('loads each symbol once per function, not at every use inside its loops', () => {
    const rows = SYMBOLIC_CASES.find((c) => c.name.startsWith('row sums'))!;
    const { program, dimsBuf } = programOfSymbolic(rows);
    const wat = programToWat(program);
    const loadsOf = (at: number) => wat.split(`(i32.load offset=${at} (i32.const 0))`).length - 1;
    // rows once, cols once, although cols appears in both loops' extents and indices
    expect([loadsOf(dimsBuf.offset), loadsOf(dimsBuf.offset + 4)]).toEqual([1, 1]);
  });

  it('splits a large run-time loop into chunks as its upper bound would be, bounds computed at run time', () => {
    const large = SYMBOLIC_CASES.find((c) => c.name.endsWith('large enough to run in chunks'))!;
    const wat = programToWat(programOfSymbolic(large).program);
    // the f32x4 loop in 4 chunks of its groups of four, the i32 loop in 3 chunks of its iterations
    expect(wat.match(/\(call \$kernel\.0\.test_kernel\.loop0 /g)).toHaveLength(4);
    expect(wat.match(/\(call \$kernel\.0\.test_kernel\.loop1 /g)).toHaveLength(3);
    expect(wat).toMatch(/i32\.div_u \(local\.get \$\d+_groups\) \(i32\.const 4\)/);
  });

  it('names the kernel and the symbol when a dim is not in the dims block', () => {
    const bufs = place([{ dtype: 'float32', length: 8 }]);
    const program = programOf(bufs, [loop('i', dim('seq'), [store(bufs[0], v('i'), f32(1))])]);
    expect(() => programToWat(program)).toThrow(
      /wasm codegen: kernel 'test kernel': shape symbol 'seq' is not in the program's dims block/,
    );
  });
});
