/**
 * Compiling wasm with V8's optimizing tier up front, on Node: for measurements that must not time the
 * baseline tier, and for Kiln's Node hosts (`kiln serve`, the Lambda handler), whose first request
 * should not run in it.
 *
 * V8 (Node 20: V8 11.3) compiles a wasm function lazily, on its first call, with its baseline compiler
 * (Liftoff), and recompiles it with TurboFan on a background thread once the function has spent a
 * tiering budget; the optimized code is used from the function's next call. A kernel that does little
 * per run spends its budget over many runs, so a small model reaches its steady speed only after 10–20
 * runs, later still on a busy machine, and a large one runs much of its first run in baseline code.
 * V8 reads these flags when it compiles a module (and, lazily, when it compiles a function), so setting
 * them around one synchronous, eager compile changes that module only: modules compiled before or after
 * (another engine's, in the same process) keep V8's defaults.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Compile every function of `bytes` with TurboFan before returning the module: no Liftoff baseline,
 * and no lazy compilation (with which a function is compiled at its first call, after the flags are
 * restored: by Liftoff). Its first run is optimized code throughout, however often it calls each
 * function. The cost is the optimizing compile of the whole module at load (V8 spreads it over its
 * compile threads), `init` included, in place of the baseline-tier runs a warm-up would take. Restores
 * V8's defaults after. For `loadModel`'s `compileWasm` option.
 */
export function compileOptimized(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module {
  setFlagsFromString('--no-liftoff');
  setFlagsFromString('--no-wasm-lazy-compilation');
  try {
    return new WebAssembly.Module(bytes);
  } finally {
    setFlagsFromString('--liftoff');
    setFlagsFromString('--wasm-lazy-compilation');
  }
}

/** How Kiln's Node hosts (`kiln serve`, the Lambda handler) load a bundle on the wasm backend. */
export const NODE_SERVING_LOAD = { compileWasm: compileOptimized, warmup: true } as const;
