/**
 * The checks an AWS deploy makes before anything else: a region, and credentials the SDK's default
 * provider chain can resolve (environment, profiles and SSO caches, then container or instance roles).
 * The chain reads process.env, which is the request's environment when run from the CLI.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DeployError, type DeployRequest } from './types.js';

export function awsRegion(request: Pick<DeployRequest, 'region' | 'env'>): string | undefined {
  return request.region ?? (request.env.AWS_REGION || request.env.AWS_DEFAULT_REGION || undefined);
}

export function requireRegion(request: Pick<DeployRequest, 'region' | 'env'>): string {
  const region = awsRegion(request);
  if (!region) throw new DeployError('no AWS region given: pass --region REGION or set AWS_REGION');
  return region;
}

/**
 * A Lambda API client. The SDK's notice that releases after January 2027 need Node 22 is about SDK
 * versions Kiln does not use (it pins one), so it is turned off instead of printed on every deploy.
 */
export function newLambdaClient(region: string): LambdaClient {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new LambdaClient({ region });
}

export async function requireCredentials(region: string): Promise<void> {
  const client = newLambdaClient(region);
  try {
    await client.config.credentials();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DeployError(
      `no AWS credentials found (${reason}): set AWS_PROFILE (run \`aws sso login\` first for an SSO profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
    );
  } finally {
    client.destroy();
  }
}
