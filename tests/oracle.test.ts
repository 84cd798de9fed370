/** Kiln's outputs against onnxruntime-node (the oracle) on models the repo builds. */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { compileModel } from '../src/compiler/compile.js';
import { loadModel } from '../src/runtime/index.js';
import { attentionModel, cnnModel, mlpModel } from './helpers/models.js';
import { randomTensor, seededRandom } from './helpers/onnx-builder.js';
import { compareTensors } from '../scripts/compare.js';
import type { HostTensor } from '../src/ir/tensor.js';
import type { Feed } from '../src/runtime/types.js';

const cases: [string, () => Uint8Array, number[]][] = [
  ['mlp', mlpModel, [4, 64]],
  ['cnn', cnnModel, [1, 3, 32, 32]],
  ['attention', attentionModel, [1, 8, 32]],
];

describe('outputs match onnxruntime', () => {
  for (const [name, build, dims] of cases) {
    it(name, async () => {
      const bytes = build();
      const inputName = name === 'cnn' ? 'image' : 'x';
      const input = randomTensor(dims, seededRandom(42));
      const files = await compileModel(bytes, { shapes: { [inputName]: dims } });
      const model = await loadModel(files, { backend: 'wasm' });
      const ours = await model.run({ [inputName]: input as Feed });
      const session = await ort.InferenceSession.create(bytes);
      const theirs = await session.run({
        [inputName]: new ort.Tensor('float32', input.data as Float32Array, dims),
      });
      for (const [out, t] of Object.entries(theirs)) {
        const expected: HostTensor = { dtype: 'float32', dims: [...t.dims], data: t.data as Float32Array };
        expect(compareTensors(ours[out] as HostTensor, expected, 1e-4, 1e-5)).toBeUndefined();
      }
      model.dispose();
    });
  }
});
