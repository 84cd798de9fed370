/** The `npm start` sample: the packaged pretrained wake-word model compiles, serves, and agrees with onnxruntime. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { createApp } from '../../src/serve/app.js';
import { wakeWord } from '../../scripts/sample-models.js';
import { runOrt } from '../helpers/ort-oracle.js';
import { postJson } from './requests.js';

describe('the npm start sample model', () => {
  it('serves the hey_mycroft wake-word classifier with the scores onnxruntime gives', async () => {
    const sample = wakeWord();
    expect(sample.compileFlags).toEqual([]); // start.ts passes them; the API call below must match it
    const bytes = new Uint8Array(await readFile(sample.file));
    const model = await loadModel(await compileModel(bytes, { name: sample.name }));
    const [input] = model.inputs;
    expect(input.shape).toEqual([1, 16, 96]);
    const app = createApp({ models: [{ name: sample.name, model }], log: false });
    // three inputs: silence, and two deterministic patterns (scored near 0 and near 1)
    for (const scale of [0, 0.5, 2]) {
      const data = Float32Array.from({ length: 16 * 96 }, (_, k) => scale * Math.sin(k * 0.37));
      const response = await postJson(app, `/v2/models/${sample.name}/infer`, {
        inputs: [{ name: input.name, shape: input.shape, datatype: 'FP32', data: Array.from(data) }],
      });
      expect(response.status).toBe(200);
      const [output] = (await response.json()).outputs;
      const expected = await runOrt(bytes, { [input.name]: { dtype: 'float32', dims: [1, 16, 96], data } });
      const score = Object.values(expected)[0].data[0] as number;
      expect(output.shape).toEqual([1, 1]);
      // probabilities: compared absolutely, as a detection threshold sees them (in the saturated tail
      // near 0 onnxruntime's approximate sigmoid differs from Kiln's by ~1e-8)
      expect(Math.abs(output.data[0] - score)).toBeLessThanOrEqual(1e-6);
    }
    model.dispose();
  });
});
