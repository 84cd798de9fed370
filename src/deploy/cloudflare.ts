/** PLACEHOLDER replaced by the cloudflare deploy target's implementation in this session. */
import { DeployError, type DeployRequest, type DeployResult } from './types.js';

export async function deployCloudflare(_request: DeployRequest): Promise<DeployResult> {
  throw new DeployError('the cloudflare target is being built');
}
