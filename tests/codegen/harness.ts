/** Runs small hand-built Programs and the shared kernel cases through the wasm code generator. */
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
