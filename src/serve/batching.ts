/**
 * Dynamic batching. Requests of 1..maxBatch rows are collected until their rows fill the batch or
 * `delayMs` has passed since the first of them (and, when the model is busy then, until it is free), run
 * once, and each gets its own rows back. A model compiled at its largest batch (`kiln compile m.onnx
 * --shape x=8,64`, served with `maxBatch` equal to that leading dimension) runs every batch at that many
 * rows (unused rows zero); one whose leading dim is known only at run time (`--dim batch=1..8`) runs the
 * requests concatenated, at their total rows (at least the dim's lower bound). Requests whose other dims
 * differ (a sequence known only at run time) run in separate batches.
 */
import { ELEMENT_ARRAY, elementBytes, elementCount } from '../bundle/elements.js';
import type { ShapeDim } from '../bundle/manifest.js';
import type { Model, Tensor, TensorInfo } from '../runtime/index.js';
import { QueueFullError, type RunQueue } from './queue.js';
import { formatShape, isSymbolic } from '../bundle/shape-dims.js';

export interface BatchingOptions {
  /** the most rows one run takes: the leading dimension every input and output was compiled with, or at most its upper bound */
  maxBatch: number;
  /** how long the first request of a batch waits for more rows, in milliseconds; default 2 */
  delayMs?: number;
}

export const DEFAULT_BATCH_DELAY_MS = 2;

/** Marks the batch dimension in served signatures (the protocol's "variable size"). */
export const BATCH_DIM = -1;

/**
 * The model's tensors as served with batching (leading dimension BATCH_DIM, and any other dim known only
 * at run time too), after checking that every input and output leads with the batch: `maxBatch` rows
 * fixed, or one dim known only at run time whose upper bound is at least `maxBatch`. Takes a loaded Model
 * or a bundle's manifest signature, so `kiln deploy --max-batch` refuses the same bundles the server would.
 */
type Batched<T> = Omit<T, 'shape'> & { shape: number[] };

export function batchedTensors<T extends Pick<TensorInfo, 'name' | 'shape'>>(
  model: { name: string; inputs: readonly T[]; outputs: readonly T[] },
  maxBatch: number,
): { inputs: Batched<T>[]; outputs: Batched<T>[] } {
  if (!Number.isInteger(maxBatch) || maxBatch < 1)
    throw new Error(`serve: maxBatch must be an integer ≥ 1, got ${maxBatch}`);
  const lead = model.inputs[0]?.shape[0];
  const batched =
    (kind: string) =>
    (t: T): Batched<T> => {
      const d = t.shape[0];
      const where = `model "${model.name}": ${kind} "${t.name}" has shape ${formatShape(t.shape)}`;
      if (lead !== undefined && isSymbolic(lead)) {
        if (d === undefined || !isSymbolic(d) || d.name !== lead.name || d.value)
          throw new Error(
            `${where}, but batching needs every input and output to lead with the batch "${lead.name}"; serve it without --max-batch`,
          );
        if (d.max < maxBatch)
          throw new Error(
            `${where}, whose batch "${d.name}" takes at most ${d.max} rows, fewer than the max batch ${maxBatch}; serve it with --max-batch ${d.max} or less`,
          );
      } else if (d !== maxBatch)
        throw new Error(
          `${where}, but batching with max batch ${maxBatch} needs every input and output to lead with ${maxBatch}; compile it with --shape NAME=${maxBatch},... or --dim, or serve it without --max-batch`,
        );
      return { ...t, shape: t.shape.map((e, i) => (i === 0 || isSymbolic(e) ? BATCH_DIM : e)) };
    };
  return { inputs: model.inputs.map(batched('input')), outputs: model.outputs.map(batched('output')) };
}

interface Waiting {
  feeds: Record<string, Tensor>;
  rows: number;
  /** the inputs' dims past the batch: only requests that agree on them share a run */
  rest: string;
  arrived: number;
  resolve: (outputs: Record<string, Tensor>) => void;
  reject: (err: unknown) => void;
}

/** Requests that will run as one batch. */
interface Batch {
  requests: Waiting[];
  rows: number;
  rest: string;
  /** when its first request arrived: it is queued delayMs later at the latest */
  openedAt: number;
  /** in the run queue: it still takes requests that fit until it starts, unless it was closed */
  queued: boolean;
  /** its requests' timers to its deadline, cleared once it is queued (they would keep a stopping server up) */
  timers: ReturnType<typeof setTimeout>[];
}

export interface BatcherOptions {
  model: Model;
  maxBatch: number;
  delayMs: number;
  /** the model's run queue: batches take turns in it like single requests do */
  queue: RunQueue;
  /** how many requests may wait (collecting or queued) before more are refused with 503 */
  maxQueue: number;
  /** names the model in errors */
  label: string;
  /** runs the full batch (the app maps its errors to HTTP statuses) */
  run: (feeds: Record<string, Tensor>) => Promise<Record<string, Tensor>>;
  /** called per request with its wait in seconds when its batch starts */
  onStart?: (waitedSeconds: number) => void;
  /** called with the rows of each batch when it starts */
  onRun?: (rows: number) => void;
}

export class Batcher {
  /**
   * The batch that takes new requests: collecting until it is full or its delay has passed, then
   * queued, and while it waits behind a running batch it still takes requests that fit, so a busy
   * model's next run is as full as the requests that came meanwhile allow.
   */
  private open: Batch | undefined;
  /** requests whose batch has not started yet (collecting, or queued behind a running batch) */
  private waitingRequests = 0;

  constructor(private readonly options: BatcherOptions) {
    if (options.maxQueue < options.maxBatch)
      throw new Error(
        `serve: ${options.label}: the queue holds ${options.maxQueue} requests but a batch ${options.maxBatch} rows; a batch's requests wait in the queue while it fills, so it must hold at least the max batch (kiln serve: --max-queue ≥ --max-batch)`,
      );
  }

  /** Runs `feeds`, whose tensors lead with `rows` (1..maxBatch, checked by the caller), in the next batch. */
  run(feeds: Record<string, Tensor>, rows: number): Promise<Record<string, Tensor>> {
    const { maxBatch, maxQueue, queue } = this.options;
    if (this.waitingRequests >= maxQueue)
      throw new QueueFullError(
        `${this.options.label} is busy: ${this.waitingRequests} requests wait for a batch (the queue holds ${maxQueue}); retry later`,
        queue.retryAfterSeconds(this.open && !this.open.queued ? 1 : 0),
      );
    const rest = this.options.model.inputs.map((i) => feeds[i.name].dims.slice(1).join(',')).join(';');
    return new Promise((resolve, reject) => {
      const arrived = performance.now();
      if (this.open && (this.open.rows + rows > maxBatch || this.open.rest !== rest)) this.close(this.open);
      const batch = (this.open ??= {
        requests: [],
        rows: 0,
        rest,
        openedAt: arrived,
        queued: false,
        timers: [],
      });
      batch.requests.push({ feeds, rows, rest, arrived, resolve, reject });
      batch.rows += rows;
      this.waitingRequests++;
      if (batch.rows === maxBatch) return this.close(batch);
      if (batch.queued) return;
      // every request holds its own timer to the batch's deadline, not only the first: the Workers
      // runtime cancels a request that waits with nothing of its own pending as hung. The first waits
      // delayMs exactly, later ones round up, so none queues the batch early.
      const remaining = Math.max(0, Math.ceil(this.options.delayMs - (arrived - batch.openedAt)));
      batch.timers.push(setTimeout(() => this.enqueue(batch), remaining));
    });
  }

  /** Takes no more requests into `batch`, and queues it if it is not yet. */
  private close(batch: Batch): void {
    if (this.open === batch) this.open = undefined;
    this.enqueue(batch);
  }

  /** Queues `batch` to run (once); until it starts, it may still take requests. */
  private enqueue(batch: Batch): void {
    if (batch.queued) return;
    batch.queued = true;
    batch.timers.forEach(clearTimeout);
    // the admission check above keeps this queue from ever being full: it holds fewer batches than requests
    this.options.queue
      .run(() => {
        if (this.open === batch) this.open = undefined;
        return this.runBatch(batch.requests);
      })
      .then(
        (outputs) => this.hand(batch.requests, outputs),
        (err: unknown) => batch.requests.forEach((w) => w.reject(err)),
      );
  }

  private runBatch(batch: Waiting[]): Promise<Record<string, Tensor>> {
    const started = performance.now();
    this.waitingRequests -= batch.length;
    for (const w of batch) this.options.onStart?.((started - w.arrived) / 1000);
    const rows = batch.reduce((n, w) => n + w.rows, 0);
    this.options.onRun?.(rows);
    const feeds: Record<string, Tensor> = {};
    for (const info of this.options.model.inputs) {
      // fresh, so the rows past the last request are zeros
      const dims = [runRows(info.shape[0], rows), ...batch[0].feeds[info.name].dims.slice(1)];
      const bytes = new Uint8Array(elementCount(dims) * elementBytes(info.dtype));
      let at = 0;
      for (const w of batch) {
        const part = w.feeds[info.name].data;
        bytes.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), at);
        at += part.byteLength;
      }
      feeds[info.name] = {
        dtype: info.dtype,
        dims,
        data: new ELEMENT_ARRAY[info.dtype](bytes.buffer, 0, elementCount(dims)),
      };
    }
    return this.options.run(feeds);
  }

  /** Gives each request its own rows of the batch's outputs (views, not copies). */
  private hand(batch: Waiting[], outputs: Record<string, Tensor>): void {
    const own = batch.map((): Record<string, Tensor> => ({}));
    for (const [name, tensor] of Object.entries(outputs)) {
      const rowSize = tensor.data.length / tensor.dims[0];
      let at = 0;
      batch.forEach((w, i) => {
        const end = at + w.rows * rowSize;
        own[i][name] = {
          dtype: tensor.dtype,
          dims: [w.rows, ...tensor.dims.slice(1)],
          data: tensor.data.subarray(at, end),
        };
        at = end;
      });
    }
    batch.forEach((w, i) => w.resolve(own[i]));
  }
}

/**
 * The rows a run of `rows` rows of requests takes: the compiled batch, or for a batch dim known only at
 * run time the rows themselves (at least the dim's lower bound).
 */
export function runRows(batch: ShapeDim, rows: number): number {
  return isSymbolic(batch) ? Math.max(rows, batch.min) : batch;
}
