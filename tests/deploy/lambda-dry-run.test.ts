/**
 * `kiln deploy DIR --target lambda --dry-run --out OUT` through the CLI's main(), on the sample MLP
 * compiled by the real compiler: the zip answers a Function URL event from a fresh Node process, and
 * the aws-cdk CLI synthesized the stack (cdk-nag clean, or synth would have failed) without credentials.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runKiln, type CliRun } from '../helpers/cli-main.js';
import { compileMlp, type CompiledBundle } from '../serve/fixture.js';
import { readEvent } from '../serve-lambda/events.js';
import { extractZip, invoke } from '../serve-lambda/invoke.js';

let mlp: CompiledBundle;
let work: string;
let out: string;
let run: CliRun;

beforeAll(async () => {
  [mlp, work] = await Promise.all([compileMlp(), mkdtemp(join(tmpdir(), 'kiln-deploy-lambda-'))]);
  out = join(work, 'out');
  run = await runKiln([
    'deploy',
    mlp.dir,
    '--target',
    'lambda',
    '--dry-run',
    '--out',
    out,
    '--region',
    'eu-west-1',
  ]);
});
afterAll(async () => {
  await Promise.all([mlp?.cleanup(), work && rm(work, { recursive: true, force: true })]);
});

it('prints the plan and the artifacts, uploading nothing', () => {
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toContain('kiln: dry run for lambda: nothing was uploaded. Plan:');
  expect(run.stdout).toContain(
    'stack KilnLambda in eu-west-1: function index.handler on Node.js 24.x, arm64, 1769 MB, 30 s timeout, tagged kiln:managed=true',
  );
  expect(run.stdout).toContain('Function URL with AWS_IAM auth');
  expect(run.stdout).toContain('model mlp at /v2/models/mlp/infer');
  expect(run.stdout).toContain(`  ${join(out, 'lambda.zip')}`);
  expect(run.stdout).toContain(`  ${join(out, 'cdk.out', 'KilnLambda.template.json')}`);
  expect(run.stdout).not.toContain('endpoint:');
});

it('writes a zip that answers a Function URL event from a fresh process', async () => {
  const root = join(work, 'task');
  await extractZip(join(out, 'lambda.zip'), root);
  const event = readEvent('function-url');
  const result = await invoke(root, event);
  expect(result.statusCode, result.body).toBe(200);
  const x = JSON.parse(event.body!).inputs[0].data;
  const expected = await mlp.model.run({
    x: { dtype: 'float32', dims: [1, 64], data: Float32Array.from(x) },
  });
  expect(JSON.parse(result.body).outputs[0].data).toEqual(Array.from(expected.probs.data as Float32Array));
});

it('synthesizes the stack: the zip as the code, sized memory, the tag, the URL and its output', async () => {
  const template = JSON.parse(await readFile(join(out, 'cdk.out', 'KilnLambda.template.json'), 'utf8'));
  const resources = Object.values<{ Type: string; Properties: Record<string, unknown> }>(template.Resources);
  const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function')!;
  expect(fn.Properties).toMatchObject({
    Handler: 'index.handler',
    Runtime: 'nodejs24.x',
    Architectures: ['arm64'],
    MemorySize: 1769,
    Tags: expect.arrayContaining([{ Key: 'kiln:managed', Value: 'true' }]),
  });
  expect(resources.filter((r) => r.Type === 'AWS::Lambda::Url').map((r) => r.Properties.AuthType)).toEqual([
    'AWS_IAM',
  ]);
  expect(Object.keys(template.Outputs).sort()).toEqual(['Endpoint', 'FunctionName']);
  // the staged asset is the zip kiln built, byte for byte
  const assets = JSON.parse(await readFile(join(out, 'cdk.out', 'KilnLambda.assets.json'), 'utf8'));
  const [asset] = Object.values<{ source: { path: string } }>(assets.files).filter((a) =>
    a.source.path.endsWith('.zip'),
  );
  expect(await readFile(join(out, 'cdk.out', asset.source.path))).toEqual(
    await readFile(join(out, 'lambda.zip')),
  );
  // --no-version-reporting: no AWS::CDK::Metadata resource telling AWS which libraries built the stack
  expect(resources.filter((r) => r.Type === 'AWS::CDK::Metadata')).toEqual([]);
});

it('refuses a stack name CloudFormation would', async () => {
  const bad = await runKiln([
    'deploy',
    mlp.dir,
    '--target',
    'lambda',
    '--dry-run',
    '--out',
    out,
    '--name',
    'my_stack',
  ]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toBe(
    'kiln: --name my_stack: a CloudFormation stack name starts with a letter and holds only letters, digits and hyphens (at most 128)\n',
  );
});
