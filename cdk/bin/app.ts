/**
 * The Kiln CDK app: a Lambda stack when `lambdaZip` is given, a GPU stack when `bundleDir` is, both checked
 * by cdk-nag's AwsSolutions pack (synth fails on any unacknowledged finding).
 *
 *   cdk synth -c lambdaZip=out/lambda.zip -c bundleDir=out/model [-c instanceType=g6.xlarge] [-c region=us-east-1]
 *
 * The region comes from `-c region` or the CLI's CDK_DEFAULT_REGION; the GPU stack requires one.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { pathToFileURL } from 'node:url';
import { KilnGpuService, KilnLambdaModel } from '../lib/index.js';

export interface KilnAppStacks {
  readonly app: App;
  readonly lambdaStack?: Stack;
  readonly gpuStack?: Stack;
}

/** Builds the app from its context (`lambdaZip`, `bundleDir`, `instanceType`, `region`); `app.synth()` runs the checks. */
export function buildKilnApp(app: App = new App()): KilnAppStacks {
  const context = (key: string): string | undefined => app.node.tryGetContext(key);
  const lambdaZip = context('lambdaZip');
  const bundleDir = context('bundleDir');
  if (!lambdaZip && !bundleDir)
    throw new Error(
      'Kiln CDK app: pass -c lambdaZip=PATH (Lambda stack) and/or -c bundleDir=DIR (GPU stack)',
    );
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  const env = {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: context('region') ?? process.env.CDK_DEFAULT_REGION,
  };
  let lambdaStack: Stack | undefined;
  if (lambdaZip) {
    lambdaStack = new Stack(app, 'KilnLambda', { env });
    new KilnLambdaModel(lambdaStack, 'Model', { lambdaZipPath: lambdaZip });
  }
  let gpuStack: Stack | undefined;
  if (bundleDir) {
    gpuStack = new Stack(app, 'KilnGpu', { env });
    new KilnGpuService(gpuStack, 'Service', { bundleDir, instanceType: context('instanceType') });
  }
  return { app, lambdaStack, gpuStack };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) buildKilnApp().app.synth();
