import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import type { Feed } from '../../src/runtime/types.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../../scripts/compare.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { linearModel, type Linear } from '../helpers/linear-model.js';
import { runKiln, runOrt } from '../helpers/ort-oracle.js';

const feedsFor = (x: number[]) => ({ x: randomTensor(x, seededRandom(7)) });

async function expectOrt(l: Linear) {
  const bytes = linearModel(l);
  const feeds = feedsFor(l.x);
  const got = await runKiln(bytes, feeds);
  const want = await runOrt(bytes, feeds);
  for (const name of Object.keys(want))
    expect(compareTensors(got[name], want[name], 1e-4, 1e-5)).toBeUndefined();
}

const kernelOps = async (l: Linear) =>
  (await compileModel(linearModel(l), { relaxed: false })).manifest.kernels!.map((k) => k.op);

describe('MatMul + constant bias Add fused into the gemm epilogue', () => {
  it('leaves no separate Add kernel (with a Relu after it, that too is in the gemm)', async () => {
    expect(await kernelOps({ x: [8, 16], N: 12, bias: [12] })).toEqual(['MatMul+Add']);
    expect(await kernelOps({ x: [2, 8, 16], N: 12, bias: [1, 1, 12], biasFirst: true, relu: true })).toEqual([
      'MatMul+Add+Relu',
    ]);
  });
  it('keeps the Add apart when the MatMul result has another reader, or the constant is not a bias', async () => {
    expect(await kernelOps({ x: [8, 16], N: 12, bias: [12], twoReaders: true })).toEqual([
      'MatMul',
      'Add',
      'Neg',
    ]);
    expect(await kernelOps({ x: [8, 16], N: 12, bias: [8, 1] })).toEqual(['MatMul', 'Add']);
  });
  it('computes what onnxruntime does: 2-D, bias first or second, [N] or [1,1,N], with Relu', async () => {
    await expectOrt({ x: [8, 16], N: 12, bias: [12] });
    await expectOrt({ x: [8, 16], N: 12, bias: [12], biasFirst: true });
    await expectOrt({ x: [5, 16], N: 9, bias: [1, 9], relu: true });
    await expectOrt({ x: [2, 3, 16], N: 12, bias: [1, 1, 12], biasFirst: true, relu: true });
    await expectOrt({ x: [8, 16], N: 12, bias: [12], twoReaders: true });
    await expectOrt({ x: [3, 0], N: 4, bias: [4], relu: true }); // K = 0: the bias alone
  });
  it('computes what onnxruntime does for a BERT-sized batched Linear [1,128,384]×[384,1536]', async () => {
    await expectOrt({ x: [1, 128, 384], N: 1536, bias: [1536] });
    await expectOrt({ x: [1, 128, 384], N: 1536, bias: [1536], biasFirst: true, relu: true });
  }, 120_000);
  it('keeps the bias in the int8 gemm (--weights int8)', async () => {
    const l: Linear = { x: [1, 16, 128], N: 64, bias: [64], relu: true };
    const bytes = linearModel(l);
    const files = await compileModel(bytes, { weights: 'int8', relaxed: false });
    expect(files.manifest.kernels!.map((k) => k.op)).toEqual(['Int8MatMul+Add+Relu']);
    const model = await loadModel(files, { backend: 'wasm' });
    const feeds = feedsFor(l.x);
    const got = ((await model.run(feeds as Record<string, Feed>)) as Record<string, HostTensor>).y;
    model.dispose();
    const want = (await runOrt(bytes, feeds)).y;
    // the bias is up to ±4, int8 weights err by about 1e-3 here
    expect(compareTensors(got, want, 0, 0.02)).toBeUndefined();
  });
});
