/**
 * Shared by tests/codegen/vector-math.test.ts and its relaxed-SIMD child: compiles y[i] = op(x[i]) as one
 * vectorized loop (the f32x4 math helpers) and runs it over the given inputs.
 */
import { compileProgram } from '../../src/codegen/wasm/index.js';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Expr } from '../../src/kernels/ir.js';
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
  return vectorModule(n, relaxedSimd, (x) => un(op, clamp ? min(max(x, f32(clamp[0])), f32(clamp[1])) : x));
}

/** y[i] = f(x[i]) as one vectorized loop over n elements. */
export function vectorModule(n: number, relaxedSimd: boolean, f: (x: Expr) => Expr): VectorMathModule {
  const bufs = place([
    { dtype: 'float32', length: n },
    { dtype: 'float32', length: n },
  ]);
  const [X, Y] = bufs;
  const program = programOf(bufs, [loop('i', n, [store(Y, v('i'), f(load(X, v('i'))))])]);
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

/**
 * Runs a module (relaxed SIMD) on x in a child node that has the relaxed-SIMD flag (Node 20 needs it),
 * through files in `dir`.
 */
export async function runVectorMathInChild(
  dir: string,
  m: VectorMathModule,
  x: Float32Array,
): Promise<Float32Array> {
  await writeFile(join(dir, 'm.wasm'), m.bytes);
  await writeFile(join(dir, 'x.bin'), new Uint8Array(x.buffer));
  const script = `
    import { readFileSync, writeFileSync } from 'node:fs';
    const [dir, xo, yo] = process.argv.slice(1);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(dir + '/m.wasm')), {});
    const mem = inst.exports.memory;
    inst.exports.init();
    const x = new Float32Array(new Uint8Array(readFileSync(dir + '/x.bin')).buffer);
    new Float32Array(mem.buffer, +xo, x.length).set(x);
    inst.exports.run();
    writeFileSync(dir + '/y.bin', new Uint8Array(mem.buffer, +yo, x.length * 4));`;
  await new Promise<void>((resolve, reject) =>
    execFile(
      process.execPath,
      [
        '--experimental-wasm-relaxed-simd',
        '--input-type=module',
        '-e',
        script,
        dir,
        String(m.x),
        String(m.y),
      ],
      (err, _out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve()),
    ),
  );
  const y = await readFile(join(dir, 'y.bin'));
  return new Float32Array(y.buffer.slice(y.byteOffset, y.byteOffset + y.byteLength));
}

/** erf in f64: its Maclaurin series below 2.5 (about 1e-13 relative), 1 − the erfc continued fraction above. */
export function erf64(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  let r: number;
  if (a < 2.5) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-300; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else if (a < 10) {
    let f = a;
    for (let k = 120; k >= 1; k--) f = a + k / 2 / f;
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  } else r = 1;
  return x < 0 || Object.is(x, -0) ? -r : r;
}
