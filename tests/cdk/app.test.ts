/** The CDK app (cdk/bin/app.ts) as `cdk synth` runs it: stacks from context, cdk-nag on every stack. */
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildKilnApp } from '../../cdk/bin/app.js';
import { makeArtifacts, type Artifacts } from './fixtures.js';

let artifacts: Artifacts;
beforeAll(() => (artifacts = makeArtifacts()));
afterAll(() => artifacts?.cleanup());

it('synthesizes both stacks, cdk-nag clean, from lambdaZip, bundleDir, instanceType and region', () => {
  const { app, lambdaStack, gpuStack } = buildKilnApp(
    new App({
      context: {
        lambdaZip: artifacts.lambdaZip,
        bundleDir: artifacts.bundleDir,
        instanceType: 'g6.xlarge',
        region: 'eu-west-1',
      },
    }),
  );
  const assembly = app.synth();
  expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['KilnGpu', 'KilnLambda']);
  expect(lambdaStack?.region).toBe('eu-west-1');
  const gpu = assembly.getStackByName('KilnGpu').template;
  const launchTemplate = Object.values<{
    Type: string;
    Properties: { LaunchTemplateData: { InstanceType: string } };
  }>(gpu.Resources).find((r) => r.Type === 'AWS::EC2::LaunchTemplate');
  expect(launchTemplate?.Properties.LaunchTemplateData.InstanceType).toBe('g6.xlarge');
  expect(gpuStack?.region).toBe('eu-west-1');
});

it('synthesizes only the Lambda stack when no bundleDir is given', () => {
  const { app, gpuStack } = buildKilnApp(new App({ context: { lambdaZip: artifacts.lambdaZip } }));
  expect(gpuStack).toBeUndefined();
  expect(app.synth().stacks.map((s) => s.stackName)).toEqual(['KilnLambda']);
});

it('says which context to pass when given none', () => {
  expect(() => buildKilnApp(new App())).toThrow(
    'Kiln CDK app: pass -c lambdaZip=PATH (Lambda stack) and/or -c bundleDir=DIR (GPU stack)',
  );
});
