/** The Kiln constructs, for use from any CDK app. */
export { KilnLambdaModel, DEFAULT_LAMBDA_MEMORY_MB, type KilnLambdaModelProps } from './kiln-lambda-model.js';
export {
  KilnGpuService,
  GPU_INSTANCE_FAMILIES,
  DEFAULT_GPU_AMI_PARAMETER,
  HEALTH_CHECK_PATH,
  type KilnGpuServiceProps,
} from './kiln-gpu-service.js';
export type { KilnGpuBatching } from './gpu-user-data.js';
