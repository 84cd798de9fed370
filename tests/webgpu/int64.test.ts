/**
 * int64 graphs on Dawn (lavapipe in CI): WGSL emulates 64-bit integers as two u32 words, so index, shape
 * and id tensors run on the GPU. Each model is run on the webgpu backend and compared with onnxruntime,
 * exactly for integer outputs.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { buildModel, type ModelSpec } from '../helpers/onnx-builder.js';
import { runOrt } from '../helpers/ort-oracle.js';
import { asFeeds, nodeGpu } from './fixture.js';

const i64 = (dims: number[], values: bigint[]): HostTensor => ({
  dtype: 'int64',
  dims,
  data: BigInt64Array.from(values),
});
const f32 = (dims: number[], values: number[]): HostTensor => ({
  dtype: 'float32',
  dims,
  data: Float32Array.from(values),
});

/**
 * The model on the webgpu backend and on onnxruntime, output by output; `expected` replaces onnxruntime's
 * answer where it is wrong.
 */
async function expectOrtOnGpu(
  spec: ModelSpec,
  feeds: Record<string, HostTensor>,
  {
    shapes = {},
    expected = {},
  }: { shapes?: Record<string, number[]>; expected?: Record<string, HostTensor> } = {},
) {
  const bytes = buildModel(spec);
  const files = await compileModel(bytes, { targets: ['wasm', 'webgpu'], shapes, onWarning: () => {} });
  expect(files.manifest.targets).toEqual(['wasm', 'webgpu']);
  const model = await loadModel(files, { backend: 'webgpu', gpu: await nodeGpu() });
  try {
    const ours = await model.run(asFeeds(feeds));
    for (const [name, theirs] of Object.entries({ ...(await runOrt(bytes, feeds)), ...expected })) {
      expect(ours[name].dtype, name).toBe(theirs.dtype);
      expect(compareTensors(ours[name] as HostTensor, theirs, 0, 0), name).toBeUndefined();
    }
  } finally {
    model.dispose();
  }
}

const BIG = [3n << 40n, -(5n << 33n) - 7n, 4_000_000_000n, -1n, 0n, (1n << 62n) + 12345n];
const SMALL = [7n, -3n, 3n, -(1n << 20n), 1_000_003n, -2n];

describe('int64 on the webgpu backend', () => {
  it('gathers rows by int64 indices, negative ones counting from the end', async () => {
    const table = f32(
      [6, 3],
      Array.from({ length: 18 }, (_, i) => i * 0.5 - 3),
    );
    await expectOrtOnGpu(
      {
        inputs: [
          { name: 'table', dtype: 'float32', shape: [6, 3] },
          { name: 'ids', dtype: 'int64', shape: [2, 3] },
        ],
        outputs: [{ name: 'rows', dtype: 'float32', shape: [2, 3, 3] }],
        nodes: [{ op: 'Gather', inputs: ['table', 'ids'], outputs: ['rows'], attrs: { axis: { i: 0 } } }],
      },
      { table, ids: i64([2, 3], [0n, -1n, 5n, -6n, 2n, 3n]) },
    );
  });

  it('adds, multiplies, compares and selects values past 2^32, negatives and -2^63', async () => {
    const a = i64([6], BIG);
    const b = i64([6], SMALL);
    const ops = [
      ['Add', 'int64'],
      ['Sub', 'int64'],
      ['Mul', 'int64'],
      ['Div', 'int64'],
      ['Mod', 'int64'],
      ['Max', 'int64'],
      ['Min', 'int64'],
      ['Less', 'bool'],
      ['Greater', 'bool'],
      ['Equal', 'bool'],
    ] as const;
    await expectOrtOnGpu(
      {
        inputs: [
          { name: 'a', dtype: 'int64', shape: [6] },
          { name: 'b', dtype: 'int64', shape: [6] },
          { name: 'm', dtype: 'int64', shape: [2] },
        ],
        outputs: [
          ...ops.map(([op, dtype]) => ({ name: op, dtype, shape: [6] })),
          { name: 'Where', dtype: 'int64' as const, shape: [6] },
          { name: 'Neg', dtype: 'int64' as const, shape: [2] },
          { name: 'Abs', dtype: 'int64' as const, shape: [2] },
        ],
        nodes: [
          ...ops.map(([op]) => ({ op, inputs: ['a', 'b'], outputs: [op] })),
          { op: 'Where', inputs: ['Less', 'a', 'b'], outputs: ['Where'] },
          { op: 'Neg', inputs: ['m'], outputs: ['Neg'] },
          { op: 'Abs', inputs: ['m'], outputs: ['Abs'] },
        ],
      },
      { a, b, m: i64([2], [-(1n << 63n), (1n << 63n) - 1n]) },
      // onnxruntime-node's int64 Max/Min answer max(4000000000, 3) = 3 (as if compared in 32 bits)
      {
        expected: {
          Max: i64(
            [6],
            BIG.map((x, i) => (x > SMALL[i] ? x : SMALL[i])),
          ),
          Min: i64(
            [6],
            BIG.map((x, i) => (x < SMALL[i] ? x : SMALL[i])),
          ),
        },
      },
    );
  });

  it('casts int64 to float32 (rounding to nearest even) and back (truncating)', async () => {
    await expectOrtOnGpu(
      {
        inputs: [
          { name: 'ids', dtype: 'int64', shape: [6] },
          { name: 'x', dtype: 'float32', shape: [6] },
        ],
        outputs: [
          { name: 'asFloat', dtype: 'float32', shape: [6] },
          { name: 'asInt', dtype: 'int64', shape: [6] },
        ],
        nodes: [
          { op: 'Cast', inputs: ['ids'], outputs: ['asFloat'], attrs: { to: { i: 1 } } },
          { op: 'Cast', inputs: ['x'], outputs: ['asInt'], attrs: { to: { i: 7 } } },
        ],
      },
      {
        ids: i64(
          [6],
          [(1n << 40n) + (1n << 16n), (1n << 40n) + (3n << 16n), -(1n << 63n), 16777217n, -5n, 0n],
        ),
        x: f32([6], [-3.7, 2.5, 1e12, -1e15, 4294967296, -0.5]),
      },
    );
  });

  it('adds a Shape → Gather → Mul chain and a Range to run-time ids; ArgMax writes int64', async () => {
    await expectOrtOnGpu(
      {
        inputs: [
          { name: 'x', dtype: 'float32', shape: ['n', 4] },
          { name: 'ids', dtype: 'int64', shape: ['n'] },
        ],
        outputs: [
          { name: 'shifted', dtype: 'int64', shape: ['n'] },
          { name: 'best', dtype: 'int64', shape: ['n'] },
        ],
        initializers: [
          { name: 'zero', tensor: i64([], [0n]) },
          { name: 'step', tensor: i64([], [1n << 35n]) },
          { name: 'big', tensor: i64([], [-(1n << 35n)]) },
        ],
        nodes: [
          { op: 'Shape', inputs: ['x'], outputs: ['shape'] },
          { op: 'Gather', inputs: ['shape', 'zero'], outputs: ['rows'], attrs: { axis: { i: 0 } } },
          { op: 'Mul', inputs: ['rows', 'big'], outputs: ['scaled'] },
          { op: 'Range', inputs: ['scaled', 'zero', 'step'], outputs: ['steps'] },
          { op: 'Add', inputs: ['ids', 'steps'], outputs: ['stepped'] },
          { op: 'Add', inputs: ['stepped', 'scaled'], outputs: ['shifted'] },
          { op: 'ArgMax', inputs: ['x'], outputs: ['best'], attrs: { axis: { i: 1 }, keepdims: { i: 0 } } },
        ],
      },
      {
        x: f32([3, 4], [1, 5, 2, 0, -1, -2, -3, -4, 0, 0, 9, 9]),
        ids: i64([3], [5n, -(1n << 40n), 1n << 50n]),
      },
      { shapes: { x: [3, 4], ids: [3] } },
    );
  });
});
