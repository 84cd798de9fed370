/** Builds small Programs by hand and runs them through the wasm code generator. */
import { DTYPES, type DType, type TypedArray } from '../../src/ir/dtype.js';
import type { PlacedBuffer, Program, Stmt } from '../../src/kernels/ir.js';
import { evaluateProgram, compileProgram } from '../../src/codegen/wasm/index.js';

export type NumDType = Exclude<DType, 'string'>;

/** Kernel results as loosely typed element lists (number or bigint per dtype), so tests compare them simply. */
export type Elements = ArrayLike<any>;

/** A typed array of the given dtype holding `values`. */
export function typed(dtype: NumDType, values: readonly (number | bigint)[]): TypedArray {
  const out = new DTYPES[dtype].array(values.length);
  values.forEach((x, i) => ((out as Elements as unknown[])[i] = x));
  return out;
}

/** Place buffers one after another, 16-byte aligned, starting past a guard region. */
export function place(specs: { dtype: NumDType; length: number }[]): PlacedBuffer[] {
  let offset = 64;
  return specs.map((s, id) => {
    const buf = { id, dtype: s.dtype, length: s.length, offset };
    offset += Math.ceil((s.length * DTYPES[s.dtype].bytes) / 16) * 16 + 16;
    return buf;
  });
}

export function programOf(bufs: PlacedBuffer[], run: Stmt[], init: Stmt[] = []): Program {
  const end = Math.max(64, ...bufs.map((b) => b.offset + b.length * DTYPES[b.dtype as NumDType].bytes));
  return {
    buffers: bufs,
    memoryBytes: end + 64,
    init: init.length ? [{ name: 'init-kernel', body: init }] : [],
    run: [{ name: 'test kernel', body: run }],
  };
}

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
