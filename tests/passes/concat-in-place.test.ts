/**
 * Concats that cost nothing (src/compiler/concat-in-place.ts): where each input is one contiguous block
 * of the output and is read by the Concat alone, the node computing it writes its block in place and the
 * Concat has no kernel. Checked against onnxruntime-node on a SqueezeNet-style fire module (float32 and
 * `--weights int8`, whose result equals the same model with the Concat's inputs also graph outputs, so
 * copied), a Concat that is a graph output, a Concat of Concats, and the cases that keep their copies
 * (an input that is a graph input or read twice, two images); the memory plan shrinks.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../helpers/onnx-builder.js';
import { runKiln, runOrt } from '../helpers/ort-oracle.js';

const conv = (x: string, w: string, y: string, pad = 0): NodeSpec[] => [
  { op: 'Conv', inputs: [x, w], outputs: [`${y}_c`], attrs: { pads: { ints: [pad, pad, pad, pad] } } },
  { op: 'Relu', inputs: [`${y}_c`], outputs: [y] },
];

/** x [N, 8, 23, 21] → squeeze 1×1 (32) → expand 1×1 (16) ‖ expand 3×3 (16) → Concat → `tail` */
function fireModel(opts: { n?: number; tail?: NodeSpec[]; outputs?: string[]; extraInputs?: boolean } = {}) {
  const n = opts.n ?? 1;
  const rand = seededRandom(5);
  const nodes: NodeSpec[] = [
    ...conv('x', 'ws', 's'),
    ...conv('s', 'w1', 'e1'),
    ...conv('s', 'w3', 'e3', 1),
    { op: 'Concat', inputs: ['e1', 'e3'], outputs: ['cat'], attrs: { axis: { i: 1 } } },
    ...(opts.tail ?? [
      { op: 'MaxPool', inputs: ['cat'], outputs: ['y'], attrs: { kernel_shape: { ints: [2, 2] } } },
    ]),
  ];
  return buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [n, 8, 23, 21] }],
    outputs: (opts.outputs ?? ['y']).map((name) => ({ name, dtype: 'float32' as const })),
    initializers: [
      { name: 'ws', tensor: randomTensor([32, 8, 1, 1], rand, 0.5) },
      { name: 'w1', tensor: randomTensor([16, 32, 1, 1], rand, 0.5) },
      // 18 KiB: int8 with --weights int8 (MIN_COMPRESSED_BYTES)
      { name: 'w3', tensor: randomTensor([16, 32, 3, 3], rand, 0.2) },
      { name: 'w15', tensor: randomTensor([15, 32, 1, 1], rand, 0.5) },
    ],
    nodes,
  });
}

const feeds = (n = 1) => ({ x: randomTensor([n, 8, 23, 21], seededRandom(n)) });
/** Whether the bundle copies into a Concat's output (a kernel per input). */
const copies = async (bytes: Uint8Array) =>
  ((await compileModel(bytes)).manifest.kernels ?? []).some((k) => k.op === 'Concat');

async function expectMatchesOrt(bytes: Uint8Array, n = 1): Promise<void> {
  const want = await runOrt(bytes, feeds(n));
  const got = await runKiln(bytes, feeds(n));
  for (const name of Object.keys(want))
    expect(compareTensors(got[name], want[name], 1e-4, 1e-5), name).toBeUndefined();
}

describe('Concat in place', () => {
  it('a fire module: no Concat kernel, matches onnxruntime', async () => {
    const bytes = fireModel();
    expect(await copies(bytes)).toBe(false);
    await expectMatchesOrt(bytes);
  });

  it('the arena holds a concatenation of two 1×1 convs once, not beside its inputs', async () => {
    const bytes = buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 8, 23, 21] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: ['w1', 'w2'].map((name, i) => ({
        name,
        tensor: randomTensor([16, 8, 1, 1], seededRandom(i), 0.5),
      })),
      nodes: [
        ...conv('x', 'w1', 'e1'),
        ...conv('x', 'w2', 'e2'),
        { op: 'Concat', inputs: ['e1', 'e2'], outputs: ['cat'], attrs: { axis: { i: 1 } } },
        { op: 'MaxPool', inputs: ['cat'], outputs: ['y'], attrs: { kernel_shape: { ints: [2, 2] } } },
      ],
    });
    const expand = 16 * 23 * 21 * 4;
    // with the copies, e1, e2 and their concatenation (4 × expand) were live at the Concat
    expect((await compileModel(bytes)).manifest.memory.arenaBytes).toBeLessThan(3 * expand);
    await expectMatchesOrt(bytes);
  });

  it('keeps the copies where writing in place would plan more memory (a block made long before the other)', async () => {
    // a (16 channels) is made first; then t1, t2 (64 each) before b (16): in place, a's and b's blocks
    // would be live beside t1 and t2 (160 channels' worth) where the copies need 144
    const w = (name: string, m: number, c: number) => ({
      name,
      tensor: randomTensor([m, c, 1, 1], seededRandom(m + c), 0.5),
    });
    const bytes = buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 8, 23, 21] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: [w('wa', 16, 8), w('w1', 64, 8), w('w2', 64, 64), w('wb', 16, 64)],
      nodes: [
        ...conv('x', 'wa', 'a'),
        ...conv('x', 'w1', 't1'),
        ...conv('t1', 'w2', 't2'),
        ...conv('t2', 'wb', 'b'),
        { op: 'Concat', inputs: ['a', 'b'], outputs: ['cat'], attrs: { axis: { i: 1 } } },
        { op: 'MaxPool', inputs: ['cat'], outputs: ['y'], attrs: { kernel_shape: { ints: [2, 2] } } },
      ],
    });
    expect(await copies(bytes)).toBe(true);
    await expectMatchesOrt(bytes);
  });

  it('int8 weights: the same result as with the copies', async () => {
    const { weights } = (await compileModel(fireModel(), { weights: 'int8' })).manifest;
    expect(weights.find((w) => w.name === 'w3')?.quant?.dtype).toBe('int8');
    const inPlace = await runKiln(fireModel(), feeds(), { weights: 'int8' });
    const copied = fireModel({ outputs: ['y', 'e1', 'e3'] });
    expect(await copies(copied)).toBe(true);
    const apart = await runKiln(copied, feeds(), { weights: 'int8' });
    expect(Array.from(inPlace.y.data as Float32Array)).toEqual(Array.from(apart.y.data as Float32Array));
    expect(relativeError(inPlace.y, (await runOrt(fireModel(), feeds())).y)).toBeLessThan(0.02);
  });

  it('a Concat that is a graph output, and a Concat of Concats', async () => {
    const asOutput = fireModel({ tail: [], outputs: ['cat'] });
    expect(await copies(asOutput)).toBe(false);
    await expectMatchesOrt(asOutput);
    const nested = fireModel({
      tail: [
        ...conv('s', 'w1', 'f1'),
        { op: 'Concat', inputs: ['cat', 'f1'], outputs: ['y'], attrs: { axis: { i: -3 } } },
      ],
    });
    expect(await copies(nested)).toBe(false);
    await expectMatchesOrt(nested);
  });

  it('keeps the copy for an input that is a graph input or read twice, for two images, and for a block not 16-byte aligned', async () => {
    const readTwice = fireModel({
      tail: [{ op: 'Concat', inputs: ['cat', 'e1'], outputs: ['y'], attrs: { axis: { i: 1 } } }],
    });
    expect(await copies(readTwice)).toBe(true);
    await expectMatchesOrt(readTwice);
    // a squeeze conv's output beside the image it was computed from
    const withInput = buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 8, 23, 21] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: [{ name: 'ws', tensor: randomTensor([32, 8, 1, 1], seededRandom(6), 0.5) }],
      nodes: [
        ...conv('x', 'ws', 's'),
        { op: 'Concat', inputs: ['s', 'x'], outputs: ['y'], attrs: { axis: { i: 1 } } },
      ],
    });
    expect(await copies(withInput)).toBe(true);
    await expectMatchesOrt(withInput);
    // 15 channels of 23 × 21: the second block would start 4-byte aligned only
    const unaligned = fireModel({
      tail: [
        ...conv('s', 'w15', 'f15'),
        { op: 'Concat', inputs: ['f15', 'cat'], outputs: ['y'], attrs: { axis: { i: 1 } } },
      ],
    });
    expect(await copies(unaligned)).toBe(true);
    await expectMatchesOrt(unaligned);
    const twoImages = fireModel({ n: 2 });
    expect(await copies(twoImages)).toBe(true);
    await expectMatchesOrt(twoImages, 2);
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
