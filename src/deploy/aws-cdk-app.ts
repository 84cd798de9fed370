/**
 * Kiln's CDK app (cdk/bin/app.ts) through the aws-cdk CLI: `cdk synth` writes the cloud assembly
 * (templates checked by cdk-nag, assets staged) under the deploy's out folder, `cdk deploy` deploys a
 * stack of that assembly and reads back its outputs.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { kilnModule, RUNS_FROM_SOURCE } from './sources.js';
import { CDK, findTool, runTool } from './tools.js';
import { DeployError, type DeployRequest } from './types.js';

const APP = kilnModule('cdk/bin/app');

/** Flags for every CDK CLI run: no notices, version reporting or telemetry, which would reach the network. */
const QUIET = ['--no-notices', '--no-version-reporting'];

export const cdkOutDir = (outDir: string) => join(outDir, 'cdk.out');

/** Synthesizes the app with this context into outDir/cdk.out; returns the paths of its templates. */
export async function cdkSynth(request: DeployRequest, context: Record<string, string>): Promise<string[]> {
  const cdkOut = cdkOutDir(request.outDir);
  // a stale stack from an earlier run would otherwise be listed (and deployable) beside the new ones
  await rm(cdkOut, { recursive: true, force: true });
  const contextArgs = Object.entries(context).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
  await runTool(
    findTool(CDK, request.env),
    ['synth', '--app', appCommand(), '--output', cdkOut, '--quiet', ...QUIET, ...contextArgs],
    { cwd: request.outDir, env: cliEnv(request), onLine: request.log },
  );
  const names = (await readdir(cdkOut)).filter((f) => f.endsWith('.template.json')).sort();
  return names.map((name) => join(cdkOut, name));
}

/** Deploys one stack of the synthesized assembly; returns the stack's outputs. */
export async function cdkDeploy(
  request: DeployRequest,
  stack: string,
  region: string,
): Promise<Record<string, string>> {
  const outputsFile = join(request.outDir, 'outputs.json');
  const args = ['deploy', stack, '--app', cdkOutDir(request.outDir), '--require-approval', 'never'];
  args.push('--outputs-file', outputsFile, '--progress', 'events', ...QUIET);
  try {
    await runTool(findTool(CDK, request.env), args, {
      cwd: request.outDir,
      env: cliEnv(request),
      onLine: request.log,
    });
  } catch (err) {
    // the CLI finds the missing toolkit stack before it changes anything
    if (err instanceof Error && /bootstrap/i.test(err.message))
      throw new DeployError(
        `the AWS account is not bootstrapped for the CDK in ${region}: run \`npx cdk bootstrap --region ${region}\` once, then deploy again`,
      );
    throw err;
  }
  const outputs = JSON.parse(await readFile(outputsFile, 'utf8')) as Record<string, Record<string, string>>;
  return outputs[stack] ?? {};
}

/**
 * The app run by this Node, by absolute path (the CLI runs it in the out folder); from a checkout's
 * TypeScript sources through tsx's loader.
 */
function appCommand(): string {
  const loader = RUNS_FROM_SOURCE ? ['--import', pathToFileURL(createRequire(APP).resolve('tsx')).href] : [];
  return [process.execPath, ...loader, APP].map(shellWord).join(' ');
}

/** The CLI hands the app command to a shell; quoting a plain word confuses its guess of the interpreter. */
const shellWord = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : JSON.stringify(word));

function cliEnv(request: DeployRequest): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...request.env,
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    CDK_DISABLE_VERSION_CHECK: 'true',
  };
  if (!request.dryRun) return env;
  // a dry run must not reach AWS: the CLI would use any credentials, profile or instance role it finds
  // to look up the account, and an account the app is given (CDK_DEFAULT_ACCOUNT) makes constructs look
  // things up in it (a VPC its availability zones); with neither it synthesizes account-agnostic
  // templates (the region comes from the app's context)
  for (const key of Object.keys(env))
    if (key.startsWith('AWS_') || key.startsWith('CDK_DEFAULT_')) delete env[key];
  const nowhere = join(request.outDir, 'no-aws-config');
  return {
    ...env,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: nowhere,
    AWS_SHARED_CREDENTIALS_FILE: nowhere,
  };
}
