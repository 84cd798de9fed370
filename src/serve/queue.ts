/**
 * A per-model admission queue. A model runs one inference at a time (its wasm instance has one
 * memory), so requests beyond the running ones wait here; `maxQueue` bounds how many may wait, and
 * past it a request is refused at once (503 + Retry-After) instead of holding its parsed tensors in
 * memory behind an ever longer line.
 */
import { HttpError } from './http-error.js';

export const DEFAULT_MAX_QUEUE = 64;

/** The 503 for a full queue; `retryAfterSeconds` becomes the Retry-After header. */
export class QueueFullError extends HttpError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(503, message);
    this.name = 'QueueFullError';
  }
}

export interface RunQueueOptions {
  /** names the queue's model in errors, e.g. `model "mlp"` */
  label: string;
  /** how many requests may wait while `concurrency` run; 0 refuses any request that cannot start now */
  maxQueue: number;
  /** how many tasks run at once; default 1 */
  concurrency?: number;
  /** called with each task's wait in seconds when it starts */
  onStart?: (waitedSeconds: number) => void;
}

/** Weight of the newest run in the running mean of run times that Retry-After is estimated from. */
const MEAN_WEIGHT = 0.2;

export class RunQueue {
  private readonly concurrency: number;
  private running = 0;
  /** resolvers of the waiting tasks, first come first served */
  private readonly waiting: Array<() => void> = [];
  private meanRunSeconds = 0;

  constructor(private readonly options: RunQueueOptions) {
    this.concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(options.maxQueue) || options.maxQueue < 0)
      throw new Error(`serve: maxQueue must be an integer ≥ 0, got ${options.maxQueue}`);
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1)
      throw new Error(`serve: concurrency must be an integer ≥ 1, got ${this.concurrency}`);
  }

  /** how many tasks wait for a slot (not counting the running ones) */
  get depth(): number {
    return this.waiting.length;
  }

  /** Runs `task` when a slot is free, or throws QueueFullError at once when too many already wait. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const arrived = performance.now();
    if (this.running < this.concurrency) this.running++;
    else if (this.waiting.length < this.options.maxQueue)
      await new Promise<void>((resolve) => this.waiting.push(resolve)); // the finishing task hands its slot over
    else
      throw new QueueFullError(
        `${this.options.label} is busy: ${this.running} running and ${this.waiting.length} waiting (the queue holds ${this.options.maxQueue}); retry later`,
        this.retryAfterSeconds(),
      );
    const started = performance.now();
    this.options.onStart?.((started - arrived) / 1000);
    try {
      return await task();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.meanRunSeconds += MEAN_WEIGHT * (seconds - this.meanRunSeconds);
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /**
   * Whole seconds (≥ 1, as Retry-After needs) until the current line, plus `moreTasks` not yet in it,
   * should have drained.
   */
  retryAfterSeconds(moreTasks = 0): number {
    const ahead = this.running + this.waiting.length + moreTasks;
    return Math.max(1, Math.ceil((ahead * this.meanRunSeconds) / this.concurrency));
  }
}
