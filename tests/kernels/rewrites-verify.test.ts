/**
 * The kernels real ops lower to (Conv with a fused Relu, Resize, Gemm, Softmax, Gather, an elementwise
 * Add, an output copy) carry their signature, and stay valid Kernel IR after every rewrite a target
 * applies: verify() runs after each one, and on each dispatch the webgpu target splits a kernel into.
 */
import { describe, expect, it } from 'vitest';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { specialize } from '../../src/passes/specialize.js';
import { eliminateDeadCode } from '../../src/passes/dce.js';
import { prepackWeights } from '../../src/passes/prepack.js';
import { fuseElementwise } from '../../src/passes/fuse-elementwise.js';
import { fuseActivations } from '../../src/passes/fuse-activation.js';
import { lowerGraph } from '../../src/compiler/lower.js';
import { evaluateProgram } from '../../src/codegen/wasm/evaluate.js';
import { lowerDispatchGemms, wgslRewrites } from '../../src/codegen/wgsl/index.js';
import { rewriteKernel, type Rewrite } from '../../src/kernels/rewrite/pipeline.js';
import { wasmRewrites } from '../../src/codegen/wasm/module.js';
import { splitIndependent } from '../../src/kernels/rewrite/split-independent.js';
import { verifyKernel } from '../../src/kernels/verify.js';
import type { Kernel } from '../../src/kernels/ir.js';
import { buildModel, randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import '../../src/ops/index.js';

const rand = seededRandom(12);
const MODEL = buildModel({
  opset: 17,
  inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 6, 6] }],
  outputs: [
    { name: 'picked', dtype: 'float32', shape: [1, 2] },
    { name: 'probs', dtype: 'float32', shape: [1, 5] },
  ],
  initializers: [
    { name: 'w', tensor: randomTensor([3, 2, 3, 3], rand) },
    { name: 'b', tensor: randomTensor([3], rand) },
    { name: 'scales', tensor: { dtype: 'float32', dims: [4], data: Float32Array.of(1, 1, 2, 2) } },
    { name: 'w2', tensor: randomTensor([432, 5], rand) },
    { name: 'idx', tensor: { dtype: 'int64', dims: [2], data: BigInt64Array.of(0n, 2n) } },
  ],
  nodes: [
    { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
    { op: 'Relu', inputs: ['c'], outputs: ['r'] },
    { op: 'Resize', inputs: ['r', '', 'scales'], outputs: ['up'], attrs: { mode: { s: 'nearest' } } },
    { op: 'Flatten', inputs: ['up'], outputs: ['flat'] },
    { op: 'Gemm', inputs: ['flat', 'w2'], outputs: ['g'] },
    { op: 'Softmax', inputs: ['g'], outputs: ['probs'] },
    { op: 'Add', inputs: ['probs', 'probs'], outputs: ['twice'] },
    { op: 'Gather', inputs: ['twice', 'idx'], outputs: ['picked'], attrs: { axis: { i: 1 } } },
  ],
});

/** The Program's kernels as compileModel lowers them (for the webgpu target with `forGpu`). */
function kernels(forGpu: boolean): Kernel[] {
  const graph = eliminateDeadCode(
    specialize(prepackWeights(parseOnnxModel(MODEL)), { evaluate: evaluateProgram }),
  );
  const { program } = lowerGraph(fuseElementwise(fuseActivations(graph)), { forGpu });
  return [...program.init, ...program.run];
}

/** The rewrites each target applies, in its order. */
const TARGETS: [string, Kernel[], readonly Rewrite[]][] = [
  ['webgpu', kernels(true), [...wgslRewrites, lowerDispatchGemms]],
  ['wasm', kernels(false), wasmRewrites],
];

describe('rewrites keep real kernels valid', () => {
  const lowered = kernels(false);

  it('lowers every op, each kernel with a signature naming its outputs', () => {
    const names = lowered.map((k) => k.name).join(' ');
    for (const op of ['Conv', 'Resize', 'Gemm', 'Softmax', 'Add', 'Gather']) expect(names).toContain(op);
    for (const k of lowered) {
      expect(k.signature, k.name).toBeDefined();
      expect(k.signature!.buffers.some((p) => p.role === 'output')).toBe(true);
    }
  });

  it.each(TARGETS)(
    '%s: verify() passes after every rewrite and on every dispatch',
    (_, targetKernels, rewrites) => {
      const after: string[] = [];
      for (const kernel of targetKernels) {
        const done = rewriteKernel(kernel, rewrites, (k, rewrite) => {
          verifyKernel(k);
          after.push(rewrite);
        });
        for (const part of splitIndependent(done.body)) verifyKernel({ ...done, body: part });
      }
      expect(new Set(after)).toEqual(new Set(rewrites.map((r) => r.name)));
    },
  );

  it('a rewrite that breaks a kernel is named with the kernel and the statement', () => {
    const conv = lowered.find((k) => k.name.includes('Conv'))!;
    const storeIntoInput: Rewrite = (body) => [
      ...body,
      {
        k: 'store',
        buf: conv.signature!.buffers.find((p) => p.role === 'input')!.buf,
        index: { k: 'const', t: 'i32', v: 0 },
        value: { k: 'const', t: 'f32', v: 0 },
      },
    ];
    expect(() => rewriteKernel(conv, [storeIntoInput], (k) => verifyKernel(k))).toThrow(
      /kernel '.*Conv.*': body\[\d+\] store: stores into buffer #\d+, which the kernel only reads \(its input\)/,
    );
  });
});

describe('kernel signatures', () => {
  it('list the scratch buffers a lowering asks for (a Conv through im2col)', () => {
    const model = buildModel({
      opset: 17,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 32, 32] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 8, 32, 32] }],
      initializers: [{ name: 'w', tensor: randomTensor([8, 3, 3, 3], rand) }],
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { pads: { ints: [1, 1, 1, 1] } } }],
    });
    const graph = specialize(prepackWeights(parseOnnxModel(model)), { evaluate: evaluateProgram });
    const conv = lowerGraph(graph).program.run.find((k) => k.name.includes('Conv'))!;
    expect(conv.signature!.buffers.map((p) => p.role)).toContain('scratch');
  });
});
