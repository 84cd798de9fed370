/** Compiling wasm with V8's optimizing tier only, for measurements that must not time the baseline tier. */
import { setFlagsFromString } from 'node:v8';

/**
 * Run `compile` with V8's optimizing tier only (no Liftoff baseline), restoring V8's default after.
 * Normally V8 starts wasm in the baseline tier and optimizes in a background thread, which on a busy
 * machine takes seconds, so a measurement would time a changing mix of tiers.
 */
export function withoutLiftoff<T>(compile: () => T): T {
  setFlagsFromString('--no-liftoff');
  try {
    return compile();
  } finally {
    setFlagsFromString('--liftoff');
  }
}
