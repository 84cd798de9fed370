/**
 * Dollars per million inferences on each deploy target, from one bundle's measurement (`kiln bench
 * --cost`, `npm run bench`) and the price table (prices.ts). Each target is billed its own way:
 *
 * - Cloudflare Workers: per request, and per ms of CPU time (wall time is free);
 * - AWS Lambda: per request, and per GB-s: the invocation's duration, rounded up to whole ms, times the
 *   memory size — the one `kiln deploy --target lambda` gives the bundle (lambda-limits.ts);
 * - a GPU instance: by the hour, whatever it does, so its hourly price ÷ the inferences it runs an hour.
 *
 * Workers and Lambda run the wasm backend, so they are priced from a wasm measurement; the GPU instances
 * run a bundle's webgpu target, so only a webgpu measurement prices them. A target that cannot be priced
 * from the measurement, or cannot take the bundle at all, says why instead.
 */
import type { Manifest } from '../bundle/manifest.js';
import { checkMemory, WORKERS_LIMITS, type ModelFootprint } from './cloudflare-limits.js';
import { checkGpuMemory, gpuInstance } from './gpu-limits.js';
import { checkLambdaMemory, ONE_VCPU_MEMORY_MB } from './lambda-limits.js';
import {
  GPU_INSTANCE_PRICES,
  LAMBDA_ARCHITECTURES,
  LAMBDA_PRICES,
  WORKERS_PRICES,
  type LambdaArchitecture,
  type Price,
} from './prices.js';
import { DeployError } from './types.js';

const MILLION = 1e6;

/** A price per million inferences: what the requests cost, what the compute costs, and their sum. */
export interface MillionCost {
  requestsUsd: number;
  computeUsd: number;
  usdPerMillion: number;
}

function perMillion(requestsUsd: number, computeUsd: number): MillionCost {
  return { requestsUsd, computeUsd, usdPerMillion: requestsUsd + computeUsd };
}

/** Workers Standard: a request each, and `cpuMs` of CPU time each. */
export function workersCost(cpuMs: number): MillionCost {
  return perMillion(WORKERS_PRICES.requests.usd, cpuMs * WORKERS_PRICES.cpu.usd);
}

/** Lambda bills each invocation's duration rounded up to the next ms (and at least 1 ms). */
export function lambdaBilledMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}

/** Lambda: a request each, and `durationMs` (rounded up) at `memoryMb` each. */
export function lambdaCost(durationMs: number, memoryMb: number, arch: LambdaArchitecture): MillionCost {
  const gbSeconds = (lambdaBilledMs(durationMs) / 1000) * (memoryMb / 1024);
  return perMillion(LAMBDA_PRICES.requests.usd, gbSeconds * LAMBDA_PRICES[arch].usd * MILLION);
}

/** An instance paid by the hour that runs `inferencesPerSecond`: no price per request. */
export function gpuCost(hourlyUsd: number, inferencesPerSecond: number): MillionCost {
  return perMillion(0, (hourlyUsd / (inferencesPerSecond * 3600)) * MILLION);
}

/** The hourly price of a GPU instance type Kiln deploys to; a DeployError when there is none in the table. */
export function gpuHourlyPrice(instanceType: string): Price {
  gpuInstance(instanceType); // one of the families and sizes the GPU target deploys
  const price = GPU_INSTANCE_PRICES[instanceType];
  if (!price)
    throw new DeployError(
      `--instance-type ${instanceType}: the price table (src/deploy/prices.ts) has ${Object.keys(GPU_INSTANCE_PRICES).join(', ')}, the one-GPU sizes`,
    );
  return price;
}

/** What `kiln bench` measured of one bundle. */
export interface CostMeasurement {
  backend: 'wasm' | 'webgpu';
  /** the median time of one inference, run one at a time */
  medianMs: number;
  /** wasm: the CPU time of one inference (the CPU clock over the timed runs ÷ runs) */
  cpuMs?: number;
  /** wasm: whose CPU time the clock counts, the JavaScript thread's or the whole process's (src/cli/cpu-time.ts) */
  cpuClock?: 'thread' | 'process';
  /** webgpu: the adapter that ran it, as it describes itself, and whether it is a CPU emulation */
  adapter?: { description: string; software: boolean };
}

export interface CostInput {
  manifest: Manifest;
  /** the bundle as a Worker would carry it */
  footprint: ModelFootprint;
  measurement: CostMeasurement;
  /** the GPU target's instance type */
  instanceType: string;
}

export interface TargetCost extends Partial<MillionCost> {
  /** `cloudflare`, `lambda arm64`, `lambda x86_64`, `gpu g5.xlarge` */
  target: string;
  /** how the price is made up, or why there is none (then the prices are absent) */
  basis: string;
}

const usd = (price: Price) => `$${price.usd} per ${price.per}`;
const ms = (value: number) => `${Number(value.toPrecision(3))} ms`;

/** The price of a million inferences on every deploy target, or why a target has none. */
export function targetCosts(input: CostInput): TargetCost[] {
  const { measurement } = input;
  const costs: TargetCost[] = [];
  const wasmCpuMs = measurement.backend === 'wasm' ? measurement.cpuMs : undefined;
  const onWasm =
    'not priced: it runs the wasm backend and this measurement is of webgpu (run kiln bench --cost without --backend webgpu)';

  costs.push(
    priceOrReason('cloudflare', () => {
      if (wasmCpuMs === undefined) return onWasm;
      const memory = checkMemory([input.footprint], WORKERS_LIMITS);
      return {
        ...workersCost(wasmCpuMs),
        basis: `Workers Standard: ${usd(WORKERS_PRICES.requests)} + ${ms(wasmCpuMs)} of CPU time × ${usd(WORKERS_PRICES.cpu)} (beyond the 10M requests and 30M CPU-ms a month that the plan's $5 includes); memory about ${(memory.bytes / 2 ** 20).toFixed(1)} of 128 MiB`,
      };
    }),
  );

  for (const arch of LAMBDA_ARCHITECTURES)
    costs.push(
      priceOrReason(`lambda ${arch}`, () => {
        if (wasmCpuMs === undefined) return onWasm;
        const { memoryMb } = checkLambdaMemory([input.manifest.memory]);
        return {
          ...lambdaCost(wasmCpuMs, memoryMb, arch),
          basis: `${usd(LAMBDA_PRICES.requests)} + ${lambdaBilledMs(wasmCpuMs)} ms billed (${ms(wasmCpuMs)} of CPU on one vCPU, rounded up) × ${memoryMb} MB (kiln deploy's memory size for this bundle, at least ${ONE_VCPU_MEMORY_MB} MB for one vCPU) × ${usd(LAMBDA_PRICES[arch])}${arch === 'arm64' ? ' (kiln deploy uses arm64)' : ''}`,
        };
      }),
    );

  const { instanceType } = input;
  const price = gpuHourlyPrice(instanceType); // an instance type without a price is the caller's mistake
  costs.push(
    priceOrReason(`gpu ${instanceType}`, () => {
      if (measurement.backend !== 'webgpu')
        return input.manifest.targets.includes('webgpu')
          ? 'not priced: needs a webgpu measurement (kiln bench DIR --backend webgpu --cost, on the GPU)'
          : 'not priced: the bundle has no webgpu target (compile it with --targets wasm,webgpu, then kiln bench DIR --backend webgpu --cost)';
      checkGpuMemory(gpuInstance(instanceType), [input.manifest.memory]);
      const perSecond = 1000 / measurement.medianMs;
      const adapter = measurement.adapter;
      const where = !adapter
        ? ''
        : `, on ${adapter.description}${adapter.software ? ", a CPU emulation of a GPU: not the instance's speed" : ''}`;
      return {
        ...gpuCost(price.usd, perSecond),
        basis: `${usd(price)} ÷ (${Number(perSecond.toPrecision(3))} inferences per second × 3,600): one at a time, ${ms(measurement.medianMs)} each${where}; on-demand, the instance alone`,
      };
    }),
  );
  return costs;
}

/** A priced target, or one whose limits refuse the bundle (a DeployError), or one the measurement cannot price. */
function priceOrReason(target: string, price: () => Omit<TargetCost, 'target'> | string): TargetCost {
  try {
    const result = price();
    return typeof result === 'string' ? { target, basis: result } : { target, ...result };
  } catch (err) {
    if (!(err instanceof DeployError)) throw err;
    return { target, basis: `cannot deploy: ${err.message}` };
  }
}
