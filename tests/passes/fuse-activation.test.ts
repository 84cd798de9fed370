import { describe, expect, it } from 'vitest';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { specialize } from '../../src/passes/specialize.js';
import { fuseActivations } from '../../src/passes/fuse-activation.js';
import { fusedBody } from '../../src/ops/fused.js';
import { fusedActivation } from '../../src/ops/fused-activation.js';
import { tensorFromNumbers } from '../../src/ir/tensor.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../helpers/onnx-builder.js';
import { runKiln, runOrt } from '../helpers/ort-oracle.js';
import '../../src/ops/index.js';
import { evaluateProgram } from '../../src/codegen/wasm/evaluate.js';

/** x [1,4,6,6] → Conv (groups g) → activation → y */
function convAct(group: number, act: NodeSpec) {
  const r = seededRandom(group);
  return buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4, 6, 6] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4, 6, 6] }],
    initializers: [
      { name: 'w', tensor: randomTensor([4, 4 / group, 3, 3], r) },
      { name: 'lo', tensor: tensorFromNumbers('float32', [], [-0.25]) },
      { name: 'hi', tensor: tensorFromNumbers('float32', [], [0.5]) },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['x', 'w'],
        outputs: ['c'],
        attrs: { group: { i: group }, pads: { ints: [1, 1, 1, 1] } },
      },
      act,
    ],
  });
}

const relu: NodeSpec = { op: 'Relu', inputs: ['c'], outputs: ['y'] };
const clip: NodeSpec = { op: 'Clip', inputs: ['c', 'lo', 'hi'], outputs: ['y'] };

async function compare(bytes: Uint8Array) {
  const x = randomTensor([1, 4, 6, 6], seededRandom(99));
  const got = (await runKiln(bytes, { x })).y.data as Float32Array;
  const want = (await runOrt(bytes, { x })).y.data as Float32Array;
  for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
}

describe('activation epilogue fusion', () => {
  it('folds Relu and constant Clip into the Conv node', () => {
    for (const act of [relu, clip]) {
      const g = fuseActivations(specialize(parseOnnxModel(convAct(1, act)), { evaluate: evaluateProgram }));
      expect(g.nodes.map((n) => n.op)).toEqual(['Conv']);
      expect(fusedBody(g.nodes[0])!.nodes.map((n) => n.op)).toEqual([act.op]);
      expect(fusedActivation(g.nodes[0])).toEqual(
        act.op === 'Relu' ? { op: 'relu' } : { op: 'clip', min: -0.25, max: 0.5 },
      );
    }
  });
  it('computes the fused GEMM epilogue like onnxruntime', async () => {
    await compare(convAct(1, relu));
    await compare(convAct(1, clip));
  });
  it('applies it in the stores of a depthwise conv (direct loops)', async () => {
    await compare(convAct(4, relu));
    await compare(convAct(4, clip));
  });
});
