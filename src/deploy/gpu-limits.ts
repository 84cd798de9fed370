/**
 * The GPU instance types Kiln deploys to and what a set of bundles needs of them. Memory per size from
 * the EC2 accelerated computing instance specifications
 * (https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html), checked 2026.
 */
import type { MemoryNeeds } from './lambda-limits.js';
import { DeployError } from './types.js';

const GIB = 2 ** 30;

interface Family {
  gpu: string;
  /** memory of one GPU */
  gpuMemoryGiB: number;
  /** instance memory (GiB) by size */
  memoryGiB: Record<string, number>;
}

/** g5 and g6 sizes have the same memory (GiB). */
const G5_G6_MEMORY_GIB: Record<string, number> = {
  xlarge: 16,
  '2xlarge': 32,
  '4xlarge': 64,
  '8xlarge': 128,
  '12xlarge': 192,
  '16xlarge': 256,
  '24xlarge': 384,
  '48xlarge': 768,
};

/** The families KilnGpuService accepts (cdk/lib GPU_INSTANCE_FAMILIES). */
export const GPU_FAMILIES: Record<string, Family> = {
  g5: {
    gpu: 'NVIDIA A10G',
    gpuMemoryGiB: 24,
    memoryGiB: G5_G6_MEMORY_GIB,
  },
  g6: {
    gpu: 'NVIDIA L4',
    gpuMemoryGiB: 24,
    memoryGiB: G5_G6_MEMORY_GIB,
  },
  g6e: {
    gpu: 'NVIDIA L40S',
    gpuMemoryGiB: 48,
    memoryGiB: {
      xlarge: 32,
      '2xlarge': 64,
      '4xlarge': 128,
      '8xlarge': 256,
      '12xlarge': 384,
      '16xlarge': 512,
      '24xlarge': 768,
      '48xlarge': 1536,
    },
  },
};

export const DEFAULT_INSTANCE_TYPE = 'g5.xlarge';

/** The OS, the CUDA/Vulkan driver stack and Node.js, besides the models. */
const SYSTEM_HEADROOM_BYTES = 2 * GIB;

export interface GpuInstance {
  type: string;
  gpu: string;
  gpuMemoryGiB: number;
  memoryGiB: number;
}

export function gpuInstance(type: string): GpuInstance {
  const [family, size] = type.split('.');
  const known = GPU_FAMILIES[family];
  if (!known)
    throw new DeployError(
      `--instance-type ${type}: Kiln deploys to the ${Object.keys(GPU_FAMILIES).join(', ')} families (e.g. ${DEFAULT_INSTANCE_TYPE})`,
    );
  const memoryGiB = known.memoryGiB[size ?? ''];
  if (memoryGiB === undefined)
    throw new DeployError(
      `--instance-type ${type}: ${family} comes in sizes ${Object.keys(known.memoryGiB).join(', ')} (e.g. ${family}.xlarge)`,
    );
  return { type, gpu: known.gpu, gpuMemoryGiB: known.gpuMemoryGiB, memoryGiB };
}

/** Bytes the server needs: each model's linear memory and its weights read before init(), plus headroom. */
export function gpuBytesNeeded(models: MemoryNeeds[]): number {
  return models.reduce((sum, m) => sum + m.totalBytes + m.weightsBytes, SYSTEM_HEADROOM_BYTES);
}

export function checkGpuMemory(instance: GpuInstance, models: MemoryNeeds[]): number {
  const needed = gpuBytesNeeded(models);
  if (needed > instance.memoryGiB * GIB)
    throw new DeployError(
      `the bundles need about ${(needed / GIB).toFixed(1)} GiB of memory, more than a ${instance.type} has (${instance.memoryGiB} GiB): choose a larger --instance-type`,
    );
  return needed;
}
