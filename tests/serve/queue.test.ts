/** RunQueue: concurrency limit, first-come order, bounded waiting, and 503 + Retry-After when full. */
import { describe, expect, it } from 'vitest';
import { QueueFullError, RunQueue } from '../../src/serve/queue.js';

/** A task that runs until released, recording when it started. */
function gatedTask(log: string[], name: string) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return {
    release,
    task: async () => {
      log.push(`start ${name}`);
      await gate;
      log.push(`end ${name}`);
      return name;
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('RunQueue', () => {
  it('runs at most `concurrency` tasks at once, the rest in arrival order', async () => {
    const log: string[] = [];
    const queue = new RunQueue({ label: 'model "m"', maxQueue: 10, concurrency: 2 });
    const tasks = ['a', 'b', 'c', 'd'].map((n) => gatedTask(log, n));
    const results = tasks.map((t) => queue.run(t.task));
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    expect(queue.depth).toBe(2);
    tasks[1].release();
    await settle();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    tasks[0].release();
    tasks[2].release();
    tasks[3].release();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect(log.indexOf('start d')).toBeGreaterThan(log.indexOf('end a'));
    expect(queue.depth).toBe(0);
  });

  it('refuses work beyond maxQueue waiting with a 503 that names the model, and recovers', async () => {
    const log: string[] = [];
    const queue = new RunQueue({ label: 'model "m"', maxQueue: 2 });
    const tasks = ['a', 'b', 'c'].map((n) => gatedTask(log, n));
    const accepted = tasks.map((t) => queue.run(t.task));
    const refused = await queue.run(async () => 'd').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QueueFullError);
    const error = refused as QueueFullError;
    expect(error.status).toBe(503);
    expect(error.message).toBe('model "m" is busy: 1 running and 2 waiting (the queue holds 2); retry later');
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    for (const t of tasks) t.release();
    expect(await Promise.all(accepted)).toEqual(['a', 'b', 'c']);
    expect(await queue.run(async () => 'after')).toBe('after');
  });

  it('with maxQueue 0 runs only what can start now', async () => {
    const queue = new RunQueue({ label: 'model "m"', maxQueue: 0 });
    const t = gatedTask([], 'a');
    const running = queue.run(t.task);
    await expect(queue.run(async () => 'b')).rejects.toBeInstanceOf(QueueFullError);
    t.release();
    await running;
    expect(await queue.run(async () => 'c')).toBe('c');
  });

  it('frees the slot when a task throws', async () => {
    const queue = new RunQueue({ label: 'model "m"', maxQueue: 0 });
    await expect(queue.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await queue.run(async () => 'ok')).toBe('ok');
  });

  it('reports each task’s wait when it starts: zero for the first, positive behind a running one', async () => {
    const waits: number[] = [];
    const queue = new RunQueue({ label: 'model "m"', maxQueue: 1, onStart: (s) => waits.push(s) });
    const t = gatedTask([], 'a');
    const first = queue.run(t.task);
    const second = queue.run(async () => 'b');
    await settle();
    expect(waits).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 5));
    t.release();
    await Promise.all([first, second]);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeLessThan(waits[1]);
    expect(waits[1]).toBeGreaterThan(0.003);
  });

  it('rejects a bad maxQueue or concurrency', () => {
    expect(() => new RunQueue({ label: 'm', maxQueue: -1 })).toThrow(
      'maxQueue must be an integer ≥ 0, got -1',
    );
    expect(() => new RunQueue({ label: 'm', maxQueue: 1, concurrency: 0 })).toThrow(
      'concurrency must be an integer ≥ 1, got 0',
    );
  });
});
