/**
 * loadModel maps every page of the module's memory at load (wasm-backend.ts touchPages), so that the
 * first run, the first request, takes no page faults for the inputs and the arena it writes.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { buildModel } from '../helpers/onnx-builder.js';

const N = 1024; // x·xᵀ is N² float32 = 4 MiB of arena: 1,024 pages of 4 KiB

describe('memory at load', () => {
  it('the first run faults in none of the pages it writes', async () => {
    // the arena (x·xᵀ) dwarfs the input and output, which the host copies in fresh buffers per run
    const onnx = buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [N, 1] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 1] }],
      nodes: [
        { op: 'Transpose', inputs: ['x'], outputs: ['xt'], attrs: { perm: { ints: [1, 0] } } },
        { op: 'MatMul', inputs: ['x', 'xt'], outputs: ['outer'] },
        { op: 'ReduceMax', inputs: ['outer'], outputs: ['y'], attrs: { axes: { ints: [0, 1] } } },
      ],
    });
    const model = await loadModel(await compileModel(onnx), { backend: 'wasm' });
    const data = Float32Array.from({ length: N }, (_, i) => i / N);
    const before = process.resourceUsage().minorPageFault;
    const out = await model.run({ x: { dtype: 'float32', dims: [N, 1], data } });
    const faults = process.resourceUsage().minorPageFault - before;
    expect(out.y.data).toEqual(Float32Array.of(((N - 1) / N) ** 2));
    // writing x·xᵀ into fresh memory alone would fault its 1,024 pages; the count is the whole process's
    // (V8's compile of the first calls, the GC: up to ~300 seen in a loaded full run), so the bound is half
    expect(faults).toBeLessThan(512);
    model.dispose();
  });
});
