/** The CDK app (cdk/bin/app.ts) as `cdk synth` runs it: stacks from context, cdk-nag on every stack. */
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildKilnApp } from '../../cdk/bin/app.js';
import { makeArtifacts, type Artifacts } from './fixtures.js';

let artifacts: Artifacts;
beforeAll(() => (artifacts = makeArtifacts()));
afterAll(() => artifacts?.cleanup());

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const ofType = (resources: Resources, type: string) =>
  Object.values(resources).filter((r) => r.Type === type);

it('synthesizes both stacks, cdk-nag clean, from lambdaZip, serverDir, instanceType, batching and region', () => {
  const { app, lambdaStack, gpuStack } = buildKilnApp(
    new App({
      context: {
        lambdaZip: artifacts.lambdaZip,
        serverDir: artifacts.serverDir,
        instanceType: 'g6.xlarge',
        maxBatch: '8',
        batchDelayMs: '3',
        region: 'eu-west-1',
      },
    }),
  );
  const assembly = app.synth();
  expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['KilnGpu', 'KilnLambda']);
  expect(lambdaStack?.region).toBe('eu-west-1');
  const gpu = assembly.getStackByName('KilnGpu').template;
  const [launchTemplate] = ofType(gpu.Resources, 'AWS::EC2::LaunchTemplate');
  expect(launchTemplate.Properties.LaunchTemplateData).toMatchObject({ InstanceType: 'g6.xlarge' });
  expect(JSON.stringify(launchTemplate.Properties.LaunchTemplateData)).toContain(
    ' --backend auto --idle-timeout-ms 65000 --max-batch 8 --batch-delay-ms 3\\n',
  );
  expect(gpuStack?.region).toBe('eu-west-1');
  expect(gpu.Outputs.Endpoint.Value).toEqual({
    'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [expect.stringMatching(/LoadBalancer/), 'DNSName'] }]],
  });
  const lambda = assembly.getStackByName('KilnLambda').template;
  expect(lambda.Outputs.Endpoint.Value).toEqual({
    'Fn::GetAtt': [expect.stringMatching(/FunctionUrl/), 'FunctionUrl'],
  });
  expect(lambda.Outputs.FunctionName.Value).toEqual({ Ref: expect.stringMatching(/Function/) });
});

it('names the stacks and sizes the function from context', () => {
  const { app } = buildKilnApp(
    new App({ context: { lambdaZip: artifacts.lambdaZip, lambdaStackName: 'MyModel', memorySize: '4096' } }),
  );
  const template = app.synth().getStackByName('MyModel').template;
  const [fn] = ofType(template.Resources, 'AWS::Lambda::Function');
  expect(fn.Properties.MemorySize).toBe(4096);
});

it('synthesizes only the Lambda stack when no serverDir is given', () => {
  const { app, gpuStack } = buildKilnApp(new App({ context: { lambdaZip: artifacts.lambdaZip } }));
  expect(gpuStack).toBeUndefined();
  expect(app.synth().stacks.map((s) => s.stackName)).toEqual(['KilnLambda']);
});

it('says which context to pass when given none, and rejects bad memorySize, maxBatch or batchDelayMs', () => {
  expect(() => buildKilnApp(new App())).toThrow(
    'Kiln CDK app: pass -c lambdaZip=PATH (Lambda stack) and/or -c serverDir=DIR (GPU stack)',
  );
  expect(() =>
    buildKilnApp(new App({ context: { lambdaZip: artifacts.lambdaZip, memorySize: '2GB' } })),
  ).toThrow('Kiln CDK app: -c memorySize must be a whole number, got "2GB"');
  const gpu = (context: Record<string, string>) => () =>
    buildKilnApp(new App({ context: { serverDir: artifacts.serverDir, region: 'eu-west-1', ...context } }));
  expect(gpu({ maxBatch: 'four' })).toThrow('Kiln CDK app: -c maxBatch must be a whole number, got "four"');
  expect(gpu({ batchDelayMs: '5' })).toThrow('Kiln CDK app: -c batchDelayMs needs -c maxBatch');
});
