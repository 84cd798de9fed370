/**
 * The prices `kiln bench --cost` turns measurements into dollars with, as published on PRICES_DATE, in
 * US dollars, each with the page it comes from. Only what a Kiln deployment pays per inference is here:
 * monthly fees, included usage and free tiers are left out (they do not change the price of the next
 * million inferences), and so are storage, load balancers and data transfer. Re-check before relying
 * on them; `assumption` says where a number was not read on the provider's own page.
 */

/** The day these prices were read. */
export const PRICES_DATE = '2026-12-06';

export interface Price {
  usd: number;
  /** what one `usd` buys */
  per: string;
  source: string;
  /** where the number is not as read on the provider's own page, or how it is applied */
  assumption?: string;
}

const WORKERS_PRICING = 'https://developers.cloudflare.com/workers/platform/pricing/';
const LAMBDA_PRICING = 'https://aws.amazon.com/lambda/pricing/';
const EC2_ON_DEMAND = 'https://aws.amazon.com/ec2/pricing/on-demand/';
/** AWS's pricing pages render their tables by script: these numbers were read where others quote them. */
const READ_FROM_COPIES = "read from copies of AWS's published price (the page renders it by script)";

/**
 * Cloudflare Workers Paid, Standard usage model: beyond the 10 million requests and 30 million CPU-ms a
 * month that the $5 monthly fee includes. Duration (wall time) is not billed.
 */
export const WORKERS_PRICES = {
  requests: { usd: 0.3, per: '1M requests', source: WORKERS_PRICING },
  cpu: {
    usd: 0.02,
    per: '1M CPU-ms',
    source: WORKERS_PRICING,
    assumption: 'CPU time billed as measured, without rounding per request',
  },
} as const satisfies Record<string, Price>;

export const LAMBDA_ARCHITECTURES = ['arm64', 'x86_64'] as const;
export type LambdaArchitecture = (typeof LAMBDA_ARCHITECTURES)[number];

/**
 * AWS Lambda in us-east-1, on-demand: requests, and duration in GB-s (memory in MB ÷ 1,024 × seconds,
 * each invocation rounded up to 1 ms), at the first monthly tier (the first 7.5 billion arm64 or 6
 * billion x86 GB-s a month; later tiers are cheaper).
 */
export const LAMBDA_PRICES = {
  requests: { usd: 0.2, per: '1M requests', source: LAMBDA_PRICING, assumption: READ_FROM_COPIES },
  arm64: { usd: 0.0000133334, per: 'GB-s', source: LAMBDA_PRICING, assumption: READ_FROM_COPIES },
  x86_64: { usd: 0.0000166667, per: 'GB-s', source: LAMBDA_PRICING, assumption: READ_FROM_COPIES },
} as const satisfies Record<'requests' | LambdaArchitecture, Price>;

/**
 * EC2 on-demand, Linux, us-east-1, per instance-hour, for the one-GPU size of each family KilnGpuService
 * deploys (src/deploy/gpu-limits.ts): the instance alone, not its volume or the load balancer.
 */
export const GPU_INSTANCE_PRICES: Record<string, Price> = {
  'g5.xlarge': { usd: 1.006, per: 'instance-hour', source: EC2_ON_DEMAND, assumption: READ_FROM_COPIES },
  'g6.xlarge': { usd: 0.8048, per: 'instance-hour', source: EC2_ON_DEMAND, assumption: READ_FROM_COPIES },
  'g6e.xlarge': { usd: 1.861, per: 'instance-hour', source: EC2_ON_DEMAND, assumption: READ_FROM_COPIES },
};
