/** The CPU clocks `kiln bench --cost` and the serving benches read (src/cli/cpu-time.ts). */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  cpuClock,
  cpuClockOf,
  cpuMsPerInference,
  mainThreadCpuMs,
  PROCESS_CLOCK_NOTE,
} from '../../src/cli/cpu-time.js';
import { costReport, formatCost } from '../../src/cli/cost-report.js';

const spin = (n: number) => {
  let x = 0;
  for (let i = 0; i < n; i++) x += Math.sqrt(i);
  return x;
};

/** CPU ms each clock counts while a worker thread spins and this thread waits for it to finish. */
async function countedWhileAWorkerSpins(clocks: (() => number)[]): Promise<number[]> {
  const worker = new Worker(
    `let x = 0; for (let i = 0; i < 1e8; i++) x += Math.sqrt(i); require('node:worker_threads').parentPort.postMessage(x);`,
    { eval: true },
  );
  const start = clocks.map((ms) => ms());
  await once(worker, 'message');
  const counted = clocks.map((ms, i) => ms() - start[i]);
  await worker.terminate();
  return counted;
}

describe("the calling thread's CPU clock", () => {
  it('is a thread clock here (Linux: /proc/thread-self/schedstat on Node 20)', () => {
    if (process.platform === 'linux') expect(cpuClock.kind).toBe('thread');
  });

  it('counts work done on this thread, even a fraction of a scheduler tick', () => {
    for (let i = 0; i < 10; i++) {
      const start = cpuClock.ms();
      expect(spin(2e5)).toBeGreaterThan(0);
      expect(cpuClock.ms()).toBeGreaterThan(start);
    }
  });

  it("does not count a busy worker thread's work, which the whole process's clock does", async () => {
    const fallback = cpuClockOf({ schedstat: '/nonexistent/schedstat' });
    expect(fallback.kind).toBe('process');
    const [thread, mainThread, processWide] = await countedWhileAWorkerSpins([
      cpuClock.ms,
      () => mainThreadCpuMs(process.pid)!,
      fallback.ms,
    ]);
    // the worker's 1e8 square roots are hundreds of ms of CPU; waiting for its message costs this thread little
    expect(processWide).toBeGreaterThan(100);
    expect(thread).toBeLessThan(processWide / 10);
    expect(mainThread).toBeLessThan(processWide / 10);
  });

  it("reads another process's main thread from /proc", () => {
    if (process.platform !== 'linux') return;
    // pid 1 has run since boot; a pid that is no process has no clock
    expect(mainThreadCpuMs(1)).toBeGreaterThan(0);
    expect(mainThreadCpuMs(2 ** 30)).toBeUndefined();
  });
});

describe('CPU time per inference', () => {
  it('is the CPU clock per run, bounded by the mean wall time of the runs', () => {
    expect(cpuMsPerInference(1.5, [2, 3, 4])).toBe(1.5);
    // a process clock that counted background threads: the runs' 3 ms mean wall time bounds it
    expect(cpuMsPerInference(12, [2, 3, 4])).toBe(3);
  });

  it("bench --cost prints a note under the prices when the clock is the whole process's", () => {
    const printed = (cpuClock: 'thread' | 'process') =>
      formatCost(costReport({ backend: 'wasm', medianMs: 2, cpuMs: 1.5, cpuClock }, []));
    expect(printed('process')).toContain(PROCESS_CLOCK_NOTE);
    expect(printed('thread')).not.toContain(PROCESS_CLOCK_NOTE);
  });
});
