/** A whole model: models/mlp.onnx lowered to a Program, run by WebGpuInstance and by the wasm backend. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOnnxModel } from '../../../src/frontend/onnx/index.js';
import { specialize } from '../../../src/passes/specialize.js';
import { eliminateDeadCode } from '../../../src/passes/dce.js';
import { prepackWeights } from '../../../src/passes/prepack.js';
import { fuseElementwise } from '../../../src/passes/fuse-elementwise.js';
import { fuseActivations } from '../../../src/passes/fuse-activation.js';
import { lowerGraph } from '../../../src/compiler/lower.js';
import { compileModel } from '../../../src/compiler/compile.js';
import { compileProgramWgsl } from '../../../src/codegen/wgsl/index.js';
import { WasmInstance } from '../../../src/runtime/wasm-backend.js';
import { WebGpuInstance } from '../../../src/runtime/webgpu-backend.js';
import { testGpu } from '../../helpers/gpu.js';
import { expectClose } from './harness.js';
import '../../../src/ops/index.js';
import { evaluateProgram } from '../../../src/codegen/wasm/evaluate.js';

/** The Program compileModel builds for the GPU (the same passes, in the same order, for fp32 weights). */
function programOf(bytes: Uint8Array) {
  const graph = eliminateDeadCode(
    specialize(prepackWeights(parseOnnxModel(bytes)), { evaluate: evaluateProgram }),
  );
  return lowerGraph(fuseElementwise(fuseActivations(graph)), { forGpu: true }).program;
}

describe('wgsl whole program', () => {
  it('models/mlp.onnx gives the wasm backend outputs within 1e-4', async () => {
    const bytes = new Uint8Array(readFileSync('models/mlp.onnx'));
    // with the webgpu target, so weights.bin holds the gemm weights row-major, as WGSL reads them
    const bundle = await compileModel(bytes, { targets: ['wasm', 'webgpu'] });
    const compiled = compileProgramWgsl(programOf(bytes));
    const manifest = {
      ...bundle.manifest,
      targets: ['wasm', 'webgpu'] as ('wasm' | 'webgpu')[],
      webgpu: {
        file: 'model.wgsl',
        memoryBytes: compiled.memoryBytes,
        segments: compiled.segments,
        init: compiled.init,
        run: compiled.run,
      },
    };
    const files = { ...bundle, manifest, wgsl: compiled.code };
    const [input] = manifest.inputs;
    const x = Float32Array.from({ length: input.byteLength / 4 }, (_, i) => Math.cos(i * 0.7));
    const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer);

    const wasm = (await WasmInstance.create(files)).run([bytesOf(x)]);
    const gpu = await WebGpuInstance.create(files, await testGpu());
    try {
      // twice: a second run reuses the instance's buffers and must not see the first run's leftovers
      for (const scale of [1, -2]) {
        const xs = x.map((value) => value * scale);
        const expected = (await WasmInstance.create(files)).run([bytesOf(xs)]);
        const out = await gpu.run([bytesOf(xs)]);
        for (const sig of manifest.outputs) {
          expect(out[sig.name].dims).toEqual(sig.shape);
          expectClose(
            out[sig.name].data as Float32Array,
            expected[sig.name].data as Float32Array,
            { rel: 1e-4, abs: 1e-6 },
            sig.name,
          );
        }
      }
      expect(Object.keys(wasm)).toEqual(manifest.outputs.map((s) => s.name));
      // the gemms take the tiled shader; the elementwise kernel is spread over its 128 elements
      expect(compiled.run.map((d) => d.kernel)).toContain('Add_1+Relu_2');
      expect(compiled.run.find((d) => d.kernel === 'Add_1+Relu_2')!.workgroups).toEqual([2, 1, 1]);
    } finally {
      gpu.dispose();
    }
  });
});
