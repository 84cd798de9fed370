/** Runs small hand-built Programs and the shared kernel cases through the wasm code generator. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DTYPES, type TypedArray } from '../../src/ir/dtype.js';
import type { PlacedBuffer, Program, Stmt } from '../../src/kernels/ir.js';
import { evaluateProgram, compileProgram } from '../../src/codegen/wasm/index.js';
import { dataOf, programOfCase, type CodegenTarget } from './cases/case.js';
import { place, programOf, type Elements, type NumDType } from './program.js';

export { place, programOf, typed, type Elements, type NumDType } from './program.js';

/**
 * Run `body` over buffers: `inputs[i]` fills buffer i (or leaves it zero when undefined); returns every
 * buffer's contents afterwards.
 */
export function runKernel(
  specs: { dtype: NumDType; length: number; data?: TypedArray }[],
  body: (bufs: PlacedBuffer[]) => Stmt[],
  opts: { optimize?: boolean } = {},
): Elements[] {
  const bufs = place(specs);
  const program = programOf(bufs, body(bufs));
  if (opts.optimize)
    return runCompiled(
      program,
      specs.map((s, i) => ({ buf: bufs[i], data: s.data })),
      bufs,
    );
  const inputs = specs.flatMap((s, i) => (s.data ? [{ buf: bufs[i], data: s.data }] : []));
  return evaluateProgram(program, inputs, bufs);
}

/** Same as evaluateProgram but through the optimizing compile (the path bundles use). */
export function runCompiled(
  program: Program,
  inputs: { buf: PlacedBuffer; data?: TypedArray }[],
  outputs: PlacedBuffer[],
  relaxedSimd = false,
): Elements[] {
  const bytes = compileProgram(program, { optimize: true, relaxedSimd });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const memory = instance.exports.memory as WebAssembly.Memory;
  for (const { buf, data } of inputs)
    if (data)
      new Uint8Array(memory.buffer, buf.offset, data.byteLength).set(
        new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      );
  (instance.exports.init as () => void)();
  (instance.exports.run as () => void)();
  return outputs.map((buf) => {
    const info = DTYPES[buf.dtype as NumDType];
    const out = new info.array(buf.length);
    new Uint8Array(out.buffer).set(new Uint8Array(memory.buffer, buf.offset, buf.length * info.bytes));
    return out;
  });
}

/** Each case compiled without and with binaryen's optimizer (the path bundles take). */
export const wasmTarget: CodegenTarget = {
  name: 'wasm',
  async run(c) {
    const { program, bufs } = programOfCase(c);
    const inputs = c.buffers.map((s, i) => ({ buf: bufs[i], data: dataOf(s) }));
    const given = inputs.filter((i): i is { buf: PlacedBuffer; data: TypedArray } => !!i.data);
    return [
      { variant: 'wasm', buffers: evaluateProgram(program, given, bufs) },
      { variant: 'wasm optimized', buffers: runCompiled(program, inputs, bufs) },
    ];
  },
};

/**
 * Each case compiled (optimized) as the relaxed-SIMD module and run in a child node started with
 * --experimental-wasm-relaxed-simd, which Node 20 needs; the child writes back every buffer.
 */
export const relaxedWasmTarget: CodegenTarget = {
  name: 'wasm',
  async run(c) {
    const { program, bufs } = programOfCase(c);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-relaxed-case-'));
    try {
      writeFileSync(join(dir, 'm.wasm'), compileProgram(program, { optimize: true, relaxedSimd: true }));
      const layout = c.buffers.map((s, i) => {
        const data = dataOf(s);
        if (data)
          writeFileSync(
            join(dir, `in${i}.bin`),
            new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
          );
        const bytes = bufs[i].length * DTYPES[bufs[i].dtype as NumDType].bytes;
        return { offset: bufs[i].offset, bytes, given: !!data };
      });
      const script = `
        const { readFileSync, writeFileSync } = require('node:fs');
        const dir = process.argv[1];
        const inst = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(dir + '/m.wasm')), {});
        const mem = inst.exports.memory.buffer;
        const layout = ${JSON.stringify(layout)};
        layout.forEach((b, i) => b.given && new Uint8Array(mem, b.offset, b.bytes).set(readFileSync(dir + '/in' + i + '.bin')));
        inst.exports.init();
        inst.exports.run();
        layout.forEach((b, i) => writeFileSync(dir + '/out' + i + '.bin', new Uint8Array(mem, b.offset, b.bytes)));`;
      execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', script, dir]);
      const buffers = bufs.map((buf, i) => {
        const bytes = readFileSync(join(dir, `out${i}.bin`));
        const out = new DTYPES[buf.dtype as NumDType].array(buf.length);
        new Uint8Array(out.buffer).set(bytes);
        return out;
      });
      return [{ variant: 'wasm relaxed SIMD', buffers }];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
