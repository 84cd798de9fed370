/** The serving options a deployment sets through its environment (Worker bindings, Lambda variables). */
import type { AppOptions } from './app.js';
import { DEFAULT_BATCH_DELAY_MS, type BatchingOptions } from './batching.js';

export interface ServeEnv {
  /** bearer token every endpoint but /v2/health/* requires; unset for none (set but empty is refused) */
  KILN_API_KEY?: string;
  /** largest request body in whole MiB, like `kiln serve --max-body-mb`; default 64 */
  KILN_MAX_BODY_MB?: string;
  /** dynamic batching of every served model, like `kiln serve --max-batch`; unset for none */
  KILN_MAX_BATCH?: string;
  /** like `kiln serve --batch-delay-ms`; default 2, only with KILN_MAX_BATCH */
  KILN_BATCH_DELAY_MS?: string;
}

export function optionsFromEnv(env: ServeEnv): Pick<AppOptions, 'apiKey' | 'maxBodyBytes'> {
  const options: Pick<AppOptions, 'apiKey' | 'maxBodyBytes'> = {};
  const apiKey = apiKeyFromEnv(env.KILN_API_KEY);
  if (apiKey !== undefined) options.apiKey = apiKey;
  const mb = wholeNumber(env, 'KILN_MAX_BODY_MB', 1, 'a whole number of MiB, at least 1');
  if (mb !== undefined) options.maxBodyBytes = mb * 1024 * 1024;
  return options;
}

/**
 * The bearer key KILN_API_KEY sets, or undefined when it is unset. A key that is empty or blank would
 * silently serve without auth, and one with spaces around it could never match a header (their values
 * are trimmed): both are refused.
 */
export function apiKeyFromEnv(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '')
    throw new Error(
      'KILN_API_KEY is set but empty, which would serve without auth: give it a key, or unset it to serve without one',
    );
  if (value !== value.trim())
    throw new Error('KILN_API_KEY starts or ends with whitespace, which no Authorization header can carry');
  return value;
}

/**
 * The batching every model of a Worker gets (an isolate serves concurrent requests, so they can share a
 * run); undefined without KILN_MAX_BATCH. Lambda does not read it: an execution environment handles one
 * request at a time, so a batch there would only ever hold one request and wait for nothing.
 */
export function batchingFromEnv(env: ServeEnv): BatchingOptions | undefined {
  const maxBatch = wholeNumber(env, 'KILN_MAX_BATCH', 1, 'a whole number of rows, at least 1');
  const delayMs = wholeNumber(env, 'KILN_BATCH_DELAY_MS', 0, 'a whole number of milliseconds');
  if (maxBatch === undefined) {
    if (delayMs !== undefined) throw new Error('KILN_BATCH_DELAY_MS needs KILN_MAX_BATCH');
    return undefined;
  }
  return { maxBatch, delayMs: delayMs ?? DEFAULT_BATCH_DELAY_MS };
}

function wholeNumber(env: ServeEnv, key: keyof ServeEnv, min: number, what: string): number | undefined {
  const text = env[key];
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new Error(`${key} must be ${what}, got "${text}"`);
  return Number(text);
}
