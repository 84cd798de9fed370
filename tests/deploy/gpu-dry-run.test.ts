/**
 * `kiln deploy DIR... --target gpu --dry-run --out OUT --max-batch 4` through the CLI's main(), on the
 * sample MLP compiled at batch 4 by `kiln compile`, once with the webgpu target and once without: the
 * aws-cdk CLI synthesized the KilnGpu stack (cdk-nag clean, or synth would have failed) without
 * credentials, and the server folder — kiln-serve.mjs and Dawn for linux-x64 — started with the command
 * line of the template's systemd unit from a fresh Node process with no other node_modules within reach,
 * as on the instances, serves the first bundle on WebGPU (lavapipe here, the NVIDIA driver there) and the
 * second on wasm.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GPU_INSTANCE_FAMILIES } from '../../cdk/lib/index.js';
import { WEBGPU_VERSION } from '../../src/cli/gpu.js';
import { checkGpuMemory, GPU_FAMILIES, gpuInstance } from '../../src/deploy/gpu-limits.js';
import { DeployError } from '../../src/deploy/types.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { compareTensors } from '../../scripts/compare.js';
import { runKiln, type CliRun } from '../helpers/cli-main.js';
import { ROOT } from '../serve/fixture.js';

let work: string;
/** models/mlp.onnx at batch 4: `mlp` with the webgpu target, `mlp-wasm` without */
let gpuDir: string;
let wasmDir: string;
/** the reference: the wasm backend in this process */
let reference: Model;
let out: string;
let run: CliRun;

type Resource = { Type: string; Properties: Record<string, any> };
let resources: Resource[];
const ofType = (type: string) => resources.filter((r) => r.Type === type);

/** The launch template's user data (account-agnostic without credentials: the asset bucket is a token). */
function userData(): string {
  const [launchTemplate] = ofType('AWS::EC2::LaunchTemplate');
  const [, parts] = launchTemplate.Properties.LaunchTemplateData.UserData['Fn::Base64']['Fn::Join'];
  return (parts as unknown[]).map((part) => (typeof part === 'string' ? part : '${token}')).join('');
}

async function compile(dir: string, ...flags: string[]): Promise<void> {
  const result = await runKiln([
    'compile',
    join(ROOT, 'models/mlp.onnx'),
    '-o',
    dir,
    '--shape',
    'x=4,64',
    ...flags,
  ]);
  expect(result.code, result.stderr).toBe(0);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kiln-deploy-gpu-'));
  [gpuDir, wasmDir, out] = ['mlp', 'mlp-wasm', 'out'].map((name) => join(work, name));
  await compile(gpuDir, '--targets', 'wasm,webgpu');
  await compile(wasmDir, '--name', 'mlp-wasm');
  reference = await loadModel(gpuDir, { backend: 'wasm' });
  const args = ['deploy', gpuDir, wasmDir, '--target', 'gpu', '--dry-run', '--out', out];
  // a batch runs as soon as its rows fill it, so the test's three requests share one run well inside the
  // delay; a longer one would hold the server's exit (the batcher's timers keep Node alive until they fire)
  const batching = ['--max-batch', '4', '--batch-delay-ms', '1000'];
  run = await runKiln([...args, ...batching, '--instance-type', 'g6.2xlarge', '--region', 'eu-central-1']);
  if (run.code === 0) {
    const template = JSON.parse(await readFile(join(out, 'cdk.out', 'KilnGpu.template.json'), 'utf8'));
    resources = Object.values(template.Resources);
  }
}, 60_000);
afterAll(async () => {
  reference?.dispose();
  await (work && rm(work, { recursive: true, force: true }));
});

interface Server {
  url: string;
  /** the lines kiln serve printed before listening */
  stdout: string;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/**
 * The server folder's kiln-serve.mjs with the systemd unit's arguments (the instance's folder mapped to
 * this one, a free port on loopback: the last value wins), from another working directory with nothing
 * but PATH (and `env`) in its environment.
 */
async function startUnit(env: Record<string, string> = {}): Promise<Server> {
  const serverDir = join(out, 'gpu-server');
  const execStart = /^ExecStart=\S+ \/opt\/kiln\/kiln-serve\.mjs (.*)$/m.exec(userData())![1];
  const args = execStart.split(' ').map((arg) => arg.replace(/^\/opt\/kiln\//, `${serverDir}/`));
  const child = spawn(
    process.execPath,
    [join(serverDir, 'kiln-serve.mjs'), ...args, '--host', '127.0.0.1', '--port', '0'],
    { cwd: work, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let stdout = '';
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      const match = / listening on (http:\/\/\S+) /.exec(line);
      if (match) resolve(match[1]);
    });
    exited.then((code) => reject(new Error(`kiln-serve.mjs exited with ${code}: ${stderr}`)));
  });
  return {
    url,
    stdout,
    stderr: () => stderr,
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

const x = Array.from({ length: 64 }, (_, i) => Math.sin(i));

/** POST /v2/models/NAME/infer with the rows of x scaled by each of `scales`: the output's shape and data. */
async function infer(
  url: string,
  model: string,
  scales: number[],
): Promise<{ shape: number[]; data: number[] }> {
  const data = scales.flatMap((k) => x.map((v) => k * v));
  const response = await fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', shape: [scales.length, 64], datatype: 'FP32', data }] }),
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return (JSON.parse(text) as { outputs: { shape: number[]; data: number[] }[] }).outputs[0];
}

/** The wasm backend's answer for the 4 rows scaled by `scales`. */
async function expected(scales: number[]): Promise<Float32Array> {
  const data = Float32Array.from(scales.flatMap((k) => x.map((v) => k * v)));
  return (await reference.run({ x: { dtype: 'float32', dims: [4, 64], data } })).probs.data as Float32Array;
}

describe('kiln deploy --target gpu --dry-run', () => {
  it('prints the plan and the artifacts, uploading nothing, naming the models that run on WebGPU', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('kiln: dry run for gpu: nothing was uploaded. Plan:');
    expect(run.stdout).toContain(
      'stack KilnGpu in eu-central-1: Auto Scaling group of 1–2 g6.2xlarge (NVIDIA L4 24 GB, 32 GiB memory)',
    );
    expect(run.stdout).toMatch(
      new RegExp(
        `server: kiln-serve\\.mjs \\(\\d+ KB\\) and Dawn for linux-x64 \\(webgpu ${WEBGPU_VERSION}, 2\\d MB\\) under systemd`,
      ),
    );
    expect(run.stdout).toContain('model mlp at /v2/models/mlp/infer, on WebGPU\n');
    expect(run.stdout).toContain(
      'model mlp-wasm at /v2/models/mlp-wasm/infer, on the CPU (wasm: the bundle has no webgpu target)\n',
    );
    expect(run.stdout).toContain('batching: up to 4 rows per run, waiting up to 1000 ms for a batch to fill');
    expect(run.stdout).toContain(`  ${join(out, 'gpu-server', 'kiln-serve.mjs')}`);
    expect(run.stdout).toContain(`  ${join(out, 'cdk.out', 'KilnGpu.template.json')}`);
  });

  it('warns that a bundle without the webgpu target will run on the CPU, saying how to compile it', () => {
    const warnings = run.stderr.split('\n').filter((line) => line.startsWith('kiln: warning: '));
    expect(warnings).toEqual([
      `kiln: warning: bundle ${wasmDir}: model "mlp-wasm" was compiled without the webgpu target, so the GPU instances will run it on the CPU (wasm); to run it on the GPU, compile it again with its other flags and --targets wasm,webgpu: kiln compile MODEL.onnx -o ${wasmDir} ... --targets wasm,webgpu`,
    ]);
  });

  it('ships Dawn for linux-x64 alone in the server folder', async () => {
    const dawn = join(out, 'gpu-server', 'node_modules', 'webgpu');
    const files = await readdir(dawn, { recursive: true, withFileTypes: true });
    const paths = files.filter((f) => f.isFile()).map((f) => relative(dawn, join(f.parentPath, f.name)));
    expect(paths.sort()).toEqual(['LICENSE.md', 'dist/linux-x64/dawn.node', 'index.js', 'package.json']);
    const script = await readFile(join(out, 'gpu-server', 'kiln-serve.mjs'), 'utf8');
    expect(script).toMatch(/import\("webgpu"\)/);
  });

  it('synthesizes the Auto Scaling group of the chosen type, IMDSv2 required, behind the ALB', () => {
    const [launchTemplate] = ofType('AWS::EC2::LaunchTemplate');
    expect(launchTemplate.Properties.LaunchTemplateData).toMatchObject({
      InstanceType: 'g6.2xlarge',
      MetadataOptions: { HttpTokens: 'required' },
    });
    expect(ofType('AWS::AutoScaling::AutoScalingGroup')).toHaveLength(1);
    expect(ofType('AWS::ElasticLoadBalancingV2::LoadBalancer')).toHaveLength(1);
    expect(
      ofType('AWS::ElasticLoadBalancingV2::TargetGroup').map((r) => r.Properties.HealthCheckPath),
    ).toEqual(['/v2/health/ready']);
    const script = userData();
    expect(script).toContain(
      'ExecStart=/usr/local/bin/node /opt/kiln/kiln-serve.mjs /opt/kiln/models/mlp /opt/kiln/models/mlp-wasm --host 0.0.0.0 --port 8080 --backend auto --idle-timeout-ms 65000 --max-batch 4 --batch-delay-ms 1000\n',
    );
    expect(script).not.toContain('npm install');
  });

  it("writes a server that, run as the unit's ExecStart runs it, serves on WebGPU with its own Dawn and batches", async () => {
    const server = await startUnit();
    try {
      // without an adapter, stderr says which Mesa drivers to install
      expect(server.stdout, server.stderr()).toMatch(/serving mlp from \S+ \(webgpu\):/);
      expect(server.stdout).toMatch(/serving mlp-wasm from \S+ \(wasm\):/);
      const { url } = server;
      expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
      const metadata = (await (await fetch(`${url}/v2/models/mlp`)).json()) as { inputs: unknown };
      expect(metadata.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 64] }]);
      // requests of 1, 2 and 1 rows fill the batch of 4 together
      const requests = [[0.5], [-1, 2], [3]];
      const answers = await Promise.all(requests.map((scales) => infer(url, 'mlp', scales)));
      expect(answers.map((a) => a.shape)).toEqual([
        [1, 10],
        [2, 10],
        [1, 10],
      ]);
      const actual = Float32Array.from(answers.flatMap((a) => a.data));
      const problem = compareTensors(
        { dtype: 'float32', dims: [4, 10], data: actual },
        { dtype: 'float32', dims: [4, 10], data: await expected(requests.flat()) },
        1e-4,
        1e-6,
      );
      expect(problem).toBeUndefined();
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/kiln_model_runs_total\{model="mlp",version=""\} 1\n/);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('serves on wasm, saying why, where the Vulkan driver is missing', async () => {
    // the loader reads these instead of the installed ICDs: an instance whose NVIDIA ICD did not install
    const missing = join(work, 'no-such-icd.json');
    const server = await startUnit({ VK_DRIVER_FILES: missing, VK_ICD_FILENAMES: missing });
    try {
      expect(server.stdout).toMatch(/serving mlp from \S+ \(wasm\):/);
      expect(server.stderr()).toContain(
        `kiln: warning: serving ${join(out, 'gpu-server', 'models', 'mlp')} on wasm: WebGPU found no adapter`,
      );
      const scales = [1, -2, 0.5, 3];
      const answer = await infer(server.url, 'mlp', scales);
      expect(answer.data).toEqual(Array.from(await expected(scales)));
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('without the webgpu package, says how to install it before building anything', async () => {
    const outDir = join(work, 'no-webgpu');
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ['--import', './tests/cli/without-webgpu.mjs', 'bin/kiln.js', 'deploy', gpuDir].concat([
          '--target',
          'gpu',
          '--dry-run',
          '--out',
          outDir,
        ]),
        { cwd: ROOT },
        (err, _stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }),
      ),
    );
    expect(stderr).toBe(
      `kiln: the GPU instances serve on WebGPU through the 'webgpu' package (Dawn for Node), which is not installed here: npm install --save-dev webgpu@${WEBGPU_VERSION}\n`,
    );
    expect(code).toBe(1);
    expect(existsSync(outDir)).toBe(false);
  });

  it('refuses an instance type outside g5, g6 and g6e before building anything', async () => {
    const bad = await runKiln(
      ['deploy', gpuDir, '--target', 'gpu', '--dry-run', '--out', join(work, 'bad')].concat([
        '--instance-type',
        'p4d.24xlarge',
      ]),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      'kiln: --instance-type p4d.24xlarge: Kiln deploys to the g5, g6, g6e families (e.g. g5.xlarge)\n',
    );
  });
  it('refuses --max-batch that the bundles were not compiled at, before building anything', async () => {
    const outDir = join(work, 'bad-batch');
    const bad = await runKiln([
      'deploy',
      gpuDir,
      '--target',
      'gpu',
      '--dry-run',
      '--out',
      outDir,
      '--max-batch',
      '2',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^kiln: \[1\] building the server folder .*\n/);
    expect(bad.stderr).toContain(
      `\nkiln: bundle ${gpuDir}: model "mlp": input "x" has shape [4,64], but batching with max batch 2 needs every input and output to lead with 2; compile it with --shape NAME=2,... or --dim, or serve it without --max-batch\n`,
    );
    expect(existsSync(outDir)).toBe(false);
  });
});

describe('kiln deploy --target gpu, for real', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('without credentials: says how to provide them before building anything', async () => {
    // no credential source within reach of the SDK's default chain
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
      vi.stubEnv(name, undefined);
    for (const name of [
      'AWS_ROLE_ARN',
      'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    ])
      vi.stubEnv(name, undefined);
    vi.stubEnv('AWS_CONFIG_FILE', join(work, 'no-config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(work, 'no-config'));
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    const result = await runKiln([
      'deploy',
      gpuDir,
      '--target',
      'gpu',
      '--out',
      join(work, 'real'),
      '--region',
      'us-east-1',
    ]);
    expect(result.code).toBe(1);
    // (the SDK may also warn, once per process, that its 2027 releases will need Node.js 22)
    expect(result.stderr).toMatch(/^kiln: no AWS credentials found \(.+\): set AWS_PROFILE/m);
    expect(existsSync(join(work, 'real'))).toBe(false);
  });

  it('without a region: says to pass --region', async () => {
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    const result = await runKiln(['deploy', gpuDir, '--target', 'gpu', '--out', join(work, 'real')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('kiln: no AWS region given: pass --region REGION or set AWS_REGION\n');
  });
});

describe('GPU instance limits', () => {
  it('knows the families the construct accepts', () => {
    expect(Object.keys(GPU_FAMILIES)).toEqual([...GPU_INSTANCE_FAMILIES]);
  });

  it('names the sizes of a family when the size is unknown', () => {
    expect(() => gpuInstance('g5.medium')).toThrow(
      new DeployError(
        '--instance-type g5.medium: g5 comes in sizes xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge, 24xlarge, 48xlarge (e.g. g5.xlarge)',
      ),
    );
  });

  it("refuses bundles that need more than the instance's memory", () => {
    const GiB = 2 ** 30;
    const model = { totalBytes: 4 * GiB, weightsBytes: 3.5 * GiB };
    const models = [model, model];
    expect(() => checkGpuMemory(gpuInstance('g5.xlarge'), models)).toThrow(
      new DeployError(
        'the bundles need about 17.0 GiB of memory, more than a g5.xlarge has (16 GiB): choose a larger --instance-type',
      ),
    );
    expect(checkGpuMemory(gpuInstance('g6e.xlarge'), models)).toBe(17 * GiB);
  });
});
