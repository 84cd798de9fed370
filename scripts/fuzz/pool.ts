/**
 * Runs fuzz jobs in child processes (child.ts), one job per child at a time, each with a deadline:
 * a child past it is killed and replaced (the case is a hang), one that dies is replaced (a crash).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { oneLine } from './outcomes.js';
import type { Job, JobResult } from './child.js';

const CHILD = new URL('./child.ts', import.meta.url);

interface Worker {
  child: ChildProcess;
  stderr: string;
}

export class JobPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((w: Worker) => void)[] = [];
  private readonly all = new Set<Worker>();
  private nextId = 0;

  constructor(
    private readonly size: number,
    private readonly timeoutMs: number,
  ) {
    for (let i = 0; i < size; i++) this.release(this.spawn());
  }

  private spawn(): Worker {
    const child = fork(CHILD, [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const worker: Worker = { child, stderr: '' };
    child.stderr!.on('data', (d) => (worker.stderr = (worker.stderr + d).slice(-2000)));
    this.all.add(worker);
    return worker;
  }

  private release(worker: Worker): void {
    const next = this.waiting.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }

  private replace(worker: Worker): void {
    worker.child.kill('SIGKILL');
    this.all.delete(worker);
    this.release(this.spawn());
  }

  async run(job: Job): Promise<JobResult> {
    const worker = this.idle.pop() ?? (await new Promise<Worker>((resolve) => this.waiting.push(resolve)));
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) {
      // it died while idle: start another and try again
      this.replace(worker);
      return this.run(job);
    }
    const id = this.nextId++;
    const { child } = worker;
    return new Promise<JobResult>((resolve) => {
      const finish = (result: JobResult, healthy: boolean) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (healthy) this.release(worker);
        else this.replace(worker);
        resolve(result);
      };
      const onMessage = (m: { id: number; result: JobResult }) => {
        if (m.id === id) finish(m.result, true);
      };
      const onExit = (code: number | null, signal: string | null) =>
        finish(
          {
            outcome: 'crash',
            detail: `process died (${signal ?? `exit ${code}`}): ${oneLine(worker.stderr.slice(-300))}`,
          },
          false,
        );
      const timer = setTimeout(
        () => finish({ outcome: 'hang', detail: `no answer within ${this.timeoutMs} ms` }, false),
        this.timeoutMs,
      );
      child.on('message', onMessage);
      child.on('exit', onExit);
      worker.stderr = '';
      child.send({ id, job });
    });
  }

  /** Runs `jobs` on the pool's children, in order, reporting each result as it comes. */
  async runAll<T>(
    items: readonly T[],
    jobOf: (item: T, index: number) => Job | Promise<Job>,
    onResult: (result: JobResult, index: number) => void,
  ): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < items.length) {
        const index = next++;
        onResult(await this.run(await jobOf(items[index], index)), index);
      }
    };
    await Promise.all(Array.from({ length: this.size }, lane));
  }

  close(): void {
    for (const { child } of this.all) child.kill('SIGKILL');
  }
}
