/**
 * Every scalar op and cast on the GPU, over edge values, against the shared references: integers and the
 * float ops IEEE rounds once exactly, the math functions within WGSL's accuracy; 64-bit cases refused.
 */
import { BINARY_CASES, CAST_CASES, COMPARISON_CASES, UNARY_CASES } from '../cases/scalar-ops.js';
import { MATH_CASES } from '../cases/math.js';
import { describeCases } from '../cases/case.js';
import { webgpuTarget } from './harness.js';

describeCases(webgpuTarget, 'wgsl binary ops', BINARY_CASES);
describeCases(webgpuTarget, 'wgsl comparisons', COMPARISON_CASES);
describeCases(webgpuTarget, 'wgsl unary ops', UNARY_CASES);
describeCases(webgpuTarget, 'wgsl casts', CAST_CASES);
describeCases(webgpuTarget, 'wgsl math functions', MATH_CASES);
