/**
 * Kernels storing types narrower than 32 bits (float16, int8, uint8, bool) at odd lengths: each WebGPU
 * invocation owns whole u32 words of the output, so the dispatch is spread over invocations, and the
 * outputs equal the wasm backend's on Dawn.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel, type Feed } from '../../src/runtime/index.js';
import { floatToHalf } from '../../src/ir/float16.js';
import type { DType } from '../../src/ir/dtype.js';
import { buildModel, type NodeSpec } from '../helpers/onnx-builder.js';
import { testGpu } from '../helpers/gpu.js';

interface Case {
  name: string;
  input: DType;
  output: DType;
  node: Omit<NodeSpec, 'inputs' | 'outputs'>;
  /** elements per u32 word of the output */
  perWord: number;
  data: (n: number, seed: number) => Feed['data'];
}

const ints = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => ((i * 37 + seed * 11) % 255) - 127);
const CASES: Case[] = [
  {
    name: 'Cast float32→float16',
    input: 'float32',
    output: 'float16',
    node: { op: 'Cast', attrs: { to: { i: 10 } } },
    perWord: 2,
    data: (n, seed) => Float32Array.from(ints(n, seed), (x) => x / 8),
  },
  {
    name: 'float16 Add',
    input: 'float16',
    output: 'float16',
    node: { op: 'Add' },
    perWord: 2,
    data: (n, seed) => Uint16Array.from(ints(n, seed), (x) => floatToHalf(x / 4)),
  },
  {
    name: 'int8 Add',
    input: 'int8',
    output: 'int8',
    node: { op: 'Add' },
    perWord: 4,
    data: (n, s) => Int8Array.from(ints(n, s)),
  },
  {
    name: 'uint8 Sub',
    input: 'uint8',
    output: 'uint8',
    node: { op: 'Sub' },
    perWord: 4,
    data: (n, s) => Uint8Array.from(ints(n, s), (x) => x + 127),
  },
  {
    name: 'bool from Less',
    input: 'float32',
    output: 'bool',
    node: { op: 'Less' },
    perWord: 4,
    data: (n, seed) => Float32Array.from(ints(n, seed)),
  },
];

async function bothBackends(c: Case, n: number) {
  const inputs = c.node.op === 'Cast' ? ['a'] : ['a', 'b'];
  const model = buildModel({
    name: 'narrow',
    inputs: inputs.map((name) => ({ name, dtype: c.input, shape: [n] })),
    outputs: [{ name: 'y', dtype: c.output, shape: [n] }],
    nodes: [{ ...c.node, inputs, outputs: ['y'] }],
  });
  const files = await compileModel(model, { targets: ['wasm', 'webgpu'] });
  const feeds = Object.fromEntries(
    inputs.map((name, seed) => [name, { dtype: c.input, dims: [n], data: c.data(n, seed + 1) } as Feed]),
  );
  const outputs = [];
  for (const backend of ['webgpu', 'wasm'] as const) {
    const m = await loadModel(files, { backend, ...(backend === 'webgpu' && { gpu: await testGpu() }) });
    try {
      outputs.push([...(await m.run(feeds)).y.data]);
    } finally {
      m.dispose();
    }
  }
  return { gpu: outputs[0], wasm: outputs[1], schedule: files.manifest.webgpu! };
}

describe('webgpu narrow-type stores', () => {
  for (const c of CASES)
    it(`${c.name} at lengths 1, 3, 5 and 1023 equals wasm`, async () => {
      for (const n of [1, 3, 5, 1023]) {
        const { gpu, wasm } = await bothBackends(c, n);
        expect(gpu, `length ${n}`).toEqual(wasm);
      }
    });

  it('spreads a narrow store over one invocation per u32 word', async () => {
    for (const c of CASES) {
      const { schedule } = await bothBackends(c, 1023);
      expect(schedule.run, c.name).toHaveLength(1);
      // one workgroup of 64 invocations before: the whole kernel ran in a single invocation
      expect(schedule.run[0].workgroups, c.name).toEqual([Math.ceil(1023 / c.perWord / 64), 1, 1]);
    }
  });
});
