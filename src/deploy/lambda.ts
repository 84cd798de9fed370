/** PLACEHOLDER replaced by the lambda deploy target's implementation in this session. */
import { DeployError, type DeployRequest, type DeployResult } from './types.js';

export async function deployLambda(_request: DeployRequest): Promise<DeployResult> {
  throw new DeployError('the lambda target is being built');
}
