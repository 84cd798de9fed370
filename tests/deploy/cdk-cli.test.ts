/**
 * The CDK app through the aws-cdk CLI from npm, as a user runs it from the repository root: `cdk synth`
 * reads cdk.json (app through tsx, no notices, no version reporting or telemetry) and works offline with
 * no AWS credentials; cdk-nag runs inside the synth, which fails on any unacknowledged finding.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeArtifacts, type Artifacts } from '../cdk/fixtures.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CDK = join(ROOT, 'node_modules/.bin/cdk');

let artifacts: Artifacts;
beforeAll(() => (artifacts = makeArtifacts()));
afterAll(() => artifacts?.cleanup());

/** The CLI with no AWS configuration within reach: no credentials, profiles or instance metadata. */
function cdk(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const nowhere = join(artifacts.root, 'no-aws-config');
  const env = {
    PATH: process.env.PATH,
    HOME: artifacts.root,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: nowhere,
    AWS_SHARED_CREDENTIALS_FILE: nowhere,
  };
  return new Promise((done) =>
    execFile(CDK, args, { cwd: ROOT, env }, (err, stdout, stderr) =>
      done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

type Template = {
  Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
  Outputs: object;
};
const readTemplate = (dir: string, stack: string): Template =>
  JSON.parse(readFileSync(join(dir, `${stack}.template.json`), 'utf8'));
const types = (template: Template) => Object.values(template.Resources).map((r) => r.Type);

it('synthesizes both stacks offline, cdk-nag clean', async () => {
  const output = join(artifacts.root, 'cdk.out');
  const context = [
    `lambdaZip=${artifacts.lambdaZip}`,
    `serverDir=${artifacts.serverDir}`,
    'region=us-west-2',
  ];
  const result = await cdk(['synth', '--output', output, '--quiet', ...context.flatMap((c) => ['-c', c])]);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).not.toMatch(/NOTICES/);

  const lambda = readTemplate(output, 'KilnLambda');
  expect(types(lambda)).toEqual(
    expect.arrayContaining([
      'AWS::Lambda::Function',
      'AWS::Lambda::Url',
      'AWS::Logs::LogGroup',
      'AWS::CloudWatch::Alarm',
    ]),
  );
  expect(Object.keys(lambda.Outputs).sort()).toEqual(['Endpoint', 'FunctionName']);
  const gpu = readTemplate(output, 'KilnGpu');
  expect(types(gpu)).toEqual(
    expect.arrayContaining([
      'AWS::AutoScaling::AutoScalingGroup',
      'AWS::EC2::LaunchTemplate',
      'AWS::ElasticLoadBalancingV2::LoadBalancer',
      'AWS::ElasticLoadBalancingV2::TargetGroup',
      'AWS::AutoScaling::ScalingPolicy',
    ]),
  );
  expect(Object.keys(gpu.Outputs)).toEqual(['Endpoint']);
  // cdk.json turns version reporting off: no AWS::CDK::Metadata resource
  expect([...types(lambda), ...types(gpu)]).not.toContain('AWS::CDK::Metadata');
  // cdk-nag is a validation plugin of the app (tests/cdk/app.test.ts): a finding left unacknowledged
  // would have failed this synth; the acknowledged ones are recorded in the assembly with their reasons
  const metadata = readFileSync(join(output, 'KilnGpu.metadata.json'), 'utf8');
  expect(metadata).toContain('"Annotation::AwsSolutions-EC23"');
  expect(existsSync(join(output, 'manifest.json'))).toBe(true);
});

it("fails with the app's message when the app refuses its context", async () => {
  const output = join(artifacts.root, 'cdk.out.bad');
  const result = await cdk(['synth', '--output', output, '--quiet', '-c', `serverDir=${artifacts.root}`]);
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain(`KilnGpuService: serverDir ${artifacts.root} has no kiln-serve.mjs`);
});
