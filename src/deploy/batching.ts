/**
 * `kiln deploy --max-batch N [--batch-delay-ms D]` (cloudflare, gpu): the bundles are checked before
 * anything is built, so a deploy never ships a server that refuses to start or a Worker that answers
 * every request with the same refusal.
 */
import { batchedTensors, type BatchingOptions } from '../serve/batching.js';
import { DEFAULT_MAX_QUEUE } from '../serve/queue.js';
import type { ServedBundle } from './bundles.js';
import { DeployError } from './types.js';

/** Every bundle leads each input and output with maxBatch (or a run-time batch bounded by at least it), and a batch fits the served queue. */
export function checkBatching(bundles: ServedBundle[], { maxBatch }: Required<BatchingOptions>): void {
  // the deployed servers keep the default queue, and the batcher refuses a queue smaller than a batch
  if (maxBatch > DEFAULT_MAX_QUEUE)
    throw new DeployError(
      `--max-batch ${maxBatch} is more than the ${DEFAULT_MAX_QUEUE} requests a deployed model's queue holds (a batch's requests wait in it while the batch fills): use --max-batch ${DEFAULT_MAX_QUEUE} or less`,
    );
  for (const { name, dir, manifest } of bundles) {
    try {
      batchedTensors({ name, inputs: manifest.inputs, outputs: manifest.outputs }, maxBatch);
    } catch (err) {
      throw new DeployError(`bundle ${dir}: ${(err as Error).message}`);
    }
  }
}

/** The plan's line for batching. */
export function batchingPlanLine({ maxBatch, delayMs }: Required<BatchingOptions>): string {
  return `batching: up to ${maxBatch} rows per run, waiting up to ${delayMs} ms for a batch to fill`;
}
