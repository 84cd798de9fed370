import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundle } from '../../src/bundle/node.js';
import { readTensorFile, writeTensorFile } from '../../src/tensor-io/index.js';
import { tensorFromNumbers } from '../../src/ir/tensor.js';
import { buildFixtureBundle, expectedY, WEIGHT_VALUES } from '../runtime/fixture.js';
import { buildModel } from '../helpers/onnx-builder.js';
import { PRICES_DATE } from '../../src/deploy/prices.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function kiln(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile('node', ['bin/kiln.js', ...args], (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

let dir: string;
let bundleDir: string;
const X = [1, 2, 3, -4, -5, 0.25];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-cli-'));
  bundleDir = join(dir, 'bundle');
  await writeBundle(bundleDir, await buildFixtureBundle());
  writeTensorFile(join(dir, 'x.npy'), tensorFromNumbers('float32', [2, 3], X));
  writeTensorFile(join(dir, 'i.pb'), tensorFromNumbers('int32', [1], [4]));
  writeTensorFile(join(dir, 'x64.npy'), tensorFromNumbers('float64', [2, 3], X));
  // y = x * k + b, with a free batch dimension and k meant to be fixed at compile time
  const model = buildModel({
    name: 'scale_shift',
    inputs: [
      { name: 'x', dtype: 'float32', shape: ['batch', 3] },
      { name: 'k', dtype: 'float32', shape: [1] },
    ],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 3] }],
    initializers: [{ name: 'b', tensor: tensorFromNumbers('float32', [3], [10, 20, 30]) }],
    nodes: [
      { op: 'Mul', inputs: ['x', 'k'], outputs: ['xk'] },
      { op: 'Add', inputs: ['xk', 'b'], outputs: ['y'] },
    ],
  });
  await writeFile(join(dir, 'scale_shift.onnx'), model);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.concurrent('kiln usage errors', () => {
  it('no command: usage on stderr, exit 2', async () => {
    const r = await kiln();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^usage: kiln <command>/);
  });

  it('unknown command and unknown option: one message plus a usage line, exit 2', async () => {
    const unknown = await kiln('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^kiln: unknown command "frobnicate" \(commands: compile, run, bench, inspect, serve, deploy\)\nusage: /,
    );
    const option = await kiln('inspect', bundleDir, '--bogus');
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("kiln: Unknown option '--bogus'");
    expect(option.stderr).toContain('usage: kiln inspect DIR [--json]');
  });

  it('deploy: a missing or unknown target, flags of another target and bad batching are usage errors, exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [['deploy', bundleDir], 'kiln: missing --target (cloudflare, lambda, gpu)'],
      [
        ['deploy', bundleDir, '--target', 'azure'],
        'kiln: --target must be one of cloudflare, lambda, gpu, got "azure"',
      ],
      [['deploy', '--target', 'lambda'], 'kiln: missing bundle DIR'],
      [
        ['deploy', bundleDir, '--target', 'gpu', '--update-code', 'f'],
        'kiln: --update-code is for --target lambda',
      ],
      [
        ['deploy', bundleDir, '--target', 'lambda', '--instance-type', 'g5.xlarge'],
        'kiln: --instance-type is for --target gpu',
      ],
      [
        ['deploy', bundleDir, '--target', 'cloudflare', '--region', 'eu-west-1'],
        'kiln: --region is for the AWS targets',
      ],
      [
        ['deploy', bundleDir, '--target', 'gpu', '--batch-delay-ms', '5'],
        'kiln: --batch-delay-ms needs --max-batch',
      ],
      [
        ['deploy', bundleDir, '--target', 'cloudflare', '--max-batch', '0'],
        'kiln: --max-batch must be an integer ≥ 1, got "0"',
      ],
      [
        ['deploy', bundleDir, '--target', 'lambda', '--max-batch', '4'],
        'kiln: --max-batch is for --target cloudflare or gpu: Lambda runs one request per execution environment at a time, so there is nothing to batch',
      ],
    ];
    for (const [args, message] of cases) {
      const r = await kiln(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain('usage: kiln deploy DIR... --target cloudflare|lambda|gpu');
    }
  });
});

describe.concurrent('kiln on a bundle', () => {
  it('inspect --json describes the bundle', async () => {
    const r = await kiln('inspect', bundleDir, '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({
      model: 'fixture',
      format: 1,
      targets: ['wasm'],
      inputs: [
        { name: 'x', dtype: 'float32', shape: [2, 3] },
        { name: 'i', dtype: 'int32', shape: [1] },
      ],
      weights: { count: 1, bytes: 64 },
      memory: { totalBytes: 65536, arenaBytes: 0 },
    });
    expect(info.wasmBytes).toBeGreaterThan(8);
  });

  it('run --json reads .npy and .pb inputs and prints the outputs', async () => {
    const r = await kiln(
      'run',
      bundleDir,
      '--input',
      `x=${join(dir, 'x.npy')}`,
      '--input',
      `i=${join(dir, 'i.pb')}`,
      '--json',
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      model: 'fixture',
      backend: 'wasm',
      // vitest's workers run without --experimental-wasm-relaxed-simd (tests/runtime/relaxed.test.ts runs with it)
      variant: 'simd128',
      outputs: [
        { name: 'out/y', dtype: 'float32', dims: [2, 3], data: expectedY(X) },
        { name: 'picked', dtype: 'float32', dims: [1], data: [WEIGHT_VALUES[4]] },
      ],
    });
  });

  it('run --output-dir writes one sanitized NAME.npy per output', async () => {
    const out = join(dir, 'out');
    const r = await kiln(
      'run',
      bundleDir,
      '--input',
      `x=${join(dir, 'x.npy')}`,
      '--input',
      `i=${join(dir, 'i.pb')}`,
      '--output-dir',
      out,
    );
    expect(r.code).toBe(0);
    const y = readTensorFile(join(out, 'out_y.npy'));
    expect(y.dims).toEqual([2, 3]);
    expect(Array.from(y.data as Float32Array)).toEqual(expectedY(X));
    expect(Array.from(readTensorFile(join(out, 'picked.npy')).data as Float32Array)).toEqual([5]);
  });

  it('bench --json prints exactly the documented keys, with pseudo-random inputs by default', async () => {
    const r = await kiln('bench', bundleDir, '--runs', '3', '--warmup', '1', '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(Object.keys(result)).toEqual([
      'model',
      'backend',
      'variant',
      'runs',
      'load_ms',
      'first_run_ms',
      'median_ms',
      'p90_ms',
      'min_ms',
      'peak_rss_mb',
    ]);
    expect(result).toMatchObject({ model: 'fixture', backend: 'wasm', variant: 'simd128', runs: 3 });
    expect(result.min_ms).toBeLessThanOrEqual(result.median_ms);
    expect(result.median_ms).toBeLessThanOrEqual(result.p90_ms);
    expect(result.peak_rss_mb).toBeGreaterThan(0);
  });
});

describe.concurrent('kiln bench --cost', () => {
  it('--json adds the price per 1M inferences on each target, made of its parts', async () => {
    const r = await kiln('bench', bundleDir, '--runs', '20', '--warmup', '2', '--cost', '--json');
    expect(r.code).toBe(0);
    const { cost } = JSON.parse(r.stdout);
    expect(Object.keys(cost)).toEqual(['prices_date', 'measured_on', 'cpu_ms', 'cpu_clock', 'targets']);
    expect(cost.prices_date).toBe(PRICES_DATE);
    expect(cost.cpu_ms).toBeGreaterThan(0);
    // the JavaScript thread's CPU time (src/cli/cpu-time.ts), not the whole process's
    if (process.platform === 'linux') expect(cost.cpu_clock).toBe('thread');
    const targets = Object.fromEntries(cost.targets.map((t: { target: string }) => [t.target, t] as const));
    expect(Object.keys(targets)).toEqual(['cloudflare', 'lambda arm64', 'lambda x86_64', 'gpu g5.xlarge']);
    for (const name of ['cloudflare', 'lambda arm64', 'lambda x86_64']) {
      const t = targets[name];
      expect(t.usd_per_million).toBeGreaterThan(0);
      expect(t.compute_usd).toBeGreaterThan(0);
      expect(t.usd_per_million).toBeCloseTo(t.requests_usd + t.compute_usd, 12);
    }
    // Workers: the measured CPU time at the CPU-ms price
    expect(targets.cloudflare.compute_usd).toBeCloseTo(cost.cpu_ms * 0.02, 12);
    // Lambda: the same billed GB-s on both architectures, so compute costs in the ratio of their prices
    expect(targets['lambda x86_64'].compute_usd / targets['lambda arm64'].compute_usd).toBeCloseTo(
      0.0000166667 / 0.0000133334,
      9,
    );
    expect(targets['gpu g5.xlarge']).toEqual({
      target: 'gpu g5.xlarge',
      usd_per_million: null,
      requests_usd: null,
      compute_usd: null,
      basis:
        'not priced: the bundle has no webgpu target (compile it with --targets wasm,webgpu, then kiln bench DIR --backend webgpu --cost)',
    });
  });

  it('prints a table: one line per target with its price and how it is made', async () => {
    const r = await kiln('bench', bundleDir, '--runs', '5', '--cost', '--instance-type', 'g6e.xlarge');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const head = lines.indexOf(
      `cost per 1M inferences (prices of ${PRICES_DATE}, AWS in us-east-1: src/deploy/prices.ts)`,
    );
    expect(head).toBeGreaterThan(0);
    expect(lines[head + 1]).toMatch(/^  cloudflare +\$0\.3\d*  Workers Standard: \$0\.3 per 1M requests \+ /);
    expect(lines[head + 2]).toMatch(/^  lambda arm64 +\$0\.2\d*  \$0\.2 per 1M requests \+ \d+ ms billed /);
    expect(lines[head + 3]).toMatch(/^  lambda x86_64 +\$0\.2\d* /);
    expect(lines[head + 4]).toMatch(/^  gpu g6e\.xlarge +–  not priced: the bundle has no webgpu target/);
    expect(lines[head + 5]).toMatch(/^measured on .*: the targets' processors differ/);
  });

  it('refuses an instance type it has no price for, or --instance-type without --cost, in one line', async () => {
    const [unpriced, unknown, alone] = await Promise.all([
      kiln('bench', bundleDir, '--cost', '--instance-type', 'g5.2xlarge'),
      kiln('bench', bundleDir, '--cost', '--instance-type', 'm5.large'),
      kiln('bench', bundleDir, '--instance-type', 'g5.xlarge'),
    ]);
    expect(unpriced.code).toBe(1);
    expect(unpriced.stderr).toBe(
      'kiln: --instance-type g5.2xlarge: the price table (src/deploy/prices.ts) has g5.xlarge, g6.xlarge, g6e.xlarge, the one-GPU sizes\n',
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      'kiln: --instance-type m5.large: Kiln deploys to the g5, g6, g6e families (e.g. g5.xlarge)\n',
    );
    expect(alone.code).toBe(2);
    expect(alone.stderr.split('\n')[0]).toBe('kiln: --instance-type needs --cost');
  });
});

describe.concurrent('kiln compile', () => {
  it('compiles with --shape, --const and --name, and the bundle runs', async () => {
    const out = join(dir, 'compiled');
    const c = await kiln(
      'compile',
      join(dir, 'scale_shift.onnx'),
      '-o',
      out,
      '--shape',
      'x=2,3',
      '--const',
      'k=2',
      '--name',
      'tiny',
    );
    expect(c.stderr).toBe('');
    expect(c.stdout).toMatch(/^compiled .*scale_shift\.onnx → .*compiled: 1 input, 1 output, model\.wasm /);
    const r = await kiln('run', out, '--input', `x=${join(dir, 'x.npy')}`, '--json');
    expect(JSON.parse(r.stdout)).toEqual({
      model: 'tiny',
      backend: 'wasm',
      variant: 'simd128',
      outputs: [
        { name: 'y', dtype: 'float32', dims: [2, 3], data: X.map((v, i) => v * 2 + [10, 20, 30][i % 3]) },
      ],
    });
  });

  it('usage errors: missing -o, bad --shape, bad --weights', async () => {
    const model = join(dir, 'scale_shift.onnx');
    const results = await Promise.all([
      kiln('compile', model),
      kiln('compile', model, '-o', join(dir, 'x'), '--shape', 'x=2,three'),
      kiln('compile', model, '-o', join(dir, 'x'), '--weights', 'fp8'),
    ]);
    expect(results.map((r) => r.code)).toEqual([2, 2, 2]);
    expect(results.map((r) => r.stderr.split('\n')[0])).toEqual([
      'kiln: missing -o DIR (where to write the bundle)',
      'kiln: --shape "x=2,three": "three" is not a non-negative integer',
      'kiln: --weights must be one of fp32, fp16, int8, got "fp8"',
    ]);
  });
});

describe.concurrent('kiln errors', () => {
  it('a wrong input file: one line naming the input, exit 1, no stack', async () => {
    const r = await kiln(
      'run',
      bundleDir,
      '--input',
      `x=${join(dir, 'x64.npy')}`,
      '--input',
      `i=${join(dir, 'i.pb')}`,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'kiln: model "fixture": input "x" has dtype float64 but the model expects float32\n',
    );
  });

  it('--backend webgpu refuses a bundle built without the webgpu target', async () => {
    const r = await kiln('bench', bundleDir, '--backend', 'webgpu');
    expect(r.code).toBe(1);
    // Dawn itself may print warnings about adapter limits on stderr before Kiln's one line
    expect(r.stderr).toMatch(
      /^kiln: model "fixture": the bundle was built without the webgpu target \(targets: wasm\); compile it with --targets wasm,webgpu\n$/m,
    );
  });

  it('run refuses a manifest that points an output at the weights (it used to print the weights)', async () => {
    const bad = join(dir, 'output-on-weights');
    const bundle = await buildFixtureBundle();
    await writeBundle(bad, bundle);
    const [y, picked] = bundle.manifest.outputs;
    const manifest = {
      ...bundle.manifest,
      outputs: [{ ...y, offset: bundle.manifest.memory.weightsOffset }, picked],
    };
    await writeFile(join(bad, 'manifest.json'), JSON.stringify(manifest));
    const r = await kiln(
      'run',
      bad,
      '--input',
      `x=${join(dir, 'x.npy')}`,
      '--input',
      `i=${join(dir, 'i.pb')}`,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'kiln: bundle memory plan: output "out/y" (bytes 0..24) lies outside the input/output region (bytes 128..256)\n',
    );
  });

  it('a corrupt bundle is refused; --verbose adds the stack', async () => {
    const bad = join(dir, 'bad');
    await writeBundle(bad, await buildFixtureBundle());
    const weights = await readFile(join(bad, 'weights.bin'));
    weights[3] ^= 0xff;
    await writeFile(join(bad, 'weights.bin'), weights);
    const r = await kiln('inspect', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^kiln: bundle file weights\.bin failed its sha256 check: the bundle is corrupt or was modified \(weights\.bin has sha256 [0-9a-f]{64}, manifest\.json lists [0-9a-f]{64}\)\n$/,
    );
    const verbose = await kiln('bench', bad, '--verbose');
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^kiln: bundle file weights\.bin failed .*\nError: .*\n\s+at /);
  });
});
