/**
 * Constant gemm B packed at compile time into the wasm microkernel's panel layout
 * (src/compiler/packed-weights.ts, src/kernels/b-panels.ts): MatMul and Gemm with constant weights at odd
 * sizes (N not a multiple of 8, K odd, M = 1/3/7, row counts past N, and below it over row blocks that
 * touch the next panel, K split in blocks), a fused bias and Relu, rows known only at run time, against
 * onnxruntime-node on both modules; weights.bin holds the panels in the weight's bytes; weights that
 * something else reads, narrow ones and those of a webgpu bundle stay row-major.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import type { CompileOptions } from '../../src/compiler/options.js';
import { writeBundle } from '../../src/bundle/node.js';
import { loadModel, type Feed } from '../../src/runtime/index.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { packBPanels } from '../../src/kernels/b-panels.js';
import type { HostTensor } from '../../src/ir/tensor.js';
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

interface Case {
  /** x's shape; a string is a dim bounded at compile time (`dims`) */
  x: (number | string)[];
  /** the weight's shape: [K, N], or [N, K] with transB */
  w: number[];
  op?: 'MatMul' | 'Gemm';
  attrs?: Record<string, AttrSpec>;
  /** a constant bias: Gemm's C, or an Add after the MatMul that fuse-bias folds into it */
  bias?: number[];
  relu?: boolean;
  /** a second reader of the weight: `w_out = w + z`, z an input of w's shape */
  alsoAdded?: boolean;
}

function model(c: Case): Uint8Array {
  const r = seededRandom(c.w[0] * 31 + c.w[1]);
  const op = c.op ?? 'MatMul';
  const product = c.bias && op === 'MatMul' ? 'm' : c.relu ? 's' : 'y';
  const nodes: NodeSpec[] = [
    { op, inputs: ['x', 'w', ...(c.bias && op === 'Gemm' ? ['b'] : [])], outputs: [product], attrs: c.attrs },
    ...(c.bias && op === 'MatMul' ? [{ op: 'Add', inputs: ['m', 'b'], outputs: [c.relu ? 's' : 'y'] }] : []),
    ...(c.relu ? [{ op: 'Relu', inputs: ['s'], outputs: ['y'] }] : []),
    ...(c.alsoAdded ? [{ op: 'Add', inputs: ['w', 'z'], outputs: ['w_out'] }] : []),
  ];
  return buildModel({
    opset: 17,
    inputs: [
      { name: 'x', dtype: 'float32', shape: c.x },
      ...(c.alsoAdded ? [{ name: 'z', dtype: 'float32' as const, shape: c.w }] : []),
    ],
    outputs: [
      { name: 'y', dtype: 'float32' },
      ...(c.alsoAdded ? [{ name: 'w_out', dtype: 'float32' as const }] : []),
    ],
    initializers: [
      { name: 'w', tensor: randomTensor(c.w, r, 0.5) },
      ...(c.bias ? [{ name: 'b', tensor: randomTensor(c.bias, r) }] : []),
    ],
    nodes,
  });
}

const feedsOf = (dims: number[]) => ({
  x: randomTensor(dims, seededRandom(dims.reduce((a, b) => a * 7 + b, 1))),
});
const fixedDims = (c: Case) => c.x as number[];

const CASES: Record<string, Case> = {
  'M = 1, K odd, N = 13': { x: [1, 17], w: [17, 13] },
  'M = 3, K = 33, N = 21 (tail panel 8 wide, 5 real)': { x: [3, 33], w: [33, 21] },
  'M = 7, N = 8 (one panel, no tail)': { x: [7, 15], w: [15, 8] },
  'M = 19 > N = 13 (all panels per row block), K = 9': { x: [19, 9], w: [9, 13] },
  'M = 40 ≤ N = 43 (one panel at a time), tail of 3 (4 wide)': { x: [40, 17], w: [17, 43] },
  'M = 37 ≤ N = 53 (each row block touches the next panel), K = 29, bias + Relu fused': {
    x: [37, 29],
    w: [29, 53],
    bias: [53],
    relu: true,
  },
  'M = 20 ≤ N = 40, K = 801 in two blocks packed apart, next panels touched in each, bias': {
    x: [20, 801],
    w: [801, 40],
    bias: [40],
  },
  'batched rows [2, 5, 17] × [17, 11], bias + Relu fused': {
    x: [2, 5, 17],
    w: [17, 11],
    bias: [11],
    relu: true,
  },
  'Gemm transB (prepacked transpose), alpha, beta, bias': {
    op: 'Gemm',
    x: [3, 15],
    w: [12, 15],
    attrs: { transB: { i: 1 }, alpha: { f: 0.5 }, beta: { f: 2 } },
    bias: [12],
  },
  'Gemm M = 7, K = 1, N = 9': { op: 'Gemm', x: [7, 1], w: [1, 9], bias: [7, 9] },
};

describe('constant gemm weights packed at compile time match onnxruntime-node', () => {
  for (const [name, c] of Object.entries(CASES))
    it(name, async () => {
      const bytes = model(c);
      const feeds = feedsOf(fixedDims(c));
      const got = (await runKiln(bytes, feeds, { relaxed: false })).y;
      expect(compareTensors(got, (await runOrt(bytes, feeds)).y, 1e-4, 1e-5)).toBeUndefined();
    });

  it('rows known only at run time (seq = 1..40): every size reads the same packed weight', async () => {
    const c: Case = { x: ['seq', 33], w: [33, 21], bias: [21] };
    const bytes = model(c);
    const kiln = await compileModel(bytes, { relaxed: false, dims: { seq: { min: 1, max: 40 } } });
    expect(weightDims(kiln, 'w')).toEqual([33 * 21]);
    const loaded = await loadModel(kiln, { backend: 'wasm' });
    try {
      for (const seq of [1, 3, 7, 40]) {
        const feeds = feedsOf([seq, 33]);
        const got = (await loaded.run(feeds as Record<string, Feed>)).y as HostTensor;
        const want = (await runOrt(bytes, feeds)).y;
        expect(compareTensors(got, want, 1e-4, 1e-5), `seq ${seq}`).toBeUndefined();
      }
    } finally {
      loaded.dispose();
    }
  });
});

describe('constant gemm weights packed at compile time, relaxed SIMD module', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-packed-weights-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const relaxed = [
    'M = 3, K = 33, N = 21 (tail panel 8 wide, 5 real)',
    'M = 19 > N = 13 (all panels per row block), K = 9',
    'M = 37 ≤ N = 53 (each row block touches the next panel), K = 29, bias + Relu fused',
    'M = 20 ≤ N = 40, K = 801 in two blocks packed apart, next panels touched in each, bias',
  ];
  relaxed.forEach((name, i) =>
    it(name, async () => {
      const c = CASES[name];
      const bytes = model(c);
      const feeds = feedsOf(fixedDims(c));
      const bundle = join(dir, `case${i}`);
      await writeBundle(bundle, await compileModel(bytes));
      const result = await inChild(bundle, 'relaxed', feeds, true);
      const { y } = outputsOf(result);
      expect('variant' in result && result.variant).toBe('relaxed');
      expect(compareTensors(y, (await runOrt(bytes, feeds)).y, 1e-4, 1e-5)).toBeUndefined();
    }),
  );
});

/** The manifest's dims of weight `name`. */
const weightDims = (files: BundleFiles, name: string) =>
  files.manifest.weights.find((w) => w.name === name)?.dims;

/** Weight `name`'s floats in weights.bin. */
function weightData(files: BundleFiles, name: string): Float32Array {
  const entry = files.manifest.weights.find((w) => w.name === name)!;
  return new Float32Array(files.weights.slice(entry.offset, entry.offset + entry.byteLength).buffer);
}

describe('which weights weights.bin holds in panels', () => {
  const compile = (c: Case, opts: CompileOptions = {}) => compileModel(model(c), { relaxed: false, ...opts });
  const original = (c: Case) => randomTensor(c.w, seededRandom(c.w[0] * 31 + c.w[1]), 0.5) as HostTensor;

  it('a MatMul weight is stored in panels of 4 columns and a tail panel of the rest, in as many bytes', async () => {
    const c: Case = { x: [3, 33], w: [33, 21] };
    const files = await compile(c);
    expect(weightDims(files, 'w')).toEqual([33 * 21]);
    const packed = weightData(files, 'w');
    const w = original(c).data as Float32Array;
    expect(packed).toEqual(packBPanels(w, 33, 21));
    // row 1 of the second panel (columns 4..7), rows 1 and 2 of the tail panel (column 20, 1 wide)
    expect(Array.from(packed.subarray(33 * 4 + 4, 33 * 4 + 8))).toEqual(
      Array.from(w.subarray(21 + 4, 21 + 8)),
    );
    expect(Array.from(packed.subarray(33 * 20 + 1, 33 * 20 + 3))).toEqual([w[21 + 20], w[42 + 20]]);
  });

  it('weights read otherwise, narrower than a panel or in a webgpu bundle stay row-major', async () => {
    const shared: Case = { x: [3, 33], w: [33, 21], alsoAdded: true };
    expect(weightDims(await compile(shared), 'w')).toEqual([33, 21]);
    const feeds = { ...feedsOf([3, 33]), z: randomTensor([33, 21], seededRandom(5)) };
    const [got, want] = await Promise.all([runKiln(model(shared), feeds), runOrt(model(shared), feeds)]);
    for (const name of ['y', 'w_out'])
      expect(compareTensors(got[name], want[name], 1e-4, 1e-5), name).toBeUndefined();
    expect(weightDims(await compile({ x: [5, 9], w: [9, 7] }), 'w')).toEqual([9, 7]);
    const gpu = await compile({ x: [3, 33], w: [33, 21] }, { targets: ['wasm', 'webgpu'] });
    expect(weightDims(gpu, 'w')).toEqual([33, 21]);
  });
});
