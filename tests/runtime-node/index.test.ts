/**
 * `kiln/runtime` on Node (src/runtime-node/index.ts): loadModel compiles the wasm with compileOptimized unless
 * the caller passes its own compileWasm; answers as the runtime's plain loadModel does. The tier itself
 * is checked in v8-tiers.test.ts; here, that the Node entry uses it.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import * as plainRuntime from '../../src/runtime/index.js';

const compiled = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/runtime-node/v8-tiers.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/runtime-node/v8-tiers.js')>();
  return {
    ...original,
    compileOptimized: (bytes: Uint8Array<ArrayBuffer>) => {
      compiled.count++;
      return original.compileOptimized(bytes);
    },
  };
});
const nodeRuntime = await import('../../src/runtime-node/index.js');

describe('kiln/runtime on Node', () => {
  it('is what the package exports to Node, with the same API as the plain runtime', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(pkg.exports['./runtime'].node.default).toBe('./dist/src/runtime-node/index.js');
    for (const name of Object.keys(plainRuntime)) expect(nodeRuntime).toHaveProperty(name);
  });

  it('compiles with the optimizing tier up front by default, and answers as the plain runtime', async () => {
    const files = await compileModel(new Uint8Array(await readFile('models/mlp.onnx')), {
      shapes: { x: [1, 64] },
    });
    const x = {
      dtype: 'float32' as const,
      dims: [1, 64],
      data: Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)),
    };
    const before = compiled.count;
    const optimized = await nodeRuntime.loadModel(files, { backend: 'wasm', variant: 'simd128' });
    expect(compiled.count).toBe(before + 1);
    const plain = await plainRuntime.loadModel(files, { backend: 'wasm', variant: 'simd128' });
    expect(compiled.count).toBe(before + 1);
    const [got, want] = [await optimized.run({ x }), await plain.run({ x })];
    for (const name of Object.keys(want)) expect(got[name].data).toEqual(want[name].data);

    // a caller's own compile wins
    const own = vi.fn((bytes: Uint8Array<ArrayBuffer>) => WebAssembly.compile(bytes));
    await nodeRuntime.loadModel(files, { backend: 'wasm', variant: 'simd128', compileWasm: own });
    expect(own).toHaveBeenCalledTimes(1);
    expect(compiled.count).toBe(before + 1);
  });
});
