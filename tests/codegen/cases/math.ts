/**
 * The math library's functions against JavaScript's (C99 semantics), on a moderate float32 domain every
 * target covers; targets differ in accuracy (wasm: correctly rounded f64 math, WGSL: its built-ins' bounds).
 */
import { bin, un } from '../../../src/kernels/build.js';
import type { UnOp } from '../../../src/kernels/ir.js';
import type { KernelCase, Tolerance } from './case.js';
import { binaryCase, unaryCase } from './scalar-ops.js';

/** erf by its everywhere-positive series e^{-x²}·Σ 2^n x^{2n+1} / (1·3···(2n+1)), good to ~1e-15. */
export function erfRef(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 400 && term > sum * 1e-18; n++) {
    term *= (2 * ax * ax) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum);
}

export const MATH_REF: Record<string, (x: number) => number> = {
  exp: Math.exp,
  log: Math.log,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
  erf: erfRef,
};

/** C99 pow differs from JS Math.pow only where C defines 1: pow(1, y) and pow(-1, ±inf). */
export const c99pow = (x: number, y: number) =>
  x === 1 || (x === -1 && Math.abs(y) === Infinity) ? 1 : Math.pow(x, y);

const MODERATE = [0, -0, 0.1, -0.3, 0.5, 0.9, -0.99, 1, -1, 1.5, 2, -3, 10, 20, -40, 100];
const PAIRS = [0, -0, 0.5, -0.5, 1, -1, 2, -2, 3, -3, 0.25, 10, 30, -7, Infinity, -Infinity, NaN];

const within = (wasm: Tolerance, webgpu: Tolerance) => ({ wasm, webgpu });

export const MATH_CASES: KernelCase[] = [
  ...Object.entries(MATH_REF).map(([op, ref]) => ({
    ...unaryCase(`f32 ${op}`, 'f32', 'f32', (a) => un(op as UnOp, a), ref, MODERATE),
    tolerance: within({ ulps: 2 }, { rel: 4e-6, abs: 1e-6 }),
  })),
  {
    ...binaryCase(
      'f32 pow (C99: negative bases, zeros, infinities)',
      'f32',
      'f32',
      (a, b) => bin('pow', a, b),
      c99pow,
      PAIRS,
    ),
    tolerance: within({ ulps: 2 }, { rel: 1e-5 }),
  },
  {
    ...binaryCase(
      'f32 atan2 in every quadrant',
      'f32',
      'f32',
      (a, b) => bin('atan2', a, b),
      Math.atan2,
      PAIRS,
    ),
    tolerance: within({ ulps: 2 }, { rel: 1e-6, abs: 1e-7 }),
  },
];
