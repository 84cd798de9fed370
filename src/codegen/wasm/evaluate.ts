/** Runs a Program once, synchronously: how the compiler folds constants. */
import { DTYPES, type TypedArray } from '../../ir/dtype.js';
import type { PlacedBuffer, Program } from '../../kernels/ir.js';
import { compileProgram } from './module.js';

function bufferBytes(buf: PlacedBuffer): number {
  if (buf.dtype === 'string') throw new Error(`evaluateProgram: buffer #${buf.id} is a string buffer`);
  return buf.length * DTYPES[buf.dtype].bytes;
}

/** Compile without optimizing, write `inputs`, call init() then run(), and return copies of `outputs`. */
export function evaluateProgram(
  program: Program,
  inputs: { buf: PlacedBuffer; data: TypedArray }[],
  outputs: PlacedBuffer[],
): TypedArray[] {
  const bytes = compileProgram(program, { optimize: false });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const memory = instance.exports.memory as WebAssembly.Memory;
  for (const { buf, data } of inputs) {
    const n = bufferBytes(buf);
    if (data.byteLength !== n)
      throw new Error(
        `evaluateProgram: input buffer #${buf.id} (${buf.dtype}[${buf.length}]) needs ${n} bytes, got ${data.byteLength}`,
      );
    new Uint8Array(memory.buffer, buf.offset, n).set(new Uint8Array(data.buffer, data.byteOffset, n));
  }
  (instance.exports.init as () => void)();
  (instance.exports.run as () => void)();
  return outputs.map((buf) => {
    const n = bufferBytes(buf);
    const out = new DTYPES[buf.dtype as keyof typeof DTYPES].array(buf.length);
    new Uint8Array(out.buffer).set(new Uint8Array(memory.buffer, buf.offset, n));
    return out;
  });
}
