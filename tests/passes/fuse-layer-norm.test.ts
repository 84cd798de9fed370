/**
 * Decomposed LayerNorm (passes/fuse-layer-norm.ts): the nine nodes become one LayerNormalization kernel on
 * the wasm target, and the bundle computes what onnxruntime does with the decomposed graph, for rows that
 * are not multiples of the sums' 16-element groups (5, 127, 1000) and BERT's 384, on both wasm variants.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { ortMismatches } from '../helpers/ort-oracle.js';
import { describeRelaxedCases } from '../helpers/relaxed-cases.js';
import { decomposedLayerNorm, type LayerNormVariant } from '../helpers/layer-norm-models.js';

const DECOMPOSED = ['ReduceMean', 'Sub', 'Mul', 'ReduceMean', 'Add+Sqrt', 'Div+Mul+Add'];

interface Case {
  shape: number[];
  variant?: LayerNormVariant;
  epsilon?: number;
  /** the manifest's kernel labels */
  kernels: string[];
}

const CASES: Record<string, Case> = {
  'rows of 384 (BERT)': { shape: [1, 7, 384], kernels: ['LayerNormalization'] },
  'rows of 5': { shape: [3, 5], kernels: ['LayerNormalization'] },
  'rows of 127, ε 1e-12': { shape: [2, 3, 127], epsilon: 1e-12, kernels: ['LayerNormalization'] },
  'rows of 1000, no β': { shape: [1, 3, 1000], variant: { noBias: true }, kernels: ['LayerNormalization'] },
  'd² as Mul(d, d)': { shape: [4, 33], variant: { mulSquare: true }, kernels: ['LayerNormalization'] },
  'axes as input (opset 18)': {
    shape: [2, 20],
    variant: { axesInput: true },
    kernels: ['LayerNormalization'],
  },
  'd also a graph output: not fused': {
    shape: [2, 20],
    variant: { exposeDeviation: true },
    kernels: DECOMPOSED,
  },
};

const feedsOf = (shape: number[]) => ({ x: randomTensor(shape, seededRandom(shape.length * 31 + 3), 4) });

describe('decomposed LayerNorm fusion', () => {
  for (const [name, c] of Object.entries(CASES))
    it(`${name}: ${c.kernels.length === 1 ? 'one kernel' : 'kept'}, as onnxruntime computes it`, async () => {
      const bytes = decomposedLayerNorm(c.shape, c.variant, c.epsilon);
      const files = await compileModel(bytes, { relaxed: false });
      expect((files.manifest.kernels ?? []).map((k) => k.op)).toEqual(c.kernels);
      const model = await loadModel(files, { backend: 'wasm' });
      try {
        expect(await ortMismatches(bytes, model, feedsOf(c.shape))).toEqual([]);
      } finally {
        model.dispose();
      }
    });

  it('rows counted at run time (a bounded dim): one kernel, right at several counts', async () => {
    const bytes = decomposedLayerNorm(['n', 7, 384]);
    const files = await compileModel(bytes, { relaxed: false, dims: { n: { min: 1, max: 9 } } });
    expect(new Set((files.manifest.kernels ?? []).map((k) => k.op))).toEqual(new Set(['LayerNormalization']));
    const model = await loadModel(files, { backend: 'wasm' });
    try {
      for (const n of [1, 5, 9])
        expect(await ortMismatches(bytes, model, { x: randomTensor([n, 7, 384], seededRandom(n)) })).toEqual(
          [],
        );
    } finally {
      model.dispose();
    }
  });

  it('rows whose values sit far from 0 (a large mean, a small spread)', async () => {
    const bytes = decomposedLayerNorm([2, 129]);
    const x = randomTensor([2, 129], seededRandom(5), 0.5);
    const data = x.data as Float32Array;
    for (let i = 0; i < data.length; i++) data[i] += 100;
    const model = await loadModel(await compileModel(bytes, { relaxed: false }), { backend: 'wasm' });
    try {
      expect(await ortMismatches(bytes, model, { x })).toEqual([]);
    } finally {
      model.dispose();
    }
  });
});

describeRelaxedCases(
  'kiln-layer-norm',
  Object.fromEntries(
    // without β the kernel has no multiply-add: its bundle has no relaxed module to run
    Object.entries(CASES)
      .filter(([, c]) => !c.variant?.noBias)
      .map(([name, c]) => [
        name,
        () => ({ bytes: decomposedLayerNorm(c.shape, c.variant, c.epsilon), feeds: feedsOf(c.shape) }),
      ]),
  ),
  [1e-3, 1e-5],
);
