/**
 * `kiln deploy DIR... --target cloudflare|lambda|gpu`: build the target's artifacts, check the
 * platform's limits, then upload (or, with --dry-run, only print the plan). Targets live in src/deploy.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { installCommand, type PeerPackage } from '../../deploy/peers.js';
import {
  DEPLOY_TARGETS,
  type DeployRequest,
  type DeployTarget,
  type DeployTargetName,
} from '../../deploy/types.js';
import { batchingOf, parseChoice, parseCommandArgs } from '../args.js';
import { print, printJson, warn, type Command } from '../command.js';
import { printable } from '../../text/printable.js';
import { UsageError } from '../errors.js';
import { progressLine } from '../progress.js';

const usage =
  'kiln deploy DIR... --target cloudflare|lambda|gpu [--dry-run] [--out DIR] [--name NAME] [--region REGION] [--update-code FUNCTION] [--instance-type TYPE] [--max-batch N [--batch-delay-ms 2]] [--json]';

/** Each target's module is loaded only when chosen: their build tools stay out of the other commands. */
const TARGETS: Record<DeployTargetName, () => Promise<DeployTarget>> = {
  cloudflare: async () => (await import('../../deploy/cloudflare.js')).deployCloudflare,
  lambda: async () => (await import('../../deploy/lambda.js')).deployLambda,
  gpu: async () => (await import('../../deploy/gpu.js')).deployGpu,
};

/** The optional peer dependencies each target needs besides Kiln's own. */
const TARGET_PACKAGES: Record<DeployTargetName, PeerPackage[]> = {
  cloudflare: ['wrangler'],
  lambda: ['aws-cdk', 'aws-cdk-lib', 'constructs', 'cdk-nag', '@aws-sdk/client-lambda'],
  gpu: ['aws-cdk', 'aws-cdk-lib', 'constructs', 'cdk-nag', '@aws-sdk/client-lambda'],
};

/** The target's module; an uninstalled peer dependency it imports becomes an install hint. */
async function loadTarget(target: DeployTargetName): Promise<DeployTarget> {
  try {
    return await TARGETS[target]();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new Error(
      `--target ${target} needs packages that are not installed (${(err as Error).message.split('\n')[0]}): ${installCommand(TARGET_PACKAGES[target])}`,
    );
  }
}

export const deployCommand: Command = {
  name: 'deploy',
  usage,
  summary:
    'deploy bundles to Cloudflare Workers, AWS Lambda or GPU instances (--dry-run: build and plan only)',
  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        target: { type: 'string' },
        'dry-run': { type: 'boolean' },
        out: { type: 'string' },
        name: { type: 'string' },
        region: { type: 'string' },
        'update-code': { type: 'string' },
        'instance-type': { type: 'string' },
        'max-batch': { type: 'string' },
        'batch-delay-ms': { type: 'string' },
        json: { type: 'boolean' },
      },
      usage,
    );
    if (positionals.length === 0) throw new UsageError('missing bundle DIR', usage);
    if (values.target === undefined)
      throw new UsageError(`missing --target (${DEPLOY_TARGETS.join(', ')})`, usage);
    const target = parseChoice('--target', values.target, DEPLOY_TARGETS, usage);
    if (values['update-code'] !== undefined && target !== 'lambda')
      throw new UsageError('--update-code is for --target lambda', usage);
    if (values['instance-type'] !== undefined && target !== 'gpu')
      throw new UsageError('--instance-type is for --target gpu', usage);
    if (values.region !== undefined && target === 'cloudflare')
      throw new UsageError('--region is for the AWS targets (lambda, gpu)', usage);
    const batching = batchingOf(values['max-batch'], values['batch-delay-ms'], usage);
    if (batching && target === 'lambda')
      throw new UsageError(
        '--max-batch is for --target cloudflare or gpu: Lambda runs one request per execution environment at a time, so there is nothing to batch',
        usage,
      );

    const dryRun = values['dry-run'] ?? false;
    const outDir = resolve(values.out ?? `.kiln/deploy/${target}`);
    const progress = progressLine();
    let steps = 0;
    const request: DeployRequest = {
      bundleDirs: positionals,
      outDir,
      dryRun,
      name: values.name,
      region: values.region,
      updateCode: values['update-code'],
      instanceType: values['instance-type'],
      batching,
      env: process.env,
      step(text) {
        progress.done();
        process.stderr.write(`kiln: [${++steps}] ${printable(text)}\n`);
      },
      log(text) {
        progress.update(`  ${text.slice(0, 100)}`);
      },
      warn(text) {
        progress.done();
        warn(text);
      },
    };
    const deploy = await loadTarget(target);
    const result = await deploy(request);
    progress.done();

    if (values.json) {
      printJson({ target, dryRun, outDir, ...result });
      return;
    }
    print(
      dryRun ? `kiln: dry run for ${target}: nothing was uploaded. Plan:` : `kiln: deployed to ${target}:`,
    );
    for (const line of result.plan) print(`  ${line}`);
    print('artifacts:');
    for (const path of result.artifacts) print(`  ${displayPath(path)}`);
    if (result.endpoint) print(`endpoint: ${result.endpoint}`);
  },
};

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
