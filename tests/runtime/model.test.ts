import { describe, expect, it } from 'vitest';
import { LoadedModel, type BackendInstance } from '../../src/runtime/model.js';
import type { Tensor } from '../../src/runtime/types.js';
import { buildFixtureBundle, fixtureFeeds } from './fixture.js';

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
