/** PLACEHOLDER replaced by the gpu deploy target's implementation in this session. */
import { DeployError, type DeployRequest, type DeployResult } from './types.js';

export async function deployGpu(_request: DeployRequest): Promise<DeployResult> {
  throw new DeployError('the gpu target is being built');
}
