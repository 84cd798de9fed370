import { describe, expect, it, vi } from 'vitest';
import { loadModel } from '../../src/runtime/index.js';
import { LoadedModel, type BackendInstance } from '../../src/runtime/model.js';
import type { Tensor } from '../../src/runtime/types.js';
import { WasmInstance } from '../../src/runtime/wasm-backend.js';
import { buildFixtureBundle, expectedY, fixtureFeeds } from './fixture.js';

/** A backend whose runs finish when the test says so, like a GPU run awaiting its read-back. */
function heldBackend() {
  const events: string[] = [];
  const pending: (() => void)[] = [];
  const instance: BackendInstance = {
    run: (inputBytes) =>
      new Promise<Record<string, Tensor>>((resolve) => {
        events.push(`run ${inputBytes.length} inputs`);
        const out: Tensor = { dtype: 'float32', dims: [1], data: Float32Array.of(events.length) };
        pending.push(() => resolve({ y: out }));
      }),
    dispose: () => events.push('dispose'),
  };
  return { instance, events, finishNext: () => pending.shift()!() };
}

describe('LoadedModel over an asynchronous backend', () => {
  it('runs one at a time, and frees the instance only after the run in flight', async () => {
    const { manifest } = await buildFixtureBundle();
    const backend = heldBackend();
    const model = new LoadedModel(manifest, 'webgpu', backend.instance);
    expect(model.backend).toBe('webgpu');
    const first = model.run(fixtureFeeds([1, 2, 3, 4, 5, 6]));
    const second = model.run(fixtureFeeds([1, 2, 3, 4, 5, 6]));
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.events).toEqual(['run 2 inputs']);
    backend.finishNext();
    await first;
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.events).toEqual(['run 2 inputs', 'run 2 inputs']);
    model.dispose();
    expect(backend.events).not.toContain('dispose');
    backend.finishNext();
    expect(await second).toHaveProperty('y');
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.events).toEqual(['run 2 inputs', 'run 2 inputs', 'dispose']);
    await expect(model.run(fixtureFeeds([0, 0, 0, 0, 0, 0]))).rejects.toThrow('model "fixture" was disposed');
  });

  it('validates feeds before the backend sees them', async () => {
    const { manifest } = await buildFixtureBundle();
    const backend = heldBackend();
    const model = new LoadedModel(manifest, 'webgpu', backend.instance);
    await expect(model.run({ x: fixtureFeeds([0, 0, 0, 0, 0, 0]).x })).rejects.toThrow(
      'input "i" is missing',
    );
    expect(backend.events).toEqual([]);
  });
});

describe('input copies', () => {
  it('a run copies its feeds into the copies of the last settled run; runs called together keep their own', async () => {
    const model = await loadModel(await buildFixtureBundle(), { backend: 'wasm' });
    const runs = vi.spyOn(WasmInstance.prototype, 'run');
    const xOf = (call: number) => runs.mock.calls[call][0][0];
    const y = async (pending: ReturnType<typeof model.run>) =>
      Array.from((await pending)['out/y'].data as Float32Array);
    const [a, b, c, d] = [
      [1, 2, 3, 4, 5, 6],
      [-1, -2, -3, -4, -5, -6],
      [7, 0, 7, 0, 7, 0],
      [0, 8, 0, 8, 0, 8],
    ];
    expect(await y(model.run(fixtureFeeds(a)))).toEqual(expectedY(a));
    // the caller may change its buffer as soon as run() returns: the run has its own copy
    const feedsB = fixtureFeeds(b);
    const pendingB = model.run(feedsB);
    feedsB.x.data.fill(0);
    expect(await y(pendingB)).toEqual(expectedY(b));
    expect(xOf(1)).toBe(xOf(0));
    const [pendingC, pendingD] = [model.run(fixtureFeeds(c)), model.run(fixtureFeeds(d))];
    expect([await y(pendingC), await y(pendingD)]).toEqual([expectedY(c), expectedY(d)]);
    expect(xOf(2)).toBe(xOf(0));
    expect(xOf(3)).not.toBe(xOf(2));
    runs.mockRestore();
    model.dispose();
  });
});
