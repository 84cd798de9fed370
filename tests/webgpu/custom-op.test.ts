/** Custom ops on webgpu: the examples' kernels, compiled to WGSL, run through Dawn and match the JavaScript reference. */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { rmsNormCase, swishCase } from '../kernel-lang/fixture.js';
import { rmsNormModel } from '../../examples/custom-op/models.js';
import { asFeeds, differences, nodeGpu } from './fixture.js';

describe('custom ops on webgpu', () => {
  it('Swish (beta from the node and by default) and the fused RMSNorm + scale match the reference', async () => {
    const gpu = await nodeGpu();
    for (const c of [await swishCase(1.5), await swishCase(), await rmsNormCase()]) {
      const files = await compileModel(c.model, { kernels: c.kernels, targets: ['wasm', 'webgpu'] });
      expect(files.wgsl, c.name).toContain('@compute');
      const model = await loadModel(files, { backend: 'webgpu', gpu });
      expect(model.backend).toBe('webgpu');
      expect(differences(await model.run(asFeeds(c.feeds)), c.expected), c.name).toEqual([]);
      model.dispose();
    }
  });

  it('RMSNorm + scale with rows known only at run time: one compile runs at 1, 5 and 16 rows', async () => {
    const gpu = await nodeGpu();
    const declared = rmsNormModel('rows');
    const c16 = await rmsNormCase(16, declared);
    const files = await compileModel(declared, {
      kernels: c16.kernels,
      dims: { rows: { min: 1, max: 16 } },
      targets: ['wasm', 'webgpu'],
    });
    const model = await loadModel(files, { backend: 'webgpu', gpu });
    expect(model.backend).toBe('webgpu');
    for (const c of [await rmsNormCase(1, declared), await rmsNormCase(5, declared), c16])
      expect(differences(await model.run(asFeeds(c.feeds)), c.expected), c.name).toEqual([]);
    model.dispose();
  });
});
