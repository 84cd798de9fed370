/**
 * The measured arithmetic peak of one core for f32 SIMD128 in this engine: a wasm loop of independent
 * f32x4 multiply-adds (12 accumulators: with 8, latency-bound, it measured 36 GFLOP/s against 53 here on x86-64;
 * 14 spill), compiled by V8's optimizing tier up front
 * (a busy machine can delay background tier-up past any short warm-up). The
 * profiler and `npm run bench` quote achieved GFLOP/s as a share of this.
 */
import binaryen from 'binaryen';
import { compileOptimized } from '../runtime-node/v8-tiers.js';

const ACCUMULATORS = 12;
/** loop trips per call; each trip is ACCUMULATORS × 4 lanes × 2 flops */
const TRIPS = 1 << 16;

function probeWat(relaxed: boolean): string {
  const accs = Array.from({ length: ACCUMULATORS }, (_, i) => `$a${i}`);
  const step = (a: string) =>
    relaxed
      ? `(local.set ${a} (f32x4.relaxed_madd (local.get ${a}) (local.get $x) (local.get $y)))`
      : `(local.set ${a} (f32x4.add (f32x4.mul (local.get ${a}) (local.get $x)) (local.get $y)))`;
  const sum = accs.slice(1).reduce((e, a) => `(f32x4.add ${e} (local.get ${a}))`, `(local.get ${accs[0]})`);
  return `(module
  (func (export "probe") (param $n i32) (result f32)
    (local $x v128) (local $y v128) ${accs.map((a) => `(local ${a} v128)`).join(' ')}
    (local.set $x (f32x4.splat (f32.const 0.999999)))
    (local.set $y (f32x4.splat (f32.const 0.000001)))
    ${accs.map((a, i) => `(local.set ${a} (f32x4.splat (f32.const ${i + 1})))`).join('\n    ')}
    (loop $l
      ${accs.map(step).join('\n      ')}
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (f32x4.extract_lane 0 ${sum})))`;
}

function probeModule(relaxed: boolean): WebAssembly.Module | undefined {
  const mod = binaryen.parseText(probeWat(relaxed));
  try {
    mod.setFeatures(binaryen.Features.SIMD128 | (relaxed ? binaryen.Features.RelaxedSIMD : 0));
    const bytes = new Uint8Array(mod.emitBinary());
    if (!WebAssembly.validate(bytes)) return undefined;
    return compileOptimized(bytes);
  } finally {
    mod.dispose();
  }
}

export interface SimdPeak {
  /** f32x4.mul + f32x4.add, GFLOP/s */
  simd128: number;
  /** f32x4.relaxed_madd, GFLOP/s; undefined where the engine lacks relaxed SIMD */
  relaxed?: number;
}

function measure(module: WebAssembly.Module, warmMs: number, timeMs: number): number {
  const probe = new WebAssembly.Instance(module).exports.probe as (n: number) => number;
  const end = performance.now() + warmMs;
  while (performance.now() < end) probe(TRIPS);
  const flopsPerCall = TRIPS * ACCUMULATORS * 4 * 2;
  let best = 0;
  const stop = performance.now() + timeMs;
  while (performance.now() < stop) {
    const t0 = performance.now();
    probe(TRIPS);
    best = Math.max(best, flopsPerCall / ((performance.now() - t0) * 1e6));
  }
  return best;
}

/** Measure the peak (about `warmMs + timeMs` per variant; the defaults take under half a second). */
export function measureSimdPeak(options: { warmMs?: number; timeMs?: number } = {}): SimdPeak {
  const [warmMs, timeMs] = [options.warmMs ?? 100, options.timeMs ?? 100];
  const plain = probeModule(false)!;
  const relaxed = probeModule(true);
  return {
    simd128: measure(plain, warmMs, timeMs),
    ...(relaxed ? { relaxed: measure(relaxed, warmMs, timeMs) } : {}),
  };
}
