/**
 * One core's SIMD128 (and relaxed) peak, measured in a child process so that binaryen stays out of the
 * timing process:  tsx probe.ts TIME_MS → {"simd128","relaxed"} GFLOP/s
 */
import { measureSimdPeak } from '../../src/cli/simd-peak.js';

console.log(JSON.stringify(measureSimdPeak({ timeMs: Number(process.argv[2]) })));
