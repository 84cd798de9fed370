/**
 * The contract between `kiln deploy` (src/cli/commands/deploy.ts) and each deploy target
 * (cloudflare.ts, lambda.ts, gpu.ts): the CLI parses flags into a DeployRequest, a target builds its
 * artifacts under `outDir`, checks the platform's limits, and — unless `dryRun` — uploads.
 */
import type { BatchingOptions } from '../serve/batching.js';

export const DEPLOY_TARGETS = ['cloudflare', 'lambda', 'gpu'] as const;
export type DeployTargetName = (typeof DEPLOY_TARGETS)[number];

export interface DeployRequest {
  /** verified bundle directories, each served under its manifest's model name */
  bundleDirs: string[];
  /** where the artifacts are written: `--out`, or a fresh temporary directory */
  outDir: string;
  /** build, check and plan, but upload nothing and need no credentials */
  dryRun: boolean;
  /** `--name`: the Worker name, or the CloudFormation stack name (defaults per target) */
  name?: string;
  /** `--region` (AWS targets; else AWS_REGION / AWS_DEFAULT_REGION) */
  region?: string;
  /** lambda: `--update-code FUNCTION` replaces the code of an existing Kiln function instead of `cdk deploy` */
  updateCode?: string;
  /** gpu: `--instance-type` (g5/g6/g6e families) */
  instanceType?: string;
  /** cloudflare, gpu: `--max-batch N [--batch-delay-ms D]`, dynamic batching of every served model */
  batching?: Required<BatchingOptions>;
  /** the environment deploy tools see (credentials, account ids); process.env in the CLI */
  env: NodeJS.ProcessEnv;
  /** a step begins: "building the Worker", "wrangler deploy"… (shown as progress) */
  step(text: string): void;
  /** a line of a tool's output, or detail inside a step */
  log(text: string): void;
  /** something the user should know that does not stop the deploy (e.g. a CPU-time estimate) */
  warn(text: string): void;
}

export interface DeployResult {
  /** what is (or, on a dry run, would be) deployed: one human-readable line each */
  plan: string[];
  /** paths of the artifacts written under outDir */
  artifacts: string[];
  /** the endpoint's base URL after a real deploy (absent on a dry run) */
  endpoint?: string;
}

export type DeployTarget = (request: DeployRequest) => Promise<DeployResult>;

/**
 * A problem found before anything was changed in the account (limits, credentials, a missing tool, a
 * function that is not Kiln's): the CLI prints the message, which says what to do, and exits 1.
 */
export class DeployError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeployError';
  }
}
