/** The cloudflare target's small parts: names, the generated wrangler.toml, credentials, wrangler's output. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { weightsBucketName, workerName, wranglerToml } from '../../src/deploy/cloudflare-config.js';
import { cloudflareCredentials } from '../../src/deploy/cloudflare-credentials.js';
import { isBucketExistsError, workersDevUrl, wranglerEnv } from '../../src/deploy/cloudflare-wrangler.js';

const scratch = await mkdtemp(join(tmpdir(), 'kiln-cf-config-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('names', () => {
  it('defaults the Worker name from the models, made safe, and checks --name', () => {
    expect(workerName(undefined, ['hey_mycroft'])).toBe('kiln-hey-mycroft');
    expect(workerName(undefined, ['MLP.v2', 'silero_vad'])).toBe('kiln-mlp-v2-silero-vad');
    expect(workerName(undefined, ['x'.repeat(80)])).toBe(`kiln-${'x'.repeat(58)}`);
    expect(workerName('wake-word', ['mlp'])).toBe('wake-word');
    for (const bad of ['-wake', 'wake-', 'Wake', 'wake_word', '', 'w'.repeat(64)])
      expect(() => workerName(bad, ['mlp'])).toThrow(`--name "${bad}" is not a valid Worker name`);
  });

  it('names the weights bucket after the Worker, within 63 characters', () => {
    expect(weightsBucketName('kiln-mlp')).toBe('kiln-mlp-weights');
    const long = weightsBucketName('w'.repeat(63));
    expect(long).toBe(`${'w'.repeat(55)}-weights`);
    expect(long).toHaveLength(63);
  });
});

it('writes a wrangler.toml that uploads the built Worker as is, with the R2 binding and vars when asked', () => {
  const base = wranglerToml({ name: 'kiln-mlp', main: 'worker/worker.js' });
  expect(base).toContain(
    'name = "kiln-mlp"\nmain = "worker/worker.js"\ncompatibility_date = "2026-04-01"\nno_bundle = true\n',
  );
  expect(base).toContain('[[rules]]\ntype = "CompiledWasm"\nglobs = ["**/*.wasm"]\nfallthrough = false\n');
  expect(base).toContain('[[rules]]\ntype = "Data"\nglobs = ["**/*.weights.bin"]\nfallthrough = false\n');
  expect(base).not.toContain('r2_buckets');
  expect(base).not.toContain('[vars]');
  const vars = { KILN_MAX_BATCH: '8', KILN_BATCH_DELAY_MS: '2' };
  expect(wranglerToml({ name: 'kiln-mlp', main: 'worker/worker.js', vars })).toContain(
    'workers_dev = true\n\n[vars]\nKILN_MAX_BATCH = "8"\nKILN_BATCH_DELAY_MS = "2"\n\n[[rules]]',
  );
  expect(wranglerToml({ name: 'kiln-mlp', main: 'worker/worker.js', weightsBucket: 'b-weights' })).toMatch(
    /\n\[\[r2_buckets\]\]\nbinding = "KILN_WEIGHTS"\nbucket_name = "b-weights"\n$/,
  );
});

describe('credentials, checked offline', () => {
  const home = join(scratch, 'home');

  it('an API token, a global key with its email, or a saved wrangler login', async () => {
    expect(cloudflareCredentials({ HOME: home, CLOUDFLARE_API_TOKEN: 't' })).toBe('CLOUDFLARE_API_TOKEN');
    expect(cloudflareCredentials({ HOME: home, CLOUDFLARE_API_KEY: 'k' })).toBeUndefined();
    expect(cloudflareCredentials({ HOME: home, CLOUDFLARE_API_KEY: 'k', CLOUDFLARE_EMAIL: 'e' })).toBe(
      'CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL',
    );
    expect(cloudflareCredentials({ HOME: home })).toBeUndefined();
    const dir = join(home, '.config', '.wrangler', 'config');
    await mkdir(dir, { recursive: true });
    // a logged-out wrangler leaves the file without tokens
    await writeFile(join(dir, 'default.toml'), '');
    expect(cloudflareCredentials({ HOME: home })).toBeUndefined();
    await writeFile(join(dir, 'default.toml'), 'oauth_token = "x"\nrefresh_token = "y"\n');
    expect(cloudflareCredentials({ HOME: home })).toBe(
      `the wrangler login saved in ${join(dir, 'default.toml')}`,
    );
  });
});

describe("wrangler's environment and output", () => {
  it('a dry run forces metrics and the update check off; a real deploy lets the caller decide', () => {
    const env = { PATH: '/bin', WRANGLER_SEND_METRICS: 'true' };
    expect(wranglerEnv(env, true)).toEqual({
      PATH: '/bin',
      WRANGLER_SEND_METRICS: 'false',
      WRANGLER_HIDE_BANNER: 'true',
    });
    expect(wranglerEnv(env, false)).toEqual({
      PATH: '/bin',
      WRANGLER_SEND_METRICS: 'true',
      WRANGLER_HIDE_BANNER: 'true',
    });
  });

  it("reads the workers.dev URL from wrangler deploy's output", () => {
    // the shape of wrangler 4's report after a deploy
    const output = [
      'Total Upload: 103.58 KiB / gzip: 60.84 KiB',
      'Worker Startup Time: 12 ms',
      'Uploaded kiln-mlp (2.31 sec)',
      'Deployed kiln-mlp triggers (0.84 sec)',
      '  https://kiln-mlp.acme-labs.workers.dev',
      'Current Version ID: 0d1f6c1e-5b4e-4c43-9a4e-2f1c3b2a1d00',
    ].join('\n');
    expect(workersDevUrl(output)).toBe('https://kiln-mlp.acme-labs.workers.dev');
    expect(workersDevUrl('Deployed kiln-mlp triggers (0.84 sec)\n  example.com/*\n')).toBeUndefined();
  });

  it('tells an existing R2 bucket from other failures', () => {
    expect(
      isBucketExistsError(
        new Error(
          'wrangler r2 bucket create b exited with 1:\nThe bucket you tried to create already exists, and you own it. [code: 10004]',
        ),
      ),
    ).toBe(true);
    expect(isBucketExistsError(new Error('Authentication error [code: 10000]'))).toBe(false);
  });
});
