import { describe, expect, it } from 'vitest';
import { batchingFromEnv, optionsFromEnv } from '../../src/serve/env.js';

describe('serving options from the environment', () => {
  it('reads the API key and body limit, and refuses an empty key and a bad limit by name', () => {
    expect(optionsFromEnv({})).toEqual({});
    expect(optionsFromEnv({ KILN_API_KEY: 'k', KILN_MAX_BODY_MB: '2' })).toEqual({
      apiKey: 'k',
      maxBodyBytes: 2 * 1024 * 1024,
    });
    for (const blank of ['', '  '])
      expect(() => optionsFromEnv({ KILN_API_KEY: blank })).toThrow(
        'KILN_API_KEY is set but empty, which would serve without auth: give it a key, or unset it to serve without one',
      );
    expect(() => optionsFromEnv({ KILN_API_KEY: 'k ' })).toThrow(
      'KILN_API_KEY starts or ends with whitespace, which no Authorization header can carry',
    );
    expect(() => optionsFromEnv({ KILN_MAX_BODY_MB: '0' })).toThrow(
      'KILN_MAX_BODY_MB must be a whole number of MiB, at least 1, got "0"',
    );
  });

  it('reads batching, with the default delay, and refuses what cannot be meant', () => {
    expect(batchingFromEnv({})).toBeUndefined();
    expect(batchingFromEnv({ KILN_MAX_BATCH: '' })).toBeUndefined();
    expect(batchingFromEnv({ KILN_MAX_BATCH: '8' })).toEqual({ maxBatch: 8, delayMs: 2 });
    expect(batchingFromEnv({ KILN_MAX_BATCH: '4', KILN_BATCH_DELAY_MS: '0' })).toEqual({
      maxBatch: 4,
      delayMs: 0,
    });
    expect(() => batchingFromEnv({ KILN_MAX_BATCH: '0' })).toThrow(
      'KILN_MAX_BATCH must be a whole number of rows, at least 1, got "0"',
    );
    expect(() => batchingFromEnv({ KILN_MAX_BATCH: '4', KILN_BATCH_DELAY_MS: '1.5' })).toThrow(
      'KILN_BATCH_DELAY_MS must be a whole number of milliseconds, got "1.5"',
    );
    expect(() => batchingFromEnv({ KILN_BATCH_DELAY_MS: '5' })).toThrow(
      'KILN_BATCH_DELAY_MS needs KILN_MAX_BATCH',
    );
  });
});
