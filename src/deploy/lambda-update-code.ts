/**
 * `kiln deploy --target lambda --update-code FUNCTION`: replaces the code of a function a Kiln stack
 * created, straight through the Lambda API (no CloudFormation): GetFunction to check it is Kiln's,
 * UpdateFunctionCode with the zip, the FunctionUpdatedV2 waiter, then the Function URL.
 */
import {
  GetFunctionCommand,
  GetFunctionUrlConfigCommand,
  LambdaClient,
  ResourceNotFoundException,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2,
  type GetFunctionCommandOutput,
} from '@aws-sdk/client-lambda';
import { newLambdaClient } from './aws-credentials.js';
import { DeployError } from './types.js';

/** The tag KilnLambdaModel puts on its functions (cdk/lib/kiln-lambda-model.ts KILN_MANAGED_TAG). */
const KILN_TAG = { key: 'kiln:managed', value: 'true' };
const HANDLER = 'index.handler';
/** The package is built for Node.js 20 (lambda-build.ts); older runtimes lack what it uses. */
const MIN_NODE_MAJOR = 20;
/** How long the function may take to apply the new code. */
const UPDATE_WAIT_SECONDS = 300;

export interface UpdateCodeOptions {
  functionName: string;
  region: string;
  zip: Uint8Array;
  /** the memory the bundles need, in MB: the function must have at least that */
  neededMb: number;
  step(text: string): void;
  warn(text: string): void;
}

/** Returns the function's URL when it has one on the unqualified function. */
export async function updateFunctionCode(options: UpdateCodeOptions): Promise<string | undefined> {
  const { functionName, region } = options;
  const client = newLambdaClient(region);
  try {
    options.step(`checking function ${functionName} in ${region}`);
    const current = await getFunction(client, functionName, region);
    checkKilnFunction(current, functionName, options.neededMb);

    options.step(`uploading ${(options.zip.byteLength / 2 ** 20).toFixed(1)} MB of code`);
    // the revision id makes the update fail if someone changed the function since it was checked
    await client.send(
      new UpdateFunctionCodeCommand({
        FunctionName: functionName,
        ZipFile: options.zip,
        RevisionId: current.Configuration?.RevisionId,
      }),
    );
    options.step('waiting for the function to apply the new code');
    await waitUntilFunctionUpdatedV2(
      { client, maxWaitTime: UPDATE_WAIT_SECONDS },
      { FunctionName: functionName },
    );
    return await functionUrl(client, functionName, options.warn);
  } finally {
    client.destroy();
  }
}

async function getFunction(
  client: LambdaClient,
  functionName: string,
  region: string,
): Promise<GetFunctionCommandOutput> {
  try {
    return await client.send(new GetFunctionCommand({ FunctionName: functionName }));
  } catch (err) {
    if (err instanceof ResourceNotFoundException)
      throw new DeployError(
        `function ${functionName} does not exist in ${region}: deploy it first with \`kiln deploy DIR --target lambda\` (without --update-code)`,
      );
    throw err;
  }
}

/** Refuses, before any change, a function whose code this package must not replace. */
function checkKilnFunction(current: GetFunctionCommandOutput, functionName: string, neededMb: number): void {
  const config = current.Configuration ?? {};
  if (current.Tags?.[KILN_TAG.key] !== KILN_TAG.value)
    throw new DeployError(
      `function ${functionName} is not a Kiln function (it lacks the tag ${KILN_TAG.key}=${KILN_TAG.value}); refusing to replace its code: deploy a Kiln stack with \`kiln deploy DIR --target lambda\``,
    );
  if (config.PackageType === 'Image')
    throw new DeployError(
      `function ${functionName} runs a container image, not a zip: deploy with \`kiln deploy DIR --target lambda\` instead`,
    );
  const major = /^nodejs(\d+)\.x$/.exec(config.Runtime ?? '')?.[1];
  if (major === undefined || Number(major) < MIN_NODE_MAJOR)
    throw new DeployError(
      `function ${functionName} runs ${config.Runtime ?? 'an unknown runtime'}, but the package needs Node.js ${MIN_NODE_MAJOR} or newer: redeploy with \`kiln deploy DIR --target lambda\``,
    );
  if (config.Handler !== HANDLER)
    throw new DeployError(
      `function ${functionName} has handler ${config.Handler}, but the package's is ${HANDLER}: redeploy with \`kiln deploy DIR --target lambda\``,
    );
  // the architecture needs no check: the package is JavaScript and WebAssembly, which run on arm64 and x86_64
  if ((config.MemorySize ?? 0) < neededMb)
    throw new DeployError(
      `function ${functionName} has ${config.MemorySize} MB of memory, but these bundles need about ${neededMb} MB: redeploy with \`kiln deploy DIR --target lambda\`, which sizes it`,
    );
}

async function functionUrl(
  client: LambdaClient,
  functionName: string,
  warn: (text: string) => void,
): Promise<string | undefined> {
  try {
    const { FunctionUrl } = await client.send(
      new GetFunctionUrlConfigCommand({ FunctionName: functionName }),
    );
    return FunctionUrl;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    warn(
      `function ${functionName} has no Function URL of its own; if it serves through its \`live\` alias (provisioned concurrency), that alias still runs the published version: run \`kiln deploy DIR --target lambda\` to publish the new code`,
    );
    return undefined;
  }
}
