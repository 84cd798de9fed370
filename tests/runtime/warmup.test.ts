import { describe, expect, it, vi } from 'vitest';
import { ESTIMATE_GFLOPS, MAX_WARMUP_RUNS, estimatedRunMs, warmUp } from '../../src/runtime/warmup.js';
import { loadModel } from '../../src/runtime/index.js';
import { LIBRARY_WARMUP_MS, loadModel as loadOnNode } from '../../src/runtime-node/index.js';
import { WasmInstance } from '../../src/runtime/wasm-backend.js';
import { buildFixtureBundle, expectedY, fixtureFeeds } from './fixture.js';

/** A clock that advances only when a run takes its next duration from `durations`. */
function scripted(durations: number[]) {
  let t = 0;
  let i = 0;
  return { run: () => void (t += durations[Math.min(i++, durations.length - 1)]), now: () => t };
}

describe('warmUp', () => {
  it('runs until the budget is spent, at least once', () => {
    const small = scripted([14, 6, 2.5, 2, 1.5, 1.2, 1]);
    expect(warmUp(small.run, 21, { now: small.now })).toEqual({ runs: 3, ms: 22.5 });
    const once = scripted([400]);
    expect(warmUp(once.run, 100, { now: once.now }).runs).toBe(1);
  });
  it('stops after MAX_WARMUP_RUNS when the clock does not advance (a Worker during compute)', () => {
    let calls = 0;
    const result = warmUp(() => void calls++, 250, { now: () => 0 });
    expect(result.runs).toBe(MAX_WARMUP_RUNS);
    expect(calls).toBe(MAX_WARMUP_RUNS);
  });
  it('does not run a model whose one run is estimated to take longer than the whole budget', () => {
    const long = scripted([900, 300]);
    let calls = 0;
    const counted = () => void (calls++, long.run());
    expect(warmUp(counted, 100, { now: long.now, estimatedRunMs: 145 })).toEqual({ runs: 0, ms: 0 });
    expect(calls).toBe(0);
    // within the budget it warms up as before, however wrong the estimate
    expect(warmUp(counted, 100, { now: long.now, estimatedRunMs: 99 })).toEqual({ runs: 1, ms: 900 });
  });
  it("estimates a run from the kernel table's flops (none: 0, so an old bundle warms up as before)", () => {
    const gflop = 1e9;
    expect(estimatedRunMs([{ flops: 2 * gflop }, { flops: 0.9 * gflop }])).toBeCloseTo(
      (2.9 / ESTIMATE_GFLOPS) * 1e3,
    );
    expect(estimatedRunMs(undefined)).toBe(0);
  });
});

describe('loadModel({ warmup })', () => {
  it('warms up on zero inputs and then answers real inputs exactly', async () => {
    const model = await loadModel(await buildFixtureBundle(), { backend: 'wasm', warmup: 50 });
    const x = [1, -2, 3, -4, 5, -6];
    const out = await model.run(fixtureFeeds(x));
    expect(Array.from(out['out/y'].data as Float32Array)).toEqual(expectedY(x));
    model.dispose();
  });
  it('refuses a warmup that is not a boolean or a number of ms', async () => {
    const bundle = await buildFixtureBundle();
    await expect(loadModel(bundle, { warmup: 'yes' as never })).rejects.toThrow(/warmup must be a boolean/);
    await expect(loadModel(bundle, { warmup: -1 })).rejects.toThrow(/warmup must be a boolean/);
  });
});

describe('loadModel of kiln/runtime on Node', () => {
  it('warms a small model up for LIBRARY_WARMUP_MS by default; warmup: false runs it only to prime the request path', async () => {
    const bundle = await buildFixtureBundle();
    const warmUps = vi.spyOn(WasmInstance.prototype, 'warmUp');
    const runs = vi.spyOn(WasmInstance.prototype, 'run');
    try {
      const model = await loadOnNode(bundle, { backend: 'wasm' });
      expect(warmUps.mock.calls).toEqual([[LIBRARY_WARMUP_MS]]);
      // the warm-up's runs, then the priming run (with the wasm entry a no-op)
      expect(runs.mock.calls.length).toBeGreaterThan(1);
      const x = [6, 5, 4, 3, 2, 1];
      expect(Array.from((await model.run(fixtureFeeds(x)))['out/y'].data as Float32Array)).toEqual(
        expectedY(x),
      );
      [warmUps, runs].forEach((spy) => spy.mockClear());
      await loadOnNode(bundle, { backend: 'wasm', warmup: false });
      expect(warmUps).not.toHaveBeenCalled();
      expect(runs).toHaveBeenCalledTimes(1);
    } finally {
      [warmUps, runs].forEach((spy) => spy.mockRestore());
    }
  });
  it('does not run a model whose one run is estimated to outlast that budget', async () => {
    const flops = 2 * LIBRARY_WARMUP_MS * ESTIMATE_GFLOPS * 1e6;
    const bundle = await buildFixtureBundle([
      { function: 'mul_add', name: 'mul_add', node: 'mul_add', op: 'Mul', flops, outputs: [] },
    ]);
    const runs = vi.spyOn(WasmInstance.prototype, 'run');
    try {
      await loadOnNode(bundle, { backend: 'wasm' });
      expect(runs).toHaveBeenCalledTimes(1);
    } finally {
      runs.mockRestore();
    }
  });
});
