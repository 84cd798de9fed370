/** How `kiln bench` times a model (src/runtime/timing.ts), on the fixture bundle. */
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/runtime/index.js';
import { timeRuns } from '../../src/runtime/timing.js';
import { buildFixtureBundle, fixtureFeeds } from './fixture.js';

describe('timeRuns', () => {
  it('with a CPU clock, gives what it counted over the timed runs per run; without, nothing', async () => {
    const model = await loadModel(await buildFixtureBundle());
    let reads = 0;
    // a clock that advances 12 ms per read: 12 ms between the two reads around the 4 timed runs
    const clock = () => 12 * ++reads;
    const times = await timeRuns(model, fixtureFeeds([1, 2, 3, 4, 5, 6]), {
      runs: 4,
      warmup: 2,
      cpuClock: clock,
    });
    expect(reads).toBe(2);
    expect(times.cpuMsPerRun).toBe(3);
    expect(times.sorted).toHaveLength(4);
    const untimed = await timeRuns(model, fixtureFeeds([1, 2, 3, 4, 5, 6]), { runs: 2, warmup: 0 });
    expect(untimed.cpuMsPerRun).toBeUndefined();
    model.dispose();
  });
});
