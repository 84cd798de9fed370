/** Custom ops on webgpu: the examples' kernels, compiled to WGSL, run through Dawn and match the JavaScript reference. */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { rmsNormCase, swishCase } from '../kernel-lang/fixture.js';
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
});
