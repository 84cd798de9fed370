/** The CPU time `kiln bench --cost` prices (src/cli/cpu-time.ts). */
import { describe, expect, it } from 'vitest';
import { cpuClockMs, cpuMsPerInference } from '../../src/cli/cpu-time.js';

describe('CPU time per inference', () => {
  it('the CPU clock counts work done on this thread', () => {
    const start = cpuClockMs();
    let x = 0;
    for (let i = 0; i < 2e7; i++) x += Math.sqrt(i);
    expect(x).toBeGreaterThan(0);
    expect(cpuClockMs()).toBeGreaterThan(start);
  });

  it('is the CPU clock per run, bounded by the mean wall time of the runs', () => {
    expect(cpuMsPerInference(1.5, [2, 3, 4])).toBe(1.5);
    // a process clock that counted background threads: the runs' 3 ms mean wall time bounds it
    expect(cpuMsPerInference(12, [2, 3, 4])).toBe(3);
  });
});
