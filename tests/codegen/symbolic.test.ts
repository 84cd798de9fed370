/**
 * Run-time sizes on the wasm target: each kernel compiled once (plain and optimized) runs at
 * several symbol values written into the dims block, matching the Kernel IR interpreter; and what the
 * generator does with a run-time extent (reads the dims block, vectorizes with a run-time tail).
 */
import { describe, expect, it } from 'vitest';
import { compileProgram, programToWat } from '../../src/codegen/wasm/index.js';
import { DTYPES } from '../../src/ir/dtype.js';
import { dim, f32, loop, store, v } from '../../src/kernels/build.js';
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
