/**
 * `kiln deploy --target cloudflare`: the dry run through the CLI runs the real wrangler and its
 * output answers inside workerd (miniflare) exactly as loadModel does; weights in R2 (forced, or
 * because they do not fit a small script limit) are read from a real R2 binding and verified; bad
 * input is refused before anything runs. Nothing here reaches Cloudflare's API.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runKiln } from '../helpers/cli-main.js';
import { deployToWorkers } from '../../src/deploy/cloudflare.js';
import { WORKERS_LIMITS } from '../../src/deploy/cloudflare-limits.js';
import { findTool, WRANGLER } from '../../src/deploy/tools.js';
import { DeployError, type DeployRequest } from '../../src/deploy/types.js';
import { compileMlp, type CompiledBundle } from '../serve/fixture.js';
import { expectWorkerBatches } from '../serve-workerd/batching-check.js';
import { runWorkerDir, type RunningWorker } from '../serve-workerd/miniflare.js';

// spawn stays the real one; the spy only lets a test see that wrangler was never started
vi.mock('node:child_process', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:child_process')>();
  return { ...real, spawn: vi.fn(real.spawn) };
});
vi.mock('../../src/deploy/tools.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/deploy/tools.js')>();
  return { ...real, findTool: vi.fn(real.findTool) };
});
const { spawn } = await import('node:child_process');

const X = Array.from({ length: 64 }, (_, i) => Math.sin(i) * 0.5);
let mlp: CompiledBundle;
let expected: number[];
let scratch: string;

beforeAll(async () => {
  mlp = await compileMlp();
  const out = await mlp.model.run({ x: { dtype: 'float32', dims: [1, 64], data: Float32Array.from(X) } });
  expected = Array.from(out.probs.data as Float32Array);
  scratch = await mkdtemp(join(tmpdir(), 'kiln-cf-deploy-'));
});
/** The Worker runs model.relaxed.wasm (FMA) where this process ran model.wasm: equal to float precision. */
function expectProbs(data: number[]): void {
  expect(data).toHaveLength(expected.length);
  data.forEach((p, i) => expect(Math.abs(p - expected[i])).toBeLessThan(1e-6));
}

afterAll(async () => {
  await mlp.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

/** An environment without Cloudflare credentials: HOME is an empty folder, so no wrangler login either. */
async function bareEnv(extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(join(scratch, 'home-'));
  return { PATH: process.env.PATH, HOME: home, ...extra };
}

function request(outDir: string, env: NodeJS.ProcessEnv, dryRun = true, extra: Partial<DeployRequest> = {}) {
  const steps: string[] = [];
  const warnings: string[] = [];
  const logs: string[] = [];
  const req: DeployRequest = {
    bundleDirs: [mlp.dir],
    outDir,
    dryRun,
    env,
    step: (text) => steps.push(text),
    log: (text) => logs.push(text),
    warn: (text) => warnings.push(text),
    ...extra,
  };
  return { req, steps, warnings, logs };
}

/** `kiln deploy ... --json` through main(); returns the exit code, the parsed JSON and stderr. */
async function kilnDeploy(args: string[]) {
  const { code, stdout, stderr } = await runKiln(['deploy', ...args]);
  return { code, json: code === 0 ? JSON.parse(stdout) : undefined, stderr };
}

async function infer(worker: RunningWorker) {
  return worker.send('/v2/models/mlp/infer', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: X }] }),
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/**
 * A script limit between the Worker's code (worker.js and the .wasm, measured from a dry run with the
 * weights in R2) and that code with mlp's 38 KiB of weights: half the weights above the code.
 */
async function betweenCodeAndWeights(): Promise<number> {
  const outDir = join(scratch, `measure-${Math.random().toString(36).slice(2)}`);
  await deployToWorkers(
    request(outDir, await bareEnv({ KILN_CLOUDFLARE_WEIGHTS: 'r2' })).req,
    WORKERS_LIMITS,
  );
  const upload = join(outDir, 'upload');
  const code = (await filesUnder(upload)).filter((f) => f === 'worker.js' || f.endsWith('.wasm'));
  const sizes = await Promise.all(code.map(async (f) => (await stat(join(upload, f))).size));
  return sizes.reduce((a, b) => a + b, 0) + 19 * 1024;
}

describe('kiln deploy --target cloudflare --dry-run', () => {
  it('builds with wrangler what it would upload, and that Worker answers infer in workerd', async () => {
    const outDir = join(scratch, 'script');
    const { code, json, stderr } = await kilnDeploy([
      mlp.dir,
      '--target',
      'cloudflare',
      '--dry-run',
      '--out',
      outDir,
      '--json',
    ]);
    expect(stderr).not.toContain('warning');
    expect(code).toBe(0);
    expect(json.plan[0]).toBe('Worker "kiln-mlp" (compatibility_date 2026-04-01) serving "mlp"');
    expect(json.plan).toContain('weights: in the script, as Data modules');
    expect(json.endpoint).toBeUndefined();
    expect(await filesUnder(outDir)).toEqual([
      'upload/README.md',
      'upload/mlp.relaxed.wasm',
      'upload/mlp.wasm',
      'upload/mlp.weights.bin',
      'upload/worker.js',
      'worker/mlp.relaxed.wasm',
      'worker/mlp.wasm',
      'worker/mlp.weights.bin',
      'worker/worker.js',
      'wrangler.toml',
    ]);
    // wrangler's view is byte for byte the Worker Kiln built
    for (const f of ['worker.js', 'mlp.wasm', 'mlp.relaxed.wasm', 'mlp.weights.bin'])
      expect(await readFile(join(outDir, 'upload', f))).toEqual(await readFile(join(outDir, 'worker', f)));
    const toml = await readFile(join(outDir, 'wrangler.toml'), 'utf8');
    expect(toml).toContain('name = "kiln-mlp"\nmain = "worker/worker.js"\n');
    expect(toml).toContain('no_bundle = true');
    expect(toml).not.toContain('r2_buckets');

    const worker = await runWorkerDir(join(outDir, 'upload'));
    try {
      const response = await infer(worker);
      expect(response.status).toBe(200);
      const outputs = (await response.json()).outputs;
      expect(outputs).toEqual([{ name: 'probs', shape: [1, 10], datatype: 'FP32', data: expect.any(Array) }]);
      expectProbs(outputs[0].data);
    } finally {
      await worker.stop();
    }
  });

  it('KILN_CLOUDFLARE_WEIGHTS=r2 moves the weights to R2; the Worker reads, verifies and serves them', async () => {
    const outDir = join(scratch, 'r2');
    vi.stubEnv('KILN_CLOUDFLARE_WEIGHTS', 'r2');
    const { code, json } = await kilnDeploy([
      mlp.dir,
      '--target',
      'cloudflare',
      '--dry-run',
      '--out',
      outDir,
      '--json',
      '--name',
      'wake',
    ]).finally(() => vi.unstubAllEnvs());
    expect(code).toBe(0);
    const weights = await readFile(join(mlp.dir, 'weights.bin'));
    const sha256 = JSON.parse(await readFile(join(mlp.dir, 'manifest.json'), 'utf8')).files['weights.bin'];
    const key = `mlp/${sha256}.weights.bin`;
    expect(json.plan).toContain(
      `weights: in R2 bucket "wake-weights" (binding KILN_WEIGHTS), read and verified on the first request: ${key}`,
    );
    expect(json.artifacts).toContain(join(outDir, 'r2', key));
    expect(await readFile(join(outDir, 'r2', key))).toEqual(weights);
    expect(await filesUnder(join(outDir, 'upload'))).toEqual([
      'README.md',
      'mlp.relaxed.wasm',
      'mlp.wasm',
      'worker.js',
    ]);
    expect(await readFile(join(outDir, 'wrangler.toml'), 'utf8')).toContain(
      '[[r2_buckets]]\nbinding = "KILN_WEIGHTS"\nbucket_name = "wake-weights"\n',
    );

    const served = await runWorkerDir(join(outDir, 'upload'), { r2: { KILN_WEIGHTS: { [key]: weights } } });
    try {
      const response = await infer(served);
      expect(response.status).toBe(200);
      expectProbs((await response.json()).outputs[0].data);
    } finally {
      await served.stop();
    }

    const tampered = Uint8Array.from(weights);
    tampered[100] ^= 1;
    const refused = await runWorkerDir(join(outDir, 'upload'), { r2: { KILN_WEIGHTS: { [key]: tampered } } });
    try {
      const response = await infer(refused);
      expect(response.status).toBe(500);
      expect((await response.json()).error).toMatch(
        /^the Worker could not start: bundle file weights\.bin failed its sha256 check: the bundle is corrupt or was modified \(weights\.bin has sha256 [0-9a-f]{64}, manifest\.json lists [0-9a-f]{64}\)$/,
      );
      const live = await refused.send('/v2/health/live');
      expect(live.status).toBe(200);
      expect((await refused.send('/v2/health/ready')).status).toBe(503);
    } finally {
      await refused.stop();
    }

    const missing = await runWorkerDir(join(outDir, 'upload'), { r2: { KILN_WEIGHTS: {} } });
    try {
      const response = await infer(missing);
      expect(response.status).toBe(500);
      expect((await response.json()).error).toContain(
        `model "mlp": the R2 object "${key}" is missing from the bucket bound as KILN_WEIGHTS`,
      );
    } finally {
      await missing.stop();
    }
  });

  it('weights that do not fit the script limit go to R2 by themselves', async () => {
    const outDir = join(scratch, 'auto');
    const limits = { ...WORKERS_LIMITS, scriptBytes: await betweenCodeAndWeights() };
    const { req } = request(outDir, await bareEnv());
    const result = await deployToWorkers(req, limits);
    expect(result.plan.some((line) => line.startsWith('weights: in R2 bucket "kiln-mlp-weights"'))).toBe(
      true,
    );
    expect(await filesUnder(join(outDir, 'upload'))).toEqual([
      'README.md',
      'mlp.relaxed.wasm',
      'mlp.wasm',
      'worker.js',
    ]);
  });

  it('a Worker over the memory or script limit is refused with the numbers and what to do', async () => {
    const { req } = request(join(scratch, 'too-large'), await bareEnv());
    await expect(deployToWorkers(req, { ...WORKERS_LIMITS, memoryBytes: 16 * 1024 * 1024 })).rejects.toThrow(
      /^the Worker would need about 16\.1 MiB of memory \(linear memory 64\.0 KiB \+ wasm \d+\.\d KiB \+ weights 37\.6 KiB \+ 16\.0 MiB headroom\), over the 16\.0 MiB a Workers isolate has on every plan: deploy each bundle to its own Worker, or use --target lambda \(up to 10 GB\)$/,
    );
    await expect(deployToWorkers(req, { ...WORKERS_LIMITS, scriptBytes: 10 * 1024 })).rejects.toThrow(
      /^the Worker's code \(worker\.js and the models' \.wasm\) is \d+\.\d KiB, over the Workers script limit of 10\.0 KiB, even with the weights in R2/,
    );
    const forced = request(join(scratch, 'forced'), await bareEnv({ KILN_CLOUDFLARE_WEIGHTS: 'script' }));
    const limit = await betweenCodeAndWeights();
    await expect(deployToWorkers(forced.req, { ...WORKERS_LIMITS, scriptBytes: limit })).rejects.toThrow(
      /over the Workers script limit of \d+\.\d KiB: keep the weights in R2 \(unset KILN_CLOUDFLARE_WEIGHTS or set it to r2\), or compile with --weights fp16 or int8$/,
    );
  });

  it('--max-batch: wrangler reads the vars from the config, and the Worker it uploads batches with them', async () => {
    const mlp4 = await compileMlp(4);
    try {
      const outDir = join(scratch, 'batched');
      // a batch closes when its rows fill it: the long delay never passes, and the three requests below share one run
      const batching = { maxBatch: 4, delayMs: 30_000 };
      const { req, logs } = request(outDir, await bareEnv(), true, { bundleDirs: [mlp4.dir], batching });
      const result = await deployToWorkers(req, WORKERS_LIMITS);
      expect(result.plan).toContain(
        'batching: up to 4 rows per run, waiting up to 30000 ms for a batch to fill',
      );
      expect(await readFile(join(outDir, 'wrangler.toml'), 'utf8')).toContain(
        '\n[vars]\nKILN_MAX_BATCH = "4"\nKILN_BATCH_DELAY_MS = "30000"\n',
      );
      // the bindings as wrangler's dry run lists them: env.NAME ("value")  Environment Variable
      const vars = Object.fromEntries(
        logs.flatMap((line) => {
          const match = /^env\.(\w+) \("(.*)"\)\s+Environment Variable/.exec(line.trim());
          return match ? [[match[1], match[2]]] : [];
        }),
      );
      expect(vars).toEqual({ KILN_MAX_BATCH: '4', KILN_BATCH_DELAY_MS: '30000' });

      const worker = await runWorkerDir(join(outDir, 'upload'), { bindings: vars });
      try {
        await expectWorkerBatches(worker, mlp4.model);
      } finally {
        await worker.stop();
      }
    } finally {
      await mlp4.cleanup();
    }
  });

  it('warns when a model runs longer than the free plan allows per request', async () => {
    const { req, warnings } = request(join(scratch, 'cpu'), await bareEnv());
    // a zero budget: any measured run time is over it
    await deployToWorkers(req, { ...WORKERS_LIMITS, freeCpuMs: 0 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^model "mlp" runs in \d+\.\d ms here \(median on zeros\), over the 0 ms of CPU per request of the Workers free plan/,
    );
  });
});

describe('kiln deploy --target cloudflare refuses before anything runs', () => {
  it('without credentials: nothing is built and wrangler is never started', async () => {
    vi.mocked(spawn).mockClear();
    const outDir = join(scratch, 'no-credentials');
    const { req, steps } = request(outDir, await bareEnv({ CLOUDFLARE_ACCOUNT_ID: 'abc' }), false);
    const refused = deployToWorkers(req, WORKERS_LIMITS);
    await expect(refused).rejects.toThrow(DeployError);
    await expect(refused).rejects.toThrow(
      /^no Cloudflare credentials: create an API token with the "Edit Cloudflare Workers" template .* and export CLOUDFLARE_API_TOKEN \(and CLOUDFLARE_ACCOUNT_ID\)/,
    );
    expect(steps).toEqual([]);
    expect(spawn).not.toHaveBeenCalled();
    await expect(readdir(outDir)).rejects.toThrow(/ENOENT/);
  });

  it('without wrangler installed: the install hint', async () => {
    // findTool looks for a name that is installed nowhere, as if wrangler were missing
    vi.mocked(findTool).mockImplementationOnce((_tool, env) =>
      vi.mocked(findTool).getMockImplementation()!({ ...WRANGLER, name: 'wrangler-not-installed' }, env),
    );
    const { req, steps } = request(join(scratch, 'no-wrangler'), await bareEnv());
    await expect(deployToWorkers(req, WORKERS_LIMITS)).rejects.toThrow(
      'wrangler-not-installed was not found (looked in node_modules/.bin and PATH); install it with: npm install --save-dev wrangler@4.86.0',
    );
    expect(steps).toEqual([]);
  });

  it('--max-batch for a bundle not compiled at that batch, or larger than the queue: nothing is built', async () => {
    const outDir = join(scratch, 'bad-batch');
    const unbatched = request(outDir, await bareEnv(), true, { batching: { maxBatch: 4, delayMs: 2 } });
    await expect(deployToWorkers(unbatched.req, WORKERS_LIMITS)).rejects.toThrow(
      new DeployError(
        `bundle ${mlp.dir}: model "mlp": input "x" has shape [1,64], but batching with max batch 4 needs every input and output to lead with 4; compile it with --shape NAME=4,... or --dim, or serve it without --max-batch`,
      ),
    );
    expect(unbatched.steps).toEqual(['checking the bundles']);
    const huge = request(outDir, await bareEnv(), true, { batching: { maxBatch: 65, delayMs: 2 } });
    await expect(deployToWorkers(huge.req, WORKERS_LIMITS)).rejects.toThrow(
      new DeployError(
        "--max-batch 65 is more than the 64 requests a deployed model's queue holds (a batch's requests wait in it while the batch fills): use --max-batch 64 or less",
      ),
    );
    await expect(readdir(outDir)).rejects.toThrow(/ENOENT/);
  });

  it('a bad KILN_CLOUDFLARE_WEIGHTS or --name', async () => {
    const bad = request(join(scratch, 'bad'), await bareEnv({ KILN_CLOUDFLARE_WEIGHTS: 'kv' }));
    await expect(deployToWorkers(bad.req, WORKERS_LIMITS)).rejects.toThrow(
      'KILN_CLOUDFLARE_WEIGHTS must be auto, script or r2, got "kv"',
    );
    const { code, stderr } = await kilnDeploy([
      mlp.dir,
      '--target',
      'cloudflare',
      '--dry-run',
      '--out',
      join(scratch, 'bad-name'),
      '--name',
      'Wake_Word',
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      'kiln: --name "Wake_Word" is not a valid Worker name: use 1-63 lowercase letters, digits and dashes',
    );
  });
});
