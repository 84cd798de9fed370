import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { writeBundle } from '../../src/bundle/node.js';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { specialize } from '../../src/passes/specialize.js';
import { foldBatchNorms } from '../../src/passes/fold-batch-norm.js';
import { fuseActivations } from '../../src/passes/fuse-activation.js';
import { evaluateProgram } from '../../src/codegen/wasm/evaluate.js';
import { tensorFromNumbers, type HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import {
  buildModel,
  randomTensor,
  seededRandom,
  type AttrSpec,
  type NodeSpec,
} from '../helpers/onnx-builder.js';
import { runKiln, runOrt } from '../helpers/ort-oracle.js';
import { inChild, outputsOf } from '../runtime/child-run.js';
import '../../src/ops/index.js';

interface Case {
  op: 'Conv' | 'ConvTranspose';
  /** input channels, output channels, group */
  cin: number;
  cout: number;
  group?: number;
  bias?: boolean;
  /** what else reads the conv's output, which must keep the BatchNormalization apart */
  alsoOutput?: boolean;
  /** weights filled by a ConstantOfShape (as the ONNX "light" models have them), too big to fold to a constant */
  filled?: boolean;
}

const WEIGHT_FILL = tensorFromNumbers('float32', [1], [0.03]);

/** x [1, cin, 7, 9] → conv (3×3, or 2×2 stride 2 transposed) → BatchNormalization → Relu → y */
function model(c: Case): Uint8Array {
  const r = seededRandom(c.cin * 31 + c.cout + (c.group ?? 1));
  const group = c.group ?? 1;
  const wDims = c.op === 'Conv' ? [c.cout, c.cin / group, 3, 3] : [c.cin, c.cout / group, 2, 2];
  const positive = (n: number): HostTensor =>
    tensorFromNumbers(
      'float32',
      [n],
      Array.from({ length: n }, () => 0.5 + r()),
    );
  const convAttrs: Record<string, AttrSpec> =
    c.op === 'Conv'
      ? { group: { i: group }, pads: { ints: [1, 1, 1, 1] } }
      : { group: { i: group }, strides: { ints: [2, 2] } };
  const nodes: NodeSpec[] = [
    ...(c.filled
      ? [{ op: 'ConstantOfShape', inputs: ['w_shape'], outputs: ['w'], attrs: { value: { t: WEIGHT_FILL } } }]
      : []),
    { op: c.op, inputs: ['x', 'w', ...(c.bias ? ['b'] : [])], outputs: ['c'], attrs: convAttrs },
    {
      op: 'BatchNormalization',
      inputs: ['c', 'scale', 'shift', 'mean', 'var'],
      outputs: ['n'],
      attrs: { epsilon: { f: 1e-3 } },
    },
    { op: 'Relu', inputs: ['n'], outputs: ['y'] },
  ];
  return buildModel({
    opset: 15,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, c.cin, 7, 9] }],
    outputs: [
      { name: 'y', dtype: 'float32' },
      ...(c.alsoOutput ? [{ name: 'c', dtype: 'float32' as const }] : []),
    ],
    initializers: [
      c.filled
        ? { name: 'w_shape', tensor: tensorFromNumbers('int64', [wDims.length], wDims) }
        : { name: 'w', tensor: randomTensor(wDims, r) },
      ...(c.bias ? [{ name: 'b', tensor: randomTensor([c.cout], r) }] : []),
      { name: 'scale', tensor: randomTensor([c.cout], r) },
      { name: 'shift', tensor: randomTensor([c.cout], r) },
      { name: 'mean', tensor: randomTensor([c.cout], r) },
      { name: 'var', tensor: positive(c.cout) },
    ],
    nodes,
  });
}

const ops = (c: Case) =>
  fuseActivations(
    foldBatchNorms(specialize(parseOnnxModel(model(c)), { evaluate: evaluateProgram })),
  ).nodes.map((n) => n.op);

/** Kiln's SIMD128 module against onnxruntime, and with `relaxed` its relaxed-SIMD one (in a child process) */
async function expectMatchesOrt(c: Case, relaxed = false) {
  const bytes = model(c);
  const feeds = { x: randomTensor([1, c.cin, 7, 9], seededRandom(5)) };
  const want = await runOrt(bytes, feeds);
  const got = await runKiln(bytes, feeds);
  expect(compareTensors(got.y, want.y, 1e-4, 1e-5)).toBeUndefined();
  if (!relaxed) return;
  const dir = await mkdtemp(join(tmpdir(), 'kiln-fold-bn-'));
  try {
    await writeBundle(dir, await compileModel(bytes));
    const result = await inChild(dir, 'relaxed', feeds, true);
    expect('variant' in result && result.variant).toBe('relaxed');
    expect(compareTensors(outputsOf(result).y, want.y, 1e-4, 1e-5)).toBeUndefined();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('BatchNormalization folding', () => {
  const folded: Case[] = [
    { op: 'Conv', cin: 6, cout: 5, bias: true },
    { op: 'Conv', cin: 6, cout: 4 },
    { op: 'Conv', cin: 6, cout: 6, group: 6 },
    { op: 'Conv', cin: 6, cout: 4, group: 2 },
    { op: 'ConvTranspose', cin: 6, cout: 5, bias: true },
    { op: 'ConvTranspose', cin: 6, cout: 4, group: 2 },
  ];
  it.each(folded)('folds into $op (cin $cin, cout $cout, group $group) and fuses the Relu', (c) => {
    expect(ops(c)).toEqual([c.op]);
  });
  it.each(folded)('$op (cin $cin, cout $cout, group $group) folded matches onnxruntime', async (c) => {
    await expectMatchesOrt(c);
  });
  it('folds into a Conv whose weights a ConstantOfShape fills at load, as an Expand of the scaled fill', () => {
    expect(ops({ op: 'Conv', cin: 32, cout: 16, filled: true })).toEqual(['Expand', 'Conv']);
  });
  it('a Conv whose weights a ConstantOfShape fills, folded, matches onnxruntime (SIMD128 and relaxed)', async () => {
    await expectMatchesOrt({ op: 'Conv', cin: 32, cout: 16, filled: true }, true);
  });
  it('leaves the BatchNormalization alone where the conv output is read elsewhere', () => {
    expect(ops({ op: 'Conv', cin: 4, cout: 4, alsoOutput: true })).toEqual([
      'Conv',
      'BatchNormalization',
      'Relu',
    ]);
  });
});
