/**
 * A bundle whose memory at the bounds of its run-time dims is over a Workers isolate's 128 MB: compile
 * names the bound to lower and to what (#11), found from real memory plans.
 */
import { describe, expect, test } from 'vitest';
import { compileModel, plannedMemory } from '../../src/compiler/compile.js';
import { workersBoundHint } from '../../src/deploy/workers-fit.js';
import {
  checkMemory,
  HEADROOM_BYTES,
  modelFootprint,
  WORKERS_LIMITS,
} from '../../src/deploy/cloudflare-limits.js';
import { widthKeepingCnn } from '../helpers/width-cnn.js';

const bytes = widthKeepingCnn();
const shapesUpTo = (max: number) => ({ x: [1, 3, 12, { min: 5, max }] });

describe('the Workers memory hint', () => {
  test('names the largest width whose plan fits, and that width does fit while one more does not', async () => {
    const given = { shapes: shapesUpTo(1_000_000), relaxed: false };
    const files = await compileModel(bytes, given);
    const hint = workersBoundHint(files, given, (planned) => plannedMemory(bytes, { ...given, ...planned }));
    const fit = /--shape x=1,3,12,5\.\.(\d+) fits/.exec(hint ?? '');
    expect(hint).toMatch(
      /^the Worker would need about \d+\.\d MiB at the bounds of the run-time dims, over the 128\.0 MiB/,
    );
    const max = Number(fit![1]);
    const budget =
      WORKERS_LIMITS.memoryBytes - files.wasm.byteLength - files.weights.byteLength - HEADROOM_BYTES;
    const pages = (n: number) => Math.ceil(n / 65536) * 65536;
    expect(pages(plannedMemory(bytes, { shapes: shapesUpTo(max) }).memoryBytes)).toBeLessThanOrEqual(budget);
    expect(pages(plannedMemory(bytes, { shapes: shapesUpTo(max + 1) }).memoryBytes)).toBeGreaterThan(budget);
  }, 120_000);

  test('a width bounded with a step is lowered in steps, the flag keeping the step', async () => {
    const stepped = (max: number) => ({ x: [1, 3, 12, { min: 8, max, step: 8 }] });
    const given = { shapes: stepped(1_048_576), relaxed: false };
    const files = await compileModel(bytes, given);
    const hint = workersBoundHint(files, given, (planned) => plannedMemory(bytes, { ...given, ...planned }));
    const fit = /--shape x=1,3,12,8\.\.(\d+):8 fits/.exec(hint ?? '');
    expect(fit, hint).not.toBeNull();
    const max = Number(fit![1]);
    expect(max % 8).toBe(0);
    const budget =
      WORKERS_LIMITS.memoryBytes - files.wasm.byteLength - files.weights.byteLength - HEADROOM_BYTES;
    const pages = (n: number) => Math.ceil(n / 65536) * 65536;
    expect(pages(plannedMemory(bytes, { shapes: stepped(max) }).memoryBytes)).toBeLessThanOrEqual(budget);
    expect(pages(plannedMemory(bytes, { shapes: stepped(max + 8) }).memoryBytes)).toBeGreaterThan(budget);
    // kiln deploy names the bound as given, not the symbol counting its steps
    const served = {
      name: 'stepped',
      dir: '',
      manifest: files.manifest,
      files: new Map<string, Uint8Array>(),
    };
    expect(modelFootprint(served, false).boundedDims).toBe('width ≤ 1048576');
  }, 120_000);

  test('says nothing for a bundle that fits', async () => {
    const given = { shapes: shapesUpTo(64), relaxed: false };
    const files = await compileModel(bytes, given);
    expect(workersBoundHint(files, given, () => ({ memoryBytes: 0, weightsBytes: 0 }))).toBeUndefined();
  });

  test('kiln deploy --target cloudflare refuses such a bundle naming the bounds its memory is planned at', () => {
    const model = {
      name: 'ocr',
      memoryBytes: 300 * 2 ** 20,
      wasmBytes: 2 ** 20,
      weightsBytes: 0,
      int8SavingBytes: 0,
      boundedDims: 'width ≤ 4096',
    };
    expect(() => checkMemory([model], WORKERS_LIMITS)).toThrow(
      /over the 128\.0 MiB a Workers isolate has on every plan: recompile with lower bounds of the run-time dims its memory is planned at \(ocr: width ≤ 4096; kiln compile names bounds that fit\), deploy each bundle/,
    );
  });
});
