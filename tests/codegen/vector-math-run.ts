/**
 * Shared by tests/codegen/vector-math.test.ts and its relaxed-SIMD child: compiles y[i] = op(x[i]) as one
 * vectorized loop (the f32x4 math helpers) and runs it over the given inputs.
 */
import { compileProgram } from '../../src/codegen/wasm/index.js';
import { f32, load, loop, max, min, store, un, v } from '../../src/kernels/build.js';
import { place, programOf } from './program.js';

export type VectorMathOp = 'exp' | 'log' | 'erf' | 'tanh';

export interface VectorMathModule {
  bytes: Uint8Array;
  x: number;
  y: number;
}

/**
 * With `clamp` [lo, hi], y[i] = op(min(max(x[i], lo), hi)): an argument clamped by constants (exp's bounded
 * helper).
 */
export function vectorMathModule(
  op: VectorMathOp,
  n: number,
  relaxedSimd: boolean,
  clamp?: [number, number],
): VectorMathModule {
  const bufs = place([
    { dtype: 'float32', length: n },
    { dtype: 'float32', length: n },
  ]);
  const [X, Y] = bufs;
  const x = load(X, v('i'));
  const arg = clamp ? min(max(x, f32(clamp[0])), f32(clamp[1])) : x;
  const program = programOf(bufs, [loop('i', n, [store(Y, v('i'), un(op, arg))])]);
  return { bytes: compileProgram(program, { optimize: true, relaxedSimd }), x: X.offset, y: Y.offset };
}

/** Runs a module from vectorMathModule on x (x.length = n). */
export function runVectorMath(m: VectorMathModule, x: Float32Array): Float32Array {
  const bytes = m.bytes;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {});
  const memory = instance.exports.memory as WebAssembly.Memory;
  (instance.exports.init as () => void)();
  new Float32Array(memory.buffer, m.x, x.length).set(x);
  (instance.exports.run as () => void)();
  return new Float32Array(memory.buffer, m.y, x.length).slice();
}
