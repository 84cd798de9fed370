/** Kiln's outputs against onnxruntime-node (the oracle) on models the repo builds. */
import { describe, expect, it } from 'vitest';
import { attentionModel, cnnModel, mlpModel } from './helpers/models.js';
import { randomTensor, seededRandom } from './helpers/onnx-builder.js';
import { runKiln, runOrt } from './helpers/ort-oracle.js';
import { compareTensors } from '../scripts/compare.js';

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
      const ours = await runKiln(bytes, { [inputName]: input }, { shapes: { [inputName]: dims } });
      const theirs = await runOrt(bytes, { [inputName]: input });
      for (const [out, expected] of Object.entries(theirs))
        expect(compareTensors(ours[out], expected, 1e-4, 1e-5)).toBeUndefined();
    });
  }
});
