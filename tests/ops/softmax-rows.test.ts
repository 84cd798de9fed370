/**
 * Softmax and LogSoftmax (3 passes: max; exp stored and summed; scale) against onnxruntime-node, on the
 * SIMD128 module in this process and the relaxed-SIMD one in a child process: row lengths that are not
 * multiples of 4 (scalar tails) and one as long as svtr's attention rows (960), attention-masked rows
 * (−10000 added, or −inf; onnxruntime's NaN only where the whole row is −inf), and axes that are not the
 * last one (strided rows) or that coerce the trailing dims into one row (opset 11).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { writeBundle } from '../../src/bundle/node.js';
import { loadModel } from '../../src/runtime/index.js';
import type { Feed } from '../../src/runtime/types.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { buildModel, seededRandom, type AttrSpec } from '../helpers/onnx-builder.js';
import { runOrt } from '../helpers/ort-oracle.js';
import { inChild, outputsOf } from '../runtime/child-run.js';

interface RowCase {
  name: string;
  op: 'Softmax' | 'LogSoftmax';
  opset: number;
  dims: number[];
  axis: number;
}

const rand = seededRandom(25);
/** rows of `d` values in [-8, 8); row 1 masked by −10000 and row 2 by −inf on every third element but the
 * first, row 3 all −inf (a fully masked row), the rest unmasked */
function maskedRows(rows: number, d: number): Float32Array {
  return Float32Array.from({ length: rows * d }, (_, i) => {
    const [r, c] = [Math.floor(i / d), i % d];
    const x = rand() * 16 - 8;
    const masked = c > 0 && c % 3 === 0;
    if (r === 1 && masked) return x - 10000;
    if (r === 2 && masked) return -Infinity;
    return r === 3 ? -Infinity : x;
  });
}

const CASES: RowCase[] = [
  ...[1, 3, 7, 33, 960].flatMap((d) =>
    (['Softmax', 'LogSoftmax'] as const).map((op) => ({
      name: `${op} rows of ${d}`,
      op,
      opset: 13,
      dims: [5, d],
      axis: -1,
    })),
  ),
  {
    name: 'Softmax 4×12×37 last axis of a batch of heads',
    op: 'Softmax',
    opset: 13,
    dims: [4, 12, 37],
    axis: 2,
  },
  { name: 'Softmax middle axis', op: 'Softmax', opset: 13, dims: [4, 33, 5], axis: 1 },
  { name: 'LogSoftmax first axis', op: 'LogSoftmax', opset: 13, dims: [4, 9, 7], axis: 0 },
  { name: 'Softmax opset 11 trailing dims as one row', op: 'Softmax', opset: 11, dims: [4, 3, 11], axis: 1 },
];

/** one model per opset, each case a node from its own input x<i> to y<i> */
function modelOf(cases: RowCase[], opset: number): Uint8Array {
  const axis = (c: RowCase): Record<string, AttrSpec> => ({ axis: { i: c.axis } });
  return buildModel({
    opset,
    inputs: cases.map((c, i) => ({ name: `x${i}`, dtype: 'float32', shape: c.dims })),
    outputs: cases.map((_, i) => ({ name: `y${i}`, dtype: 'float32' })),
    nodes: cases.map((c, i) => ({ op: c.op, inputs: [`x${i}`], outputs: [`y${i}`], attrs: axis(c) })),
  });
}

const feedsOf = (cases: RowCase[]): Record<string, HostTensor> =>
  Object.fromEntries(
    cases.map((c, i) => {
      const d = c.dims[c.dims.length - 1];
      const rows = c.dims.reduce((a, b) => a * b, 1) / d;
      return [`x${i}`, { dtype: 'float32', dims: c.dims, data: maskedRows(rows, d) }];
    }),
  );

const GROUPS = [13, 11].map((opset) => {
  const cases = CASES.filter((c) => c.opset === opset);
  return { opset, cases, bytes: modelOf(cases, opset), feeds: feedsOf(cases) };
});

function expectMatches(
  cases: RowCase[],
  ours: Record<string, HostTensor>,
  theirs: Record<string, HostTensor>,
): void {
  cases.forEach((c, i) => {
    const want = theirs[`y${i}`];
    // along the last axis, the masks are along the rows: only the fully masked row is NaN
    if (c.axis === -1 || c.axis === c.dims.length - 1)
      expect((want.data as Float32Array).filter(Number.isNaN).length, c.name).toBe(c.dims.at(-1));
    expect(compareTensors(ours[`y${i}`], want, 1e-5, 1e-6), c.name).toBeUndefined();
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-softmax-rows-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.each(GROUPS)('Softmax rows vs onnxruntime (opset $opset)', ({ opset, cases, bytes, feeds }) => {
  it('SIMD128', async () => {
    const files = await compileModel(bytes);
    await writeBundle(join(dir, `opset${opset}`), files);
    const model = await loadModel(files, { backend: 'wasm', variant: 'simd128' });
    try {
      const ours = (await model.run(feeds as Record<string, Feed>)) as Record<string, HostTensor>;
      expectMatches(cases, ours, await runOrt(bytes, feeds));
    } finally {
      model.dispose();
    }
  });

  it('relaxed SIMD (child process)', async () => {
    const result = await inChild(join(dir, `opset${opset}`), 'relaxed', feeds, true);
    expect('variant' in result && result.variant).toBe('relaxed');
    expectMatches(cases, outputsOf(result), await runOrt(bytes, feeds));
  });
});
