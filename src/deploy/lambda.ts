/**
 * `kiln deploy --target lambda`: the deployment zip (lambda-build.ts), Lambda's limits checked against it,
 * the KilnLambda stack synthesized by the CDK app and — unless a dry run — `cdk deploy`ed; or, with
 * `--update-code FUNCTION`, the zip put straight into an existing Kiln function (lambda-update-code.ts).
 */
import { join } from 'node:path';
import { cdkDeploy, cdkSynth } from './aws-cdk-app.js';
import { readServedBundles } from './bundles.js';
import { awsRegion, requireCredentials, requireRegion } from './aws-credentials.js';
import { buildLambda } from './lambda-build.js';
import { checkLambdaLimits } from './lambda-limits.js';
import { updateFunctionCode } from './lambda-update-code.js';
import { DeployError, type DeployRequest, type DeployResult } from './types.js';

export const DEFAULT_LAMBDA_STACK = 'KilnLambda';
/** CloudFormation's rule for stack names. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

export async function deployLambda(request: DeployRequest): Promise<DeployResult> {
  const stack = stackName(request.name, DEFAULT_LAMBDA_STACK);
  const functionName = request.updateCode;
  // a real deploy fails on a missing region or credentials now, not after the build
  const region = request.dryRun ? awsRegion(request) : requireRegion(request);
  if (!request.dryRun) await requireCredentials(region!);

  request.step('building the Lambda zip');
  const zipPath = join(request.outDir, 'lambda.zip');
  const bundles = await readServedBundles(request.bundleDirs);
  const { zip } = await buildLambda(zipPath, bundles);
  const manifests = bundles.map((b) => b.manifest);
  request.step("checking Lambda's limits");
  const check = checkLambdaLimits(zip, manifests, functionName !== undefined, request.warn);
  const models = manifests.map((m) => `model ${m.model.name} at /v2/models/${m.model.name}/infer`);
  const where = region ?? 'the region of your AWS environment';

  if (functionName !== undefined) {
    const plan = [
      `replace the code of function ${functionName} in ${where} through the Lambda API (no CloudFormation), if it is tagged kiln:managed=true`,
      ...models,
      ...check.plan,
    ];
    if (request.dryRun) return { plan, artifacts: [zipPath] };
    const endpoint = await updateFunctionCode({
      functionName,
      region: region!,
      zip,
      neededMb: Math.ceil(check.neededBytes / 2 ** 20),
      step: request.step,
      warn: request.warn,
    });
    return { plan, artifacts: [zipPath], endpoint };
  }

  request.step('cdk synth (templates checked by cdk-nag)');
  const context: Record<string, string> = {
    lambdaZip: zipPath,
    lambdaStackName: stack,
    memorySize: String(check.memoryMb),
  };
  if (region) context.region = region;
  const templates = await cdkSynth(request, context);
  const plan = [
    `stack ${stack} in ${where}: function index.handler on Node.js 24.x, arm64, ${check.memoryMb} MB, 30 s timeout, tagged kiln:managed=true`,
    'Function URL with AWS_IAM auth: requests must be SigV4-signed (service lambda)',
    'alarms on errors, throttles and p99 duration; logs kept one month',
    ...models,
    ...check.plan,
  ];
  const artifacts = [zipPath, ...templates];
  if (request.dryRun) return { plan, artifacts };

  request.step(`cdk deploy ${stack}`);
  const outputs = await cdkDeploy(request, stack, region!);
  return { plan, artifacts, endpoint: outputs.Endpoint };
}

export function stackName(name: string | undefined, fallback: string): string {
  const stack = name ?? fallback;
  if (!STACK_NAME.test(stack))
    throw new DeployError(
      `--name ${stack}: a CloudFormation stack name starts with a letter and holds only letters, digits and hyphens (at most 128)`,
    );
  return stack;
}
