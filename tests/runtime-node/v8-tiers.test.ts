/**
 * compileOptimized (src/runtime-node/v8-tiers.ts): every function of the module is TurboFan code before its
 * first call, and a module compiled after it keeps V8's defaults (lazy, baseline first), so another
 * engine in the same process is untouched. V8's own test intrinsics say which tier a function is in.
 */
import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { compileOptimized } from '../../src/runtime-node/v8-tiers.js';
import { loadModel } from '../../src/runtime/index.js';

setFlagsFromString('--allow-natives-syntax');
type Probe = (f: unknown) => boolean;
const isTurboFan = new Function('f', 'return %IsTurboFanFunction(f)') as Probe;
const isUncompiled = new Function('f', 'return %IsUncompiledWasmFunction(f)') as Probe;

async function mlpModule(batch: number): Promise<Uint8Array<ArrayBuffer>> {
  const onnx = new Uint8Array(await readFile('models/mlp.onnx'));
  // a batch of its own per module: V8 shares the code of modules with the same bytes
  return (await compileModel(onnx, { shapes: { x: [batch, 64] }, relaxed: false }))
    .wasm as Uint8Array<ArrayBuffer>;
}

describe('compileOptimized', () => {
  it('compiles every function with TurboFan up front, and only that module', async () => {
    const optimized = new WebAssembly.Instance(compileOptimized(await mlpModule(3)), {});
    expect(isTurboFan(optimized.exports.run)).toBe(true);
    expect(isTurboFan(optimized.exports.init)).toBe(true);
    const plain = new WebAssembly.Instance(await WebAssembly.compile(await mlpModule(5)), {});
    expect(isUncompiled(plain.exports.run)).toBe(true);
  });

  it('as loadModel compileWasm, the model answers as with the default compile', async () => {
    const files = await compileModel(new Uint8Array(await readFile('models/mlp.onnx')), {
      shapes: { x: [1, 64] },
    });
    const x = {
      dtype: 'float32' as const,
      dims: [1, 64],
      data: Float32Array.from({ length: 64 }, (_, i) => i / 64 - 0.5),
    };
    const plain = await loadModel(files, { backend: 'wasm', variant: 'simd128' });
    const optimized = await loadModel(files, {
      backend: 'wasm',
      variant: 'simd128',
      compileWasm: compileOptimized,
    });
    const [got, want] = [await optimized.run({ x }), await plain.run({ x })];
    expect(Object.keys(got)).toEqual(Object.keys(want));
    for (const name of Object.keys(want)) expect(got[name].data).toEqual(want[name].data);
  });
});
