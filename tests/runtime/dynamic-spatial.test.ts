/**
 * CNN ops over an image width known only at run time (#11, `--shape x=1,C,H,16..W`): Conv (strided,
 * padded, dilated, grouped, depthwise, with a fused Relu), BatchNormalization, MaxPool, AveragePool,
 * GlobalAveragePool and Pad, one bundle per model, matching onnxruntime-node at several widths.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import type { SymbolicDim } from '../../src/bundle/manifest.js';
import { checkManifestShape } from '../../src/bundle/verify.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../helpers/onnx-builder.js';
import { sameStridedCnn, widthKeepingCnn } from '../helpers/width-cnn.js';
import { ortMismatches } from '../helpers/ort-oracle.js';
import { crnnRec } from '../../scripts/bench-models.js';

describe('a CNN compiled once with --shape x=1,3,12,5..64', () => {
  const bytes = widthKeepingCnn();
  let model: Model;
  let files: BundleFiles;
  beforeAll(async () => {
    files = await compileModel(bytes, {
      shapes: { x: [1, 3, 12, { min: 5, max: 64 }] },
      relaxed: false,
    });
    model = await loadModel(files, { backend: 'wasm' });
  });
  afterAll(() => model.dispose());

  test('lists the width as a bounded dim of the input and the feature map', () => {
    expect(model.inputs[0].shape).toEqual([1, 3, 12, { name: 'width', min: 5, max: 64 }]);
    // the runtime sizes it from the floor division the manifest lists
    expect(model.outputs[0].shape).toMatchObject([
      1,
      6,
      3,
      { name: 'floor((width + 1) / 2)', min: 3, max: 32 },
    ]);
    expect(model.outputs[1].shape).toEqual([1, 6, 1, 1]);
  });

  test('the manifest lists the floor division a dim reads, and a malformed one is refused', () => {
    const out = files.manifest.outputs[0].shape[3] as SymbolicDim;
    expect(out.quotients).toEqual([
      { name: 'floor((width + 1) / 2)', of: { c: 1, terms: [{ coef: 1, symbols: ['width'] }] }, by: 2 },
    ]);
    const edited = (edit: (d: SymbolicDim) => void) => {
      const m = structuredClone(files.manifest);
      edit(m.outputs[0].shape[3] as SymbolicDim);
      return () => checkManifestShape(m);
    };
    expect(edited(() => {})).not.toThrow();
    expect(edited((d) => (d.quotients![0].by = 0))).toThrow(
      'shape must be a list of non-negative integers and { name, min, max } bounds',
    );
    expect(edited((d) => (d.quotients![0].of.terms[0].symbols = ['height']))).toThrow(
      'shape symbol "height" is not in the dims block',
    );
  });

  test.each([5, 7, 16, 33, 64])('matches onnxruntime at width %i', async (w) => {
    const x = randomTensor([1, 3, 12, w], seededRandom(w));
    expect(await ortMismatches(bytes, model, { x })).toEqual([]);
  });
});

describe('symbolic widths that the kernels cannot take are one compile error', () => {
  const unpadded = (attrs: NodeSpec['attrs'] = {}) =>
    buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 4, 'width'] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      nodes: [
        { op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: { ints: [1, 3] }, ...attrs } },
      ],
    });
  const compile = (bytes: Uint8Array, min: number) =>
    compileModel(bytes, { shapes: { x: [1, 2, 4, { min, max: 64 }] }, relaxed: false });

  test('a window wider than the lower bound names the op, the dim and the way out', async () => {
    await expect(compile(unpadded(), 2)).rejects.toThrow(
      /MaxPool node .*dim width .*is wider than dim width at its lower bound; raise it with --shape/,
    );
    await expect(compile(unpadded(), 3)).resolves.toBeDefined();
  });

  test('ceil_mode with count_include_pad over a symbolic dim is refused', async () => {
    const averaged = buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 4, 'width'] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      nodes: [
        {
          op: 'AveragePool',
          inputs: ['x'],
          outputs: ['y'],
          attrs: { kernel_shape: { ints: [1, 3] }, ceil_mode: { i: 1 }, count_include_pad: { i: 1 } },
        },
      ],
    });
    await expect(compile(averaged, 3)).rejects.toThrow(/ceil_mode with count_include_pad over dim width/);
  });
});

describe('auto_pad SAME at stride 2 over a run-time width bounded with a step the stride divides', () => {
  const stepped = (step?: number, min = 4, max = 64) => ({
    x: [1, 3, 8, { min, max, ...(step && { step }) }],
  });

  test.each(['SAME_UPPER', 'SAME_LOWER'])(
    '%s matches onnxruntime at widths 4, 12 and 64',
    async (autoPad) => {
      const bytes = sameStridedCnn(autoPad);
      const model = await loadModel(await compileModel(bytes, { shapes: stepped(4), relaxed: false }), {
        backend: 'wasm',
      });
      try {
        for (const w of [4, 12, 64]) {
          const x = randomTensor([1, 3, 8, w], seededRandom(w));
          expect(await ortMismatches(bytes, model, { x })).toEqual([]);
        }
      } finally {
        model.dispose();
      }
    },
  );

  test('without a step the stride divides, one compile error saying how to bound it', async () => {
    for (const shapes of [stepped(), stepped(3, 3, 63)])
      await expect(compileModel(sameStridedCnn('SAME_UPPER'), { shapes, relaxed: false })).rejects.toThrow(
        /auto_pad SAME_UPPER with stride 2 .* unless the stride divides it; bound it with a step that 2 divides \(--dim NAME=MIN\.\.MAX:STEP\)/,
      );
  });
});

describe('MaxPool and AveragePool with ceil_mode over a run-time width', () => {
  // ceil_mode keeps a last partial window, but not one that would start in the end padding; a static
  // height (7) pooled with ceil_mode beside it
  const bytes = buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 7, 'width'] }],
    outputs: ['max', 'avg', 'padded'].map((name) => ({ name: `${name}_mean`, dtype: 'float32' })),
    nodes: [
      {
        op: 'MaxPool',
        inputs: ['x'],
        outputs: ['max'],
        attrs: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, ceil_mode: { i: 1 } },
      },
      {
        op: 'AveragePool',
        inputs: ['x'],
        outputs: ['avg'],
        attrs: { kernel_shape: { ints: [2, 3] }, strides: { ints: [2, 3] }, ceil_mode: { i: 1 } },
      },
      {
        op: 'MaxPool',
        inputs: ['x'],
        outputs: ['padded'],
        attrs: {
          kernel_shape: { ints: [2, 2] },
          strides: { ints: [2, 2] },
          pads: { ints: [1, 1, 1, 1] },
          ceil_mode: { i: 1 },
        },
      },
      // a size rounded by ceil_mode is a min() of two expressions, which an output's shape cannot list:
      // each map's mean changes with a window added or dropped
      ...['max', 'avg', 'padded'].map((name) => ({
        op: 'GlobalAveragePool',
        inputs: [name],
        outputs: [`${name}_mean`],
      })),
    ],
  });
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(
      await compileModel(bytes, { shapes: { x: [1, 2, 7, { min: 3, max: 40 }] }, relaxed: false }),
      { backend: 'wasm' },
    );
  });
  afterAll(() => model.dispose());

  test.each([3, 4, 5, 8, 9, 40])('matches onnxruntime at width %i', async (w) => {
    const x = randomTensor([1, 2, 7, w], seededRandom(w));
    expect(await ortMismatches(bytes, model, { x })).toEqual([]);
  });
});

describe("the bench's OCR recognizer (crnn-rec) compiled once with --shape x=1,3,48,16..1024", () => {
  const { bytes } = crnnRec();
  let model: Model;
  beforeAll(async () => {
    const files = await compileModel(bytes, {
      shapes: { x: [1, 3, 48, { min: 16, max: 1024 }] },
      relaxed: false,
    });
    model = await loadModel(files, { backend: 'wasm' });
  }, 300_000);
  afterAll(() => model.dispose());

  // the sequence is floor((floor((width + 1) / 2) + 1) / 4) long: 2, 9, 12, 40, 83 and 128 steps
  test.each([16, 75, 100, 320, 667, 1024])('matches onnxruntime at width %i', async (w) => {
    const x = randomTensor([1, 3, 48, w], seededRandom(w));
    expect(await ortMismatches(bytes, model, { x })).toEqual([]);
  });
});

describe('Pad in modes reflect, edge and wrap over a run-time width', () => {
  const pads = (...xs: number[]) => ({
    dtype: 'int64' as const,
    dims: [xs.length],
    data: BigInt64Array.from(xs.map(BigInt)),
  });
  const bytes = buildModel({
    opset: 19,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 3, 'width'] }],
    outputs: ['reflect', 'edge', 'wrap'].map((name) => ({ name, dtype: 'float32' })),
    nodes: ['reflect', 'edge', 'wrap'].map((mode) => ({
      op: 'Pad',
      inputs: ['x', 'pads'],
      outputs: [mode],
      attrs: { mode: { s: mode } },
    })),
    // height 1 before and 2 after, width 3 before and 2 after
    initializers: [{ name: 'pads', tensor: pads(0, 0, 1, 3, 0, 0, 2, 2) }],
  });
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(
      await compileModel(bytes, { shapes: { x: [1, 2, 3, { min: 4, max: 40 }] }, relaxed: false }),
      { backend: 'wasm' },
    );
  });
  afterAll(() => model.dispose());

  test.each([4, 5, 17, 40])('matches onnxruntime at width %i', async (w) => {
    const x = randomTensor([1, 2, 3, w], seededRandom(w));
    expect(await ortMismatches(bytes, model, { x })).toEqual([]);
  });

  test('a reflection wider than the lower bound is one compile error saying to raise it', async () => {
    await expect(
      compileModel(bytes, { shapes: { x: [1, 2, 3, { min: 3, max: 40 }] }, relaxed: false }),
    ).rejects.toThrow(
      /Pad in mode reflect by 3 over dim width, which may be 3; raise its lower bound above 3/,
    );
  });
});
