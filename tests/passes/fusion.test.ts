import { describe, expect, it } from 'vitest';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { specialize } from '../../src/passes/specialize.js';
import { eliminateDeadCode } from '../../src/passes/dce.js';
import { fuseElementwise } from '../../src/passes/fuse-elementwise.js';
import type { DType } from '../../src/ir/dtype.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../helpers/onnx-builder.js';
import { runKiln, runOrt } from '../helpers/ort-oracle.js';
import '../../src/ops/index.js';
import { evaluateProgram } from '../../src/codegen/wasm/evaluate.js';

function chain(dtype: DType, nodes: NodeSpec[], outputs = ['y']) {
  return buildModel({
    inputs: [
      { name: 'x', dtype, shape: [2, 8] },
      { name: 'b', dtype, shape: [8] },
    ],
    outputs: outputs.map((name) => ({ name, dtype, shape: [2, 8] })),
    nodes,
  });
}

const ops = (bytes: Uint8Array) =>
  fuseElementwise(
    eliminateDeadCode(specialize(parseOnnxModel(bytes), { evaluate: evaluateProgram })),
  ).nodes.map((n) => n.op);

const addReluMulSigmoid: NodeSpec[] = [
  { op: 'Add', inputs: ['x', 'b'], outputs: ['t0'] },
  { op: 'Relu', inputs: ['t0'], outputs: ['t1'] },
  { op: 'Mul', inputs: ['t1', 'x'], outputs: ['t2'] },
  { op: 'Sigmoid', inputs: ['t2'], outputs: ['y'] },
];

describe('elementwise fusion', () => {
  it('merges a chain into one node and computes what onnxruntime computes', async () => {
    const bytes = chain('float32', addReluMulSigmoid);
    expect(ops(bytes)).toEqual(['Fused']);
    const r = seededRandom(7);
    const x = randomTensor([2, 8], r);
    const b = randomTensor([8], r);
    const ours = await runKiln(bytes, { x, b });
    const theirs = await runOrt(bytes, { x, b });
    const want = theirs.y.data as Float32Array;
    const got = ours.y.data as Float32Array;
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 6);
  });

  it('keeps a value that is read twice or is a graph output', () => {
    const shared = chain('float32', [
      { op: 'Add', inputs: ['x', 'b'], outputs: ['t0'] },
      { op: 'Relu', inputs: ['t0'], outputs: ['t1'] },
      { op: 'Mul', inputs: ['t1', 't0'], outputs: ['y'] },
    ]);
    expect(ops(shared)).toEqual(['Add', 'Fused']);
    const exposed = chain(
      'float32',
      [
        { op: 'Add', inputs: ['x', 'b'], outputs: ['t0'] },
        { op: 'Relu', inputs: ['t0'], outputs: ['y'] },
      ],
      ['y', 't0'],
    );
    expect(ops(exposed)).toEqual(['Add', 'Relu']);
  });

  it('does not fuse through narrow types, whose stores round or wrap', () => {
    const narrow = chain('int8', [
      { op: 'Add', inputs: ['x', 'b'], outputs: ['t0'] },
      { op: 'Mul', inputs: ['t0', 'x'], outputs: ['y'] },
    ]);
    expect(ops(narrow)).toEqual(['Add', 'Mul']);
  });
});
