/**
 * Conv (+ Relu/Clip) → MaxPool fused on the wasm target (src/ops/nn/conv-pool.ts, passes/fuse-conv-pool.ts):
 * the conv's rows are made band by band and pooled at once, against onnxruntime-node, float32 through the
 * panel lowering (C·k² ≤ 64 or an image's channels) and through im2col + gemm (K = 72), with the pool's
 * stride, pads, dilation and ceil_mode varied over odd sizes, several bands and a remainder; int8
 * (`--weights int8`) bit-equal to the same conv and pool unfused and within quantization error of
 * onnxruntime; the relaxed-SIMD module in a child process. The memory plan shrinks: the conv's whole
 * output is no longer in the arena.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { writeBundle } from '../../src/bundle/node.js';
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
import { maxPoolReference } from '../helpers/max-pool-reference.js';
import { inChild, outputsOf } from '../runtime/child-run.js';

interface Case {
  x: number[];
  m: number;
  k: number;
  stride?: number;
  pads?: number[];
  act?: 'relu' | 'clip';
  pool: { k: number; stride: number; pads?: number[]; dilation?: number; ceil?: boolean };
}

/** x → Conv (bias) [→ Relu | Clip] → MaxPool → y; with `tap`, the conv's output is a second graph output. */
function model(c: Case, tap = false): Uint8Array {
  const r = seededRandom(c.x.reduce((a, b) => a + b, c.m));
  const nodes: NodeSpec[] = [
    {
      op: 'Conv',
      inputs: ['x', 'w', 'b'],
      outputs: [c.act ? 'c' : 'a'],
      attrs: { strides: { ints: [c.stride ?? 1, c.stride ?? 1] }, pads: { ints: c.pads ?? [0, 0, 0, 0] } },
    },
  ];
  if (c.act === 'relu') nodes.push({ op: 'Relu', inputs: ['c'], outputs: ['a'] });
  if (c.act === 'clip') nodes.push({ op: 'Clip', inputs: ['c', 'lo', 'hi'], outputs: ['a'] });
  const p = c.pool;
  const attrs: Record<string, AttrSpec> = {
    kernel_shape: { ints: [p.k, p.k] },
    strides: { ints: [p.stride, p.stride] },
    pads: { ints: p.pads ?? [0, 0, 0, 0] },
    dilations: { ints: [p.dilation ?? 1, p.dilation ?? 1] },
    ceil_mode: { i: p.ceil ? 1 : 0 },
  };
  nodes.push({ op: 'MaxPool', inputs: ['a'], outputs: ['y'], attrs });
  return buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: c.x }],
    outputs: [{ name: 'y', dtype: 'float32' }, ...(tap ? [{ name: 'a', dtype: 'float32' as const }] : [])],
    initializers: [
      { name: 'w', tensor: randomTensor([c.m, c.x[1], c.k, c.k], r, 0.5) },
      { name: 'b', tensor: randomTensor([c.m], r, 0.1) },
      ...(c.act === 'clip'
        ? [
            { name: 'lo', tensor: tensorFromNumbers('float32', [], [-0.25]) },
            { name: 'hi', tensor: tensorFromNumbers('float32', [], [0.75]) },
          ]
        : []),
    ],
    nodes,
  });
}

const feeds = (c: Case) => ({ x: randomTensor(c.x, seededRandom(c.x.reduce((a, b) => a * b, c.k))) });
const ops = async (bytes: Uint8Array, weights: 'fp32' | 'int8' = 'fp32') =>
  ((await compileModel(bytes, { weights })).manifest.kernels ?? []).map((k) => k.op);

const cases: Record<string, Case> = {
  'SqueezeNet-style: C3 → 16, 3×3 s2, relu, pool 3×3 s2, odd sizes': {
    x: [1, 3, 47, 45],
    m: 16,
    k: 3,
    stride: 2,
    act: 'relu',
    pool: { k: 3, stride: 2 },
  },
  'ResNet-style: C3 → 8, 7×7 s2 p3, relu, pool 3×3 s2 p1 (rows in the top padding)': {
    x: [1, 3, 41, 39],
    m: 8,
    k: 7,
    stride: 2,
    pads: [3, 3, 3, 3],
    act: 'relu',
    pool: { k: 3, stride: 2, pads: [1, 1, 1, 1] },
  },
  'dbnet-style: C3 → 16, 3×3 s2 p1, relu, pool 3×3 s2 p1 over 97×131 (odd, rows in the padding)': {
    x: [1, 3, 97, 131],
    m: 16,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    act: 'relu',
    pool: { k: 3, stride: 2, pads: [1, 1, 1, 1] },
  },
  'ceil_mode: a last window past the conv output in rows and columns, clip': {
    x: [1, 3, 30, 34],
    m: 12,
    k: 3,
    act: 'clip',
    pool: { k: 3, stride: 2, ceil: true },
  },
  'im2col + gemm (C8, K = 72), N = 2, pool 2×2 s2': {
    x: [2, 8, 21, 19],
    m: 12,
    k: 3,
    stride: 2,
    pads: [1, 1, 1, 1],
    act: 'relu',
    pool: { k: 2, stride: 2 },
  },
  'pool dilation 2, asymmetric pads, no activation': {
    x: [1, 3, 29, 27],
    m: 10,
    k: 3,
    pool: { k: 3, stride: 1, pads: [1, 0, 0, 1], dilation: 2 },
  },
  'several bands and a remainder: C3 → 64 over 240×198': {
    x: [1, 3, 240, 198],
    m: 64,
    k: 3,
    stride: 2,
    act: 'relu',
    pool: { k: 3, stride: 2 },
  },
};

describe('Conv → MaxPool fused', () => {
  for (const [name, c] of Object.entries(cases))
    it(`float32 matches onnxruntime: ${name}`, async () => {
      const bytes = model(c);
      const labels = await ops(bytes);
      expect(labels).not.toContain('MaxPool');
      expect(labels.every((op) => op.endsWith('+MaxPool'))).toBe(true);
      const want = (await runOrt(bytes, feeds(c))).y;
      expect(compareTensors((await runKiln(bytes, feeds(c))).y, want, 1e-4, 1e-5)).toBeUndefined();
    });

  for (const name of [
    'SqueezeNet-style: C3 → 16, 3×3 s2, relu, pool 3×3 s2, odd sizes',
    'ResNet-style: C3 → 8, 7×7 s2 p3, relu, pool 3×3 s2 p1 (rows in the top padding)',
    'im2col + gemm (C8, K = 72), N = 2, pool 2×2 s2',
    'several bands and a remainder: C3 → 64 over 240×198',
  ])
    it(`int8 equals the unfused int8 conv and pool, within quantization error of onnxruntime: ${name}`, async () => {
      const c = cases[name];
      const [fused, unfused] = [model(c), model(c, true)];
      expect(await ops(fused, 'int8')).not.toContain('MaxPool');
      expect(await ops(unfused, 'int8')).toContain('MaxPool');
      const got = (await runKiln(fused, feeds(c), { weights: 'int8' })).y;
      const apart = (await runKiln(unfused, feeds(c), { weights: 'int8' })).y;
      expect(Array.from(got.data as Float32Array)).toEqual(Array.from(apart.data as Float32Array));
      const want = (await runOrt(fused, feeds(c))).y;
      expect(relativeError(got, want)).toBeLessThan(0.02);
    });

  it('a bundle with the webgpu target fuses them in its wasm kernels only (the WGSL generator lowers them as before)', async () => {
    const c = cases['SqueezeNet-style: C3 → 16, 3×3 s2, relu, pool 3×3 s2, odd sizes'];
    const files = await compileModel(model(c), { targets: ['wasm', 'webgpu'] });
    expect((files.manifest.kernels ?? []).map((k) => k.op)).not.toContain('MaxPool');
    expect(files.manifest.webgpu!.run.map((d) => d.kernel).join(' ')).toMatch(/MaxPool/);
  });

  it('the arena no longer holds the conv output (the memory plan, as SqueezeNet 1.1 starts)', async () => {
    const c: Case = { x: [1, 3, 224, 224], m: 64, k: 3, stride: 2, act: 'relu', pool: { k: 3, stride: 2 } };
    const convBytes = 64 * 111 * 111 * 4;
    for (const weights of ['fp32', 'int8'] as const) {
      const { memory } = (await compileModel(model(c), { weights })).manifest;
      expect(memory.arenaBytes).toBeLessThan(convBytes / 4);
    }
  });

  describe('a NaN or ±Inf in the input comes out of the pooled windows as the strict max', () => {
    // onnxruntime's conv gives the conv output (a graph output: unfused); the pool is numpy's max over it.
    // No Relu: the relaxed module's clamps (relaxed_max) may turn a NaN into 0 (lanes.ts)
    const c: Case = {
      x: [1, 3, 41, 39],
      m: 8,
      k: 7,
      stride: 2,
      pads: [3, 3, 3, 3],
      pool: { k: 3, stride: 2, pads: [1, 1, 1, 1] },
    };
    const x = feeds(c).x;
    const special = [NaN, Infinity, -Infinity];
    const data = Float32Array.from(x.data as Float32Array, (val, i) =>
      i % 331 === 7 ? special[i % 3] : val,
    );
    const input = { x: { ...x, data } };
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'kiln-conv-pool-nan-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));
    const expected = async () => {
      const want = maxPoolReference((await runOrt(model(c, true), input)).a, 3, 2, [1, 1, 1, 1]);
      expect(Array.from(want.data as Float32Array).filter(Number.isNaN).length).toBeGreaterThan(4);
      return want;
    };
    it('SIMD128', async () => {
      const got = (await runKiln(model(c), input)).y;
      expect(compareTensors(got, await expected(), 1e-4, 1e-5)).toBeUndefined();
    });
    it('relaxed SIMD (child process)', async () => {
      await writeBundle(dir, await compileModel(model(c)));
      const result = await inChild(dir, 'relaxed', input, true);
      expect('variant' in result && result.variant).toBe('relaxed');
      expect(compareTensors(outputsOf(result).y, await expected(), 1e-4, 1e-5)).toBeUndefined();
    });
  });

  describe('relaxed SIMD (child process)', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'kiln-conv-pool-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));
    for (const name of [
      'ResNet-style: C3 → 8, 7×7 s2 p3, relu, pool 3×3 s2 p1 (rows in the top padding)',
      'dbnet-style: C3 → 16, 3×3 s2 p1, relu, pool 3×3 s2 p1 over 97×131 (odd, rows in the padding)',
      'im2col + gemm (C8, K = 72), N = 2, pool 2×2 s2',
    ])
      it(name, async () => {
        const c = cases[name];
        const bytes = model(c);
        const bundle = join(dir, name.slice(0, 6));
        await writeBundle(bundle, await compileModel(bytes));
        const result = await inChild(bundle, 'relaxed', feeds(c), true);
        const { y } = outputsOf(result);
        expect('variant' in result && result.variant).toBe('relaxed');
        expect(compareTensors(y, (await runOrt(bytes, feeds(c))).y, 1e-4, 1e-5)).toBeUndefined();
      });
  });
});

/** Largest |a − b| relative to the largest |b|. */
function relativeError(a: HostTensor, b: HostTensor): number {
  const [x, y] = [a.data as Float32Array, b.data as Float32Array];
  let [err, range] = [0, 0];
  for (let i = 0; i < x.length; i++) {
    err = Math.max(err, Math.abs(x[i] - y[i]));
    range = Math.max(range, Math.abs(y[i]));
  }
  return err / range;
}
