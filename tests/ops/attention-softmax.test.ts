/**
 * Attention's scale and mask computed in the Softmax's row passes (passes/fuse-softmax-input.ts →
 * kiln.FusedSoftmax) against onnxruntime-node, as exporters write the block: MatMul(Q, Kᵀ) → Div or Mul
 * by √d → Add(mask) → Softmax → MatMul(·, V). Masks [B,1,1,S] (padded keys) and [B,1,S,S] (causal),
 * additive −10000, −inf or float32's lowest (finfo.min), with a fully masked row (onnxruntime's NaN row
 * under −inf, a uniform row under the finite masks); S = 1, 7 and 65 (scalar tails); SIMD128 in this
 * process, relaxed SIMD in a child process; and one bundle with batch and sequence known only at run time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import type { CompileOptions } from '../../src/compiler/options.js';
import { writeBundle } from '../../src/bundle/node.js';
import { loadModel } from '../../src/runtime/index.js';
import type { Feed } from '../../src/runtime/types.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../helpers/onnx-builder.js';
import { runOrt } from '../helpers/ort-oracle.js';
import { inChild, outputsOf } from '../runtime/child-run.js';
import binaryen from 'binaryen';

const HEAD = 8;
const FILLS = { tenThousand: -10000, inf: -Infinity, finfoMin: -3.4028234663852886e38 } as const;

interface AttentionCase {
  name: string;
  batch: number;
  seq: number;
  mask: 'keys' | 'causal';
  scale: 'Div' | 'Mul';
  fill: keyof typeof FILLS;
}

const CASES: AttentionCase[] = [
  { name: 'S=1, key mask, Div', batch: 2, seq: 1, mask: 'keys', scale: 'Div', fill: 'tenThousand' },
  { name: 'S=7, key mask −inf, Mul', batch: 2, seq: 7, mask: 'keys', scale: 'Mul', fill: 'inf' },
  { name: 'S=65, key mask, Div', batch: 2, seq: 65, mask: 'keys', scale: 'Div', fill: 'tenThousand' },
  { name: 'S=7, causal −inf, Div', batch: 2, seq: 7, mask: 'causal', scale: 'Div', fill: 'inf' },
  { name: 'S=65, causal finfo.min, Mul', batch: 2, seq: 65, mask: 'causal', scale: 'Mul', fill: 'finfoMin' },
];

const maskDims = (c: { mask: AttentionCase['mask'] }, batch: number | string, seq: number | string) =>
  c.mask === 'keys' ? [batch, 1, 1, seq] : [batch, 1, seq, seq];

/** case i's attention block: q/k/v<i> [B,2,S,8], mask<i> → probs<i> (the Softmax) and out<i> */
function attentionNodes(c: AttentionCase, i: number): NodeSpec[] {
  return [
    { op: 'Transpose', inputs: [`k${i}`], outputs: [`kt${i}`], attrs: { perm: { ints: [0, 1, 3, 2] } } },
    { op: 'MatMul', inputs: [`q${i}`, `kt${i}`], outputs: [`scores${i}`] },
    { op: c.scale, inputs: [`scores${i}`, `scale${i}`], outputs: [`scaled${i}`] },
    { op: 'Add', inputs: [`scaled${i}`, `mask${i}`], outputs: [`masked${i}`] },
    { op: 'Softmax', inputs: [`masked${i}`], outputs: [`probs${i}`], attrs: { axis: { i: -1 } } },
    { op: 'MatMul', inputs: [`probs${i}`, `v${i}`], outputs: [`out${i}`] },
  ];
}

function attentionModel(cases: AttentionCase[], dims?: { batch: string; seq: string | number }): Uint8Array {
  const b = (c: AttentionCase) => dims?.batch ?? c.batch;
  const s = (c: AttentionCase) => dims?.seq ?? c.seq;
  return buildModel({
    opset: 13,
    inputs: cases.flatMap((c, i) => [
      ...['q', 'k', 'v'].map((n) => ({
        name: `${n}${i}`,
        dtype: 'float32' as const,
        shape: [b(c), 2, s(c), HEAD],
      })),
      { name: `mask${i}`, dtype: 'float32' as const, shape: maskDims(c, b(c), s(c)) },
    ]),
    outputs: cases.flatMap((_, i) => [
      { name: `probs${i}`, dtype: 'float32' as const },
      { name: `out${i}`, dtype: 'float32' as const },
    ]),
    initializers: cases.map((c, i) => ({
      name: `scale${i}`,
      tensor: {
        dtype: 'float32',
        dims: [],
        data: Float32Array.of(c.scale === 'Div' ? Math.sqrt(HEAD) : 1 / Math.sqrt(HEAD)),
      },
    })),
    nodes: cases.flatMap(attentionNodes),
  });
}

/**
 * Batch b's keys past S − b are padding (batch 0 has none); the causal mask hides keys after the query; in
 * the last batch the first query row is masked whole.
 */
function maskOf(c: AttentionCase, batch: number, seq: number): HostTensor {
  const dims = maskDims(c, batch, seq) as number[];
  const rows = c.mask === 'keys' ? 1 : seq;
  const fill = FILLS[c.fill];
  const data = Float32Array.from({ length: batch * rows * seq }, (_, n) => {
    const [b, q, key] = [Math.floor(n / (rows * seq)), Math.floor(n / seq) % rows, n % seq];
    const hidden = c.mask === 'keys' ? key >= seq - b : key > q || (b === batch - 1 && q === 0);
    return hidden ? fill : 0;
  });
  return { dtype: 'float32', dims, data };
}

function feedsOf(cases: AttentionCase[], at?: { batch: number; seq: number }): Record<string, HostTensor> {
  const rand = seededRandom(18);
  return Object.fromEntries(
    cases.flatMap((c, i) => {
      const [batch, seq] = [at?.batch ?? c.batch, at?.seq ?? c.seq];
      return [
        ...['q', 'k', 'v'].map((n) => [`${n}${i}`, randomTensor([batch, 2, seq, HEAD], rand, 3)] as const),
        [`mask${i}`, maskOf(c, batch, seq)] as const,
      ];
    }),
  );
}

/**
 * The probabilities to 1e-6; P·V's sums of terms of either sign (|V| up to 3) to 1e-5 where they cancel
 * out (the unfused graph is as far from onnxruntime there)
 */
const atolOf = (name: string) => (name.startsWith('out') ? 1e-5 : 1e-6);

function expectMatches(
  cases: AttentionCase[],
  ours: Record<string, HostTensor>,
  theirs: Record<string, HostTensor>,
) {
  cases.forEach((c, i) => {
    const probs = theirs[`probs${i}`].data as Float32Array;
    // only −inf masks a whole row to NaN (onnxruntime's result), and only where one row is masked whole
    const nanRows = c.fill === 'inf' && c.mask === 'causal' ? 2 : 0;
    expect(probs.filter(Number.isNaN).length, c.name).toBe(nanRows * c.seq);
    for (const name of [`probs${i}`, `out${i}`])
      expect(
        compareTensors(ours[name], theirs[name], 1e-4, atolOf(name)),
        `${c.name}: ${name}`,
      ).toBeUndefined();
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-attention-softmax-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('attention scale + mask + Softmax vs onnxruntime', () => {
  const bytes = attentionModel(CASES);
  const feeds = feedsOf(CASES);

  it('SIMD128, the Div/Mul and mask Add computed in the Softmax kernel', async () => {
    const files = await compileModel(bytes);
    await writeBundle(join(dir, 'static'), files);
    // the old graph ran a Div+Add (or Mul+Add) kernel and then a Softmax kernel over the stored scores;
    // a Div by the scale is a Mul by its reciprocal, computed once per row
    const ops = (files.manifest.kernels ?? []).map((k) => k.op);
    expect(ops.filter((op) => op.startsWith('FusedSoftmax+')).sort()).toEqual(
      CASES.map((c) => `FusedSoftmax+${c.scale === 'Div' ? 'Reciprocal+Mul' : 'Mul'}+Add`).sort(),
    );
    expect(ops.filter((op) => op.includes('Softmax') && !op.startsWith('FusedSoftmax+'))).toEqual([]);
    expect(ops.filter((op) => /^(Div|Mul|Add)\b/.test(op))).toEqual([]);
    const model = await loadModel(files, { backend: 'wasm', variant: 'simd128' });
    try {
      const ours = (await model.run(feeds as Record<string, Feed>)) as Record<string, HostTensor>;
      expectMatches(CASES, ours, await runOrt(bytes, feeds));
    } finally {
      model.dispose();
    }
  });

  it('divides by the scale once per row: no f32x4.div in the module', async () => {
    const files = await compileModel(attentionModel(CASES.filter((c) => c.scale === 'Div')), {
      relaxed: false,
    });
    const module = binaryen.readBinary(files.wasm);
    try {
      const text = module.emitText();
      expect(text).toContain('f32x4.mul');
      expect(text).not.toContain('f32x4.div');
    } finally {
      module.dispose();
    }
  });

  it('relaxed SIMD (child process)', async () => {
    const result = await inChild(join(dir, 'static'), 'relaxed', feeds, true);
    expect('variant' in result && result.variant).toBe('relaxed');
    expectMatches(CASES, outputsOf(result), await runOrt(bytes, feeds));
  });

  it('a bundle for wasm and webgpu compiles, the webgpu lowering keeping the unfused Softmax', async () => {
    const files = await compileModel(attentionModel(CASES.slice(0, 1)), {
      targets: ['wasm', 'webgpu'],
      relaxed: false,
    });
    expect(files.wgsl ?? '').toMatch(/Softmax/);
    expect((files.manifest.kernels ?? []).map((k) => k.op)).toContain('FusedSoftmax+Reciprocal+Mul+Add');
  });
});

/**
 * Both run-time dims: the fused kernel with strides computed at run time (symbolic-kernels.ts); the batch
 * alone (sequence 7): lowered for blocks of batch rows (lower-rows.ts), the mask's rows with them.
 */
describe.each<{ what: string; seq: string | number; dims: CompileOptions['dims']; runs: number[][] }>([
  {
    what: 'batch and sequence',
    seq: 'sequence',
    dims: { batch: { min: 1, max: 4 }, sequence: { min: 1, max: 80 } },
    runs: [
      [1, 1],
      [2, 7],
      [3, 65],
    ],
  },
  {
    what: 'batch',
    seq: 7,
    dims: { batch: { min: 1, max: 4 } },
    runs: [
      [1, 7],
      [3, 7],
    ],
  },
])('attention with $what known only at run time', ({ seq, dims, runs }) => {
  const cases = CASES.filter((c) => c.seq === 7);
  const bytes = attentionModel(cases, { batch: 'batch', seq });
  let model: Awaited<ReturnType<typeof loadModel>>;
  beforeAll(async () => {
    const files = await compileModel(bytes, { dims, relaxed: false });
    expect((files.manifest.kernels ?? []).some((k) => k.op.startsWith('FusedSoftmax+'))).toBe(true);
    model = await loadModel(files, { backend: 'wasm' });
  });
  afterAll(() => model.dispose());

  it.each(runs)('matches onnxruntime at batch %i, sequence %i', async (batch, seq) => {
    const feeds = feedsOf(cases, { batch, seq });
    const ours = (await model.run(feeds as Record<string, Feed>)) as Record<string, HostTensor>;
    const theirs = await runOrt(bytes, feeds);
    cases.forEach((c, i) => {
      for (const name of [`probs${i}`, `out${i}`])
        expect(
          compareTensors(ours[name], theirs[name], 1e-4, atolOf(name)),
          `${c.name} ${batch}×${seq}: ${name}`,
        ).toBeUndefined();
    });
  });
});
