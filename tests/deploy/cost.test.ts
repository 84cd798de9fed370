/** Dollars per million inferences (src/deploy/cost.ts) from known measurements and the price table. */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/bundle/manifest.js';
import {
  gpuCost,
  gpuHourlyPrice,
  lambdaBilledMs,
  lambdaCost,
  targetCosts,
  workersCost,
  type CostInput,
} from '../../src/deploy/cost.js';
import { GPU_INSTANCE_PRICES, LAMBDA_PRICES, PRICES_DATE, WORKERS_PRICES } from '../../src/deploy/prices.js';
import { DeployError } from '../../src/deploy/types.js';

const MiB = 2 ** 20;

function input(options: {
  backend: 'wasm' | 'webgpu';
  memoryMb?: number;
  targets?: string[];
  instanceType?: string;
}): CostInput {
  const totalBytes = (options.memoryMb ?? 1) * MiB;
  return {
    manifest: {
      model: { name: 'm' },
      targets: options.targets ?? ['wasm'],
      memory: { totalBytes, weightsBytes: 0 },
    } as unknown as Manifest,
    footprint: { name: 'm', memoryBytes: totalBytes, wasmBytes: 4096, weightsBytes: 0, int8SavingBytes: 0 },
    measurement:
      options.backend === 'wasm'
        ? { backend: 'wasm', medianMs: 2, cpuMs: 2.5 }
        : { backend: 'webgpu', medianMs: 4, adapter: { description: 'NVIDIA A10G', software: false } },
    instanceType: options.instanceType ?? 'g5.xlarge',
  };
}

const byTarget = (costs: ReturnType<typeof targetCosts>) =>
  Object.fromEntries(costs.map((c) => [c.target, c]));

describe('the price table', () => {
  it('is dated, and every price has a source', () => {
    expect(PRICES_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const price of [
      ...Object.values(WORKERS_PRICES),
      ...Object.values(LAMBDA_PRICES),
      ...Object.values(GPU_INSTANCE_PRICES),
    ]) {
      expect(price.usd).toBeGreaterThan(0);
      expect(price.source).toMatch(/^https:\/\//);
    }
  });
});

describe('cost per million inferences', () => {
  it("Workers: Cloudflare's own example (7 ms of CPU a request) at the margin", () => {
    // the pricing page's example: 15M requests at 7 ms cost $1.50 of requests and $1.50 of CPU beyond
    // the included 10M requests and 30M CPU-ms, i.e. $0.30 and 7 × $0.02 per further million
    expect(workersCost(7)).toEqual({ requestsUsd: 0.3, computeUsd: 0.14, usdPerMillion: 0.44 });
  });

  it('Lambda: rounds each invocation up to whole ms, at least 1 ms', () => {
    expect([0, 0.001, 1, 1.2, 299.5].map(lambdaBilledMs)).toEqual([1, 1, 1, 2, 300]);
  });

  it("Lambda: AWS's example of 512 MB for 300 ms is 0.15 GB-s an invocation", () => {
    const x86 = lambdaCost(300, 512, 'x86_64');
    expect(x86.requestsUsd).toBe(0.2);
    expect(x86.computeUsd).toBeCloseTo(150_000 * 0.0000166667, 9); // $2.50
    expect(lambdaCost(300, 512, 'arm64').computeUsd).toBeCloseTo(150_000 * 0.0000133334, 9); // $2.00
    // a sub-millisecond run is billed as 1 ms
    expect(lambdaCost(0.05, 1024, 'arm64').computeUsd).toBeCloseTo(1000 * 0.0000133334, 9);
  });

  it('a GPU instance: its hourly price over the inferences it runs in an hour', () => {
    const cost = gpuCost(1.006, 100); // 360,000 an hour
    expect(cost.requestsUsd).toBe(0);
    expect(cost.computeUsd).toBeCloseTo(2.794444, 6);
    expect(cost.usdPerMillion).toBe(cost.computeUsd);
  });

  it('knows the hourly price of the one-GPU sizes only, and says which it has', () => {
    expect(gpuHourlyPrice('g6.xlarge').usd).toBe(0.8048);
    expect(() => gpuHourlyPrice('g5.2xlarge')).toThrow(
      '--instance-type g5.2xlarge: the price table (src/deploy/prices.ts) has g5.xlarge, g6.xlarge, g6e.xlarge, the one-GPU sizes',
    );
    expect(() => gpuHourlyPrice('p4d.24xlarge')).toThrow(DeployError);
  });
});

describe('every target, from one measurement', () => {
  it('a wasm measurement prices Workers and Lambda, and says why not the GPU', () => {
    const costs = byTarget(targetCosts(input({ backend: 'wasm' })));
    expect(Object.keys(costs)).toEqual(['cloudflare', 'lambda arm64', 'lambda x86_64', 'gpu g5.xlarge']);
    expect(costs.cloudflare).toMatchObject(workersCost(2.5));
    // kiln deploy gives a small bundle one vCPU's 1,769 MB, and the 2.5 ms of CPU are billed as 3 ms
    expect(costs['lambda arm64']).toMatchObject(lambdaCost(3, 1769, 'arm64'));
    expect(costs['lambda x86_64']).toMatchObject(lambdaCost(3, 1769, 'x86_64'));
    expect(costs['lambda arm64'].basis).toContain(
      '3 ms billed (2.5 ms of CPU on one vCPU, rounded up) × 1769 MB',
    );
    expect(costs['gpu g5.xlarge']).toEqual({
      target: 'gpu g5.xlarge',
      basis:
        'not priced: the bundle has no webgpu target (compile it with --targets wasm,webgpu, then kiln bench DIR --backend webgpu --cost)',
    });
    const webgpuBundle = byTarget(targetCosts(input({ backend: 'wasm', targets: ['wasm', 'webgpu'] })));
    expect(webgpuBundle['gpu g5.xlarge'].basis).toBe(
      'not priced: needs a webgpu measurement (kiln bench DIR --backend webgpu --cost, on the GPU)',
    );
  });

  it('a webgpu measurement prices the GPU instance at its throughput, and not Workers or Lambda', () => {
    const costs = byTarget(
      targetCosts(input({ backend: 'webgpu', targets: ['wasm', 'webgpu'], instanceType: 'g6.xlarge' })),
    );
    // 4 ms each: 250 a second, 900,000 an hour for $0.8048
    expect(costs['gpu g6.xlarge'].usdPerMillion).toBeCloseTo(0.8048 / 0.9, 12);
    expect(costs['gpu g6.xlarge'].basis).toBe(
      '$0.8048 per instance-hour ÷ (250 inferences per second × 3,600): one at a time, 4 ms each, on NVIDIA A10G; on-demand, the instance alone',
    );
    for (const target of ['cloudflare', 'lambda arm64', 'lambda x86_64']) {
      expect(costs[target].usdPerMillion).toBeUndefined();
      expect(costs[target].basis).toMatch(/^not priced: it runs the wasm backend/);
    }
  });

  it("a target whose limits refuse the bundle says so with the deploy's own reason", () => {
    const big = byTarget(targetCosts(input({ backend: 'wasm', memoryMb: 200 })));
    expect(big.cloudflare.usdPerMillion).toBeUndefined();
    expect(big.cloudflare.basis).toMatch(/^cannot deploy: the Worker would need about 216\.0 MiB of memory/);
    expect(big['lambda arm64'].usdPerMillion).toBeGreaterThan(0);
    const huge = byTarget(targetCosts(input({ backend: 'wasm', memoryMb: 12_000 })));
    expect(huge['lambda arm64'].basis).toMatch(
      /^cannot deploy: the bundles need about .* over Lambda's 10240 MB maximum/,
    );
    const gpuHuge = byTarget(
      targetCosts(input({ backend: 'webgpu', memoryMb: 20_000, targets: ['wasm', 'webgpu'] })),
    );
    expect(gpuHuge['gpu g5.xlarge'].basis).toMatch(
      /^cannot deploy: the bundles need about 21\.5 GiB of memory, more than a g5\.xlarge has/,
    );
  });

  it('an instance type without a price is refused, not reported', () => {
    expect(() => targetCosts(input({ backend: 'wasm', instanceType: 'g6e.2xlarge' }))).toThrow(DeployError);
  });
});
