/**
 * The math library's functions against JavaScript's (C99 semantics), on a moderate float32 domain every
 * target covers; targets differ in accuracy (wasm: correctly rounded f64 math, WGSL: its built-ins' bounds).
 */
import { bin, un } from '../../../src/kernels/build.js';
import type { UnOp } from '../../../src/kernels/ir.js';
import { FLOAT_MATH, powC } from '../../../src/kernels/interpret.js';
import type { KernelCase, Tolerance } from './case.js';
import { binaryCase, unaryCase } from './scalar-ops.js';

/** The Kernel IR spec's functions: what every target's math library approximates. */
export const MATH_REF: Record<string, (x: number) => number> = FLOAT_MATH;

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
      powC,
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
