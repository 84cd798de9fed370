/**
 * The Kiln CDK app: a Lambda stack when `lambdaZip` is given, a GPU stack when `serverDir` is, both checked
 * by cdk-nag's AwsSolutions pack (synth fails on any unacknowledged finding). `kiln deploy --target
 * lambda|gpu` runs it through the aws-cdk CLI; by hand, from the repository root (cdk.json):
 *
 *   npx cdk synth -c lambdaZip=OUT/lambda.zip -c serverDir=OUT/gpu-server [-c instanceType=g6.xlarge] [-c region=us-east-1]
 *
 * More context: `memorySize` (MB, Lambda; default sized from the zip's bundles), `maxBatch` and
 * `batchDelayMs` (GPU: `kiln serve --max-batch --batch-delay-ms`), `lambdaStackName` (default
 * KilnLambda), `gpuStackName` (default KilnGpu). The region comes from `-c region` or the CLI's
 * CDK_DEFAULT_REGION; the GPU stack requires one. Each stack outputs its endpoint as `Endpoint`.
 */
import { App, CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { pathToFileURL } from 'node:url';
import { KilnGpuService, KilnLambdaModel } from '../lib/index.js';

export interface KilnAppStacks {
  readonly app: App;
  readonly lambdaStack?: Stack;
  readonly gpuStack?: Stack;
}

/** Builds the app from its context; `app.synth()` runs the checks. */
export function buildKilnApp(app: App = new App()): KilnAppStacks {
  const context = (key: string): string | undefined => app.node.tryGetContext(key);
  const lambdaZip = context('lambdaZip');
  const serverDir = context('serverDir');
  if (!lambdaZip && !serverDir)
    throw new Error(
      'Kiln CDK app: pass -c lambdaZip=PATH (Lambda stack) and/or -c serverDir=DIR (GPU stack)',
    );
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  const env = {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: context('region') ?? process.env.CDK_DEFAULT_REGION,
  };
  let lambdaStack: Stack | undefined;
  if (lambdaZip) {
    lambdaStack = new Stack(app, context('lambdaStackName') ?? 'KilnLambda', { env });
    const model = new KilnLambdaModel(lambdaStack, 'Model', {
      lambdaZipPath: lambdaZip,
      memorySize: optionalNumber('memorySize', context('memorySize')),
    });
    new CfnOutput(lambdaStack, 'Endpoint', {
      value: model.functionUrl.url,
      description: 'The Function URL (Open Inference Protocol v2 at /v2/...)',
    });
    new CfnOutput(lambdaStack, 'FunctionName', {
      value: model.function.functionName,
      description: 'For `kiln deploy --target lambda --update-code FUNCTION`',
    });
  }
  let gpuStack: Stack | undefined;
  if (serverDir) {
    gpuStack = new Stack(app, context('gpuStackName') ?? 'KilnGpu', { env });
    const maxBatch = optionalNumber('maxBatch', context('maxBatch'));
    const delayMs = optionalNumber('batchDelayMs', context('batchDelayMs'));
    if (maxBatch === undefined && delayMs !== undefined)
      throw new Error('Kiln CDK app: -c batchDelayMs needs -c maxBatch');
    const service = new KilnGpuService(gpuStack, 'Service', {
      serverDir,
      instanceType: context('instanceType'),
      batching: maxBatch === undefined ? undefined : { maxBatch, delayMs },
    });
    new CfnOutput(gpuStack, 'Endpoint', {
      value: `http://${service.loadBalancer.loadBalancerDnsName}`,
      description: 'The load balancer (Open Inference Protocol v2 at /v2/...)',
    });
  }
  return { app, lambdaStack, gpuStack };
}

function optionalNumber(key: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`Kiln CDK app: -c ${key} must be a whole number, got "${value}"`);
  return Number(value);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) buildKilnApp().app.synth();
