import { describe, expect, it } from 'vitest';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { specialize } from '../../src/passes/specialize.js';
import { foldPads } from '../../src/passes/fold-pad.js';
import { compileModel } from '../../src/compiler/compile.js';
import { evaluateProgram } from '../../src/codegen/wasm/evaluate.js';
import { tensorFromNumbers } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../helpers/onnx-builder.js';
import { runKiln, runOrt } from '../helpers/ort-oracle.js';
import '../../src/ops/index.js';

interface Case {
  about: string;
  /** the Pad's pads, [n, c, h, w] begins then ends */
  pads: number[];
  mode?: string;
  /** the constant fill, as Pad's third input */
  value?: number;
  /** channels in = out; `group` of them per group */
  channels?: number;
  group?: number;
  stride?: number;
  /** the conv's own pads */
  convPads?: number[];
  /** the padded value is also a graph output */
  alsoOutput?: boolean;
  /** the width the model declares (default 11; a name makes it symbolic) */
  width?: number | string;
}

const X = [1, 5, 13, 11];

/** x [1, 5, 13, 11] → Pad → Conv 3×3 → y, opset 13 (pads as an input, as tf2onnx writes them) */
function model(c: Case): Uint8Array {
  const r = seededRandom(c.pads.reduce((a, p) => a * 3 + p, 1));
  const ch = c.channels ?? X[1];
  const group = c.group ?? 1;
  const nodes: NodeSpec[] = [
    {
      op: 'Pad',
      inputs: ['x', 'pads', ...(c.value === undefined ? [] : ['value'])],
      outputs: ['p'],
      attrs: { mode: { s: c.mode ?? 'constant' } },
    },
    {
      op: 'Conv',
      inputs: ['p', 'w', 'b'],
      outputs: ['y'],
      attrs: {
        group: { i: group },
        kernel_shape: { ints: [3, 3] },
        strides: { ints: [c.stride ?? 1, c.stride ?? 1] },
        pads: { ints: c.convPads ?? [0, 0, 0, 0] },
      },
    },
  ];
  return buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [...X.slice(0, 3), c.width ?? X[3]] }],
    outputs: [
      { name: 'y', dtype: 'float32' },
      ...(c.alsoOutput ? [{ name: 'p', dtype: 'float32' as const }] : []),
    ],
    initializers: [
      { name: 'pads', tensor: tensorFromNumbers('int64', [8], c.pads) },
      ...(c.value === undefined
        ? []
        : [{ name: 'value', tensor: tensorFromNumbers('float32', [], [c.value]) }]),
      { name: 'w', tensor: randomTensor([ch, (X[1] + c.pads[1] + c.pads[5]) / group, 3, 3], r) },
      { name: 'b', tensor: randomTensor([ch], r) },
    ],
    nodes,
  });
}

const ops = (c: Case) =>
  foldPads(specialize(parseOnnxModel(model(c)), { evaluate: evaluateProgram })).nodes.map((n) => n.op);

async function expectMatchesOrt(c: Case) {
  const bytes = model(c);
  const feeds = { x: randomTensor(X, seededRandom(5)) };
  const want = await runOrt(bytes, feeds);
  const got = await runKiln(bytes, feeds);
  for (const name of Object.keys(want))
    expect(compareTensors(got[name], want[name], 1e-4, 1e-5)).toBeUndefined();
}

const folded: Case[] = [
  { about: 'TF SAME at stride 2 (after only)', pads: [0, 0, 0, 0, 0, 0, 1, 1], stride: 2 },
  { about: 'asymmetric, on top of the conv pads', pads: [0, 0, 2, 0, 0, 0, 1, 3], convPads: [1, 0, 0, 1] },
  { about: 'depthwise, explicit zero fill', pads: [0, 0, 1, 1, 0, 0, 1, 1], group: 5, value: 0, stride: 2 },
];
const kept: Case[] = [
  { about: 'a non-zero fill', pads: [0, 0, 1, 1, 0, 0, 1, 1], value: 0.5 },
  { about: 'reflect mode', pads: [0, 0, 1, 1, 0, 0, 1, 1], mode: 'reflect' },
  { about: 'padding channels', pads: [0, 1, 1, 1, 0, 0, 1, 1], channels: 4, group: 1 },
  { about: 'cropping (negative pads)', pads: [0, 0, -1, 1, 0, 0, 1, 1] },
  { about: 'the padded value is a graph output too', pads: [0, 0, 1, 0, 0, 0, 0, 1], alsoOutput: true },
];

describe('zero Pad folding into Conv', () => {
  it.each(folded)('folds: $about', (c) => expect(ops(c)).toEqual(['Conv']));
  it.each(folded)('folded matches onnxruntime: $about', (c) => expectMatchesOrt(c));
  it('the compiler runs it: a bundle of a TF-style Pad → Conv has no Pad kernel', async () => {
    const { manifest } = await compileModel(model(folded[0]));
    expect(manifest.kernels?.map((k) => k.op)).toEqual(['Conv']);
  });
  it('folds where the width is known only at run time, and matches onnxruntime at two widths', async () => {
    const c: Case = { ...folded[1], width: 'width' };
    const bytes = model(c);
    const shapes = { x: [1, 5, 13, { min: 6, max: 24 }] };
    const { manifest } = await compileModel(bytes, { shapes });
    expect(manifest.kernels?.map((k) => k.op)).toEqual(['Conv']);
    for (const width of [9, 20]) {
      const feeds = { x: randomTensor([1, 5, 13, width], seededRandom(width)) };
      const want = await runOrt(bytes, feeds);
      const got = await runKiln(bytes, feeds, { shapes });
      expect(compareTensors(got.y, want.y, 1e-4, 1e-5)).toBeUndefined();
    }
  });
  it.each(kept)('keeps the Pad: $about', (c) => expect(ops(c)).toEqual(['Pad', 'Conv']));
  it.each(kept)('kept matches onnxruntime: $about', (c) => expectMatchesOrt(c));
});
