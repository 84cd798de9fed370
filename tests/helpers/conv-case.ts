/** A Conv → (Relu | Clip) model from a compact case, checked against onnxruntime-node: the conv op tests' harness. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { writeBundle } from '../../src/bundle/node.js';
import { tensorFromNumbers } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { buildModel, randomTensor, seededRandom, type AttrSpec, type NodeSpec } from './onnx-builder.js';
import { runKiln, runOrt } from './ort-oracle.js';
import { inChild, outputsOf } from '../runtime/child-run.js';

export interface ConvCase {
  /** X's shape [N, C, H, W] */
  x: number[];
  /** output channels */
  m: number;
  /** square kernel size */
  k: number;
  group?: number;
  stride?: number;
  dilation?: number;
  pads?: number[];
  autoPad?: string;
  bias?: boolean;
  /** an activation after the conv, which Kiln fuses into it */
  act?: 'relu' | 'clip';
}

/** The model; weights drawn from `seed`, scaled by `weightScale` (randomTensor's default when absent). */
export function convModel(c: ConvCase, seed: number, weightScale?: number): Uint8Array {
  const [, C] = c.x;
  const group = c.group ?? 1;
  const r = seededRandom(seed);
  const attrs: Record<string, AttrSpec> = {
    group: { i: group },
    strides: { ints: [c.stride ?? 1, c.stride ?? 1] },
    dilations: { ints: [c.dilation ?? 1, c.dilation ?? 1] },
  };
  if (c.pads) attrs.pads = { ints: c.pads };
  if (c.autoPad) attrs.auto_pad = { s: c.autoPad };
  const nodes: NodeSpec[] = [
    { op: 'Conv', inputs: ['x', 'w', ...(c.bias ? ['b'] : [])], outputs: [c.act ? 'c' : 'y'], attrs },
  ];
  if (c.act === 'relu') nodes.push({ op: 'Relu', inputs: ['c'], outputs: ['y'] });
  if (c.act === 'clip') nodes.push({ op: 'Clip', inputs: ['c', 'lo', 'hi'], outputs: ['y'] });
  return buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: c.x }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: [
      { name: 'w', tensor: randomTensor([c.m, C / group, c.k, c.k], r, weightScale) },
      ...(c.bias ? [{ name: 'b', tensor: randomTensor([c.m], r) }] : []),
      ...(c.act === 'clip'
        ? [
            { name: 'lo', tensor: tensorFromNumbers('float32', [], [-0.5]) },
            { name: 'hi', tensor: tensorFromNumbers('float32', [], [0.75]) },
          ]
        : []),
    ],
    nodes,
  });
}

/** The case's random X (seeded by its shape and kernel size). */
const convFeeds = (c: Pick<ConvCase, 'x' | 'k'>) => ({
  x: randomTensor(c.x, seededRandom(c.x.reduce((a, b) => a + b, c.k))),
});

/** Kiln's output for a random X equals onnxruntime-node's (rtol 1e-4, atol 1e-5). */
export async function expectConvMatchesOrt(c: Pick<ConvCase, 'x' | 'k'>, bytes: Uint8Array): Promise<void> {
  const feeds = convFeeds(c);
  const want = (await runOrt(bytes, feeds)).y;
  const got = (await runKiln(bytes, feeds)).y;
  expect(compareTensors(got, want, 1e-4, 1e-5)).toBeUndefined();
}

/**
 * The same with the relaxed-SIMD module (fused multiply-add), run in a child process with Node 20's flag
 * (tests/runtime/relaxed-child.ts); the bundle and feeds are written under `dir` as `name`.
 */
export async function expectRelaxedConvMatchesOrt(
  c: Pick<ConvCase, 'x' | 'k'>,
  bytes: Uint8Array,
  dir: string,
  name: string,
): Promise<void> {
  const feeds = convFeeds(c);
  const bundle = join(dir, name);
  await writeBundle(bundle, await compileModel(bytes));
  const result = await inChild(bundle, 'relaxed', feeds, true);
  const { y } = outputsOf(result); // throws the child's error
  expect('variant' in result && result.variant).toBe('relaxed');
  expect(compareTensors(y, (await runOrt(bytes, feeds)).y, 1e-4, 1e-5)).toBeUndefined();
}

/**
 * Two suites over `cases`: each model (`modelOf`) against onnxruntime-node with the SIMD128 module here, and
 * with the relaxed-SIMD one in a child process (bundles under a temporary directory named after `prefix`).
 */
export function describeConvCases(
  title: string,
  cases: Record<string, ConvCase>,
  modelOf: (c: ConvCase) => Uint8Array,
  prefix: string,
): void {
  describe(`${title} matches onnxruntime (SIMD128)`, () => {
    for (const [name, c] of Object.entries(cases)) it(name, () => expectConvMatchesOrt(c, modelOf(c)));
  });

  describe(`${title} matches onnxruntime (relaxed SIMD, child process)`, () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    Object.entries(cases).forEach(([name, c], i) =>
      it(name, () => expectRelaxedConvMatchesOrt(c, modelOf(c), dir, `case${i}`)),
    );
  });
}
