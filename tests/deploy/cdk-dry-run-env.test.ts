/**
 * A dry run never asks AWS anything, whatever the environment holds: with CDK_DEFAULT_ACCOUNT and
 * CDK_DEFAULT_REGION set (as many CI shells have them) and no credentials, the real aws-cdk CLI
 * synthesizes the GPU stack. With an account known, `new ec2.Vpc({ maxAzs: 2 })` would look the
 * availability zones up in the account and the synth would fail for want of credentials.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cdkSynth } from '../../src/deploy/aws-cdk-app.js';
import type { DeployRequest } from '../../src/deploy/types.js';
import { makeArtifacts, type Artifacts } from '../cdk/fixtures.js';

let artifacts: Artifacts;
let outDir: string;
beforeAll(async () => {
  artifacts = makeArtifacts();
  outDir = await mkdtemp(join(tmpdir(), 'kiln-dry-env-'));
});
afterAll(async () => {
  artifacts?.cleanup();
  await (outDir && rm(outDir, { recursive: true, force: true }));
});

it('synthesizes the GPU stack with CDK_DEFAULT_ACCOUNT/REGION set and no credentials', async () => {
  const nowhere = join(outDir, 'no-aws-config');
  const lines: string[] = [];
  const request: DeployRequest = {
    bundleDirs: [],
    outDir,
    dryRun: true,
    env: {
      PATH: process.env.PATH,
      HOME: outDir,
      CDK_DEFAULT_ACCOUNT: '123456789012',
      CDK_DEFAULT_REGION: 'eu-west-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: nowhere,
      AWS_SHARED_CREDENTIALS_FILE: nowhere,
    },
    step: () => {},
    log: (line) => lines.push(line),
    warn: () => {},
  };
  const templates = await cdkSynth(request, { serverDir: artifacts.serverDir, region: 'eu-central-1' });
  expect(templates.map((t) => t.slice(outDir.length))).toEqual(['/cdk.out/KilnGpu.template.json']);
  const template = JSON.parse(await readFile(templates[0], 'utf8'));
  const subnets = Object.values(template.Resources as Record<string, { Type: string; Properties: any }>)
    .filter((r) => r.Type === 'AWS::EC2::Subnet')
    .map((r) => JSON.stringify(r.Properties.AvailabilityZone));
  // account-agnostic: the zones are the region's first two, chosen by CloudFormation at deploy time
  expect(subnets.length).toBeGreaterThanOrEqual(2);
  for (const zone of subnets) expect(zone).toMatch(/Fn::GetAZs/);
}, 120_000);
