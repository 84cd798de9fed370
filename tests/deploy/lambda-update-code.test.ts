/**
 * `kiln deploy --target lambda --update-code FUNCTION` (src/deploy/lambda.ts → lambda-update-code.ts).
 * aws-sdk-client-mock stands in for the AWS Lambda API, which cannot be reached from here: it answers
 * the commands the real LambdaClient sends and records them. Everything else — the zip build, the limit
 * checks, the SDK's credential chain, the waiter — is the real code.
 */
import {
  GetFunctionCommand,
  GetFunctionUrlConfigCommand,
  LambdaClient,
  ResourceNotFoundException,
  UpdateFunctionCodeCommand,
  type GetFunctionCommandOutput,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { deployLambda } from '../../src/deploy/lambda.js';
import { DeployError, type DeployRequest } from '../../src/deploy/types.js';
import { compileMlp, type CompiledBundle } from '../serve/fixture.js';

const lambdaApi = mockClient(LambdaClient);
const FUNCTION = 'KilnLambda-ModelFunction1234';
const URL = 'https://abcdefghij.lambda-url.eu-west-1.on.aws/';

let mlp: CompiledBundle;
let work: string;
beforeAll(async () => {
  [mlp, work] = await Promise.all([compileMlp(), mkdtemp(join(tmpdir(), 'kiln-update-code-'))]);
});
afterAll(async () => {
  await Promise.all([mlp?.cleanup(), work && rm(work, { recursive: true, force: true })]);
});

/** Credentials as the environment gives them (fake: only the mock sees requests), and no other source. */
function stubAwsEnv(credentials: boolean): void {
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_ROLE_ARN',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  ])
    vi.stubEnv(name, undefined);
  vi.stubEnv('AWS_CONFIG_FILE', join(work, 'no-config'));
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(work, 'no-credentials'));
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  if (credentials) {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAIOSFODNN7EXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  }
}

function kilnFunction(overrides: Partial<NonNullable<GetFunctionCommandOutput['Configuration']>> = {}) {
  return {
    Configuration: {
      FunctionName: FUNCTION,
      Runtime: 'nodejs24.x' as const,
      Handler: 'index.handler',
      Architectures: ['arm64' as const],
      MemorySize: 1769,
      PackageType: 'Zip' as const,
      RevisionId: 'rev-1',
      LastUpdateStatus: 'Successful' as const,
      ...overrides,
    },
    Tags: { 'kiln:managed': 'true', 'aws:cloudformation:stack-name': 'KilnLambda' },
  };
}

const warnings: string[] = [];
function request(outName: string): DeployRequest {
  return {
    bundleDirs: [mlp.dir],
    outDir: join(work, outName),
    dryRun: false,
    region: 'eu-west-1',
    updateCode: FUNCTION,
    env: process.env,
    step: () => {},
    log: () => {},
    warn: (text) => warnings.push(text),
  };
}

const sent = () => lambdaApi.calls().map((call) => call.args[0].constructor.name);

beforeEach(() => {
  lambdaApi.reset();
  warnings.length = 0;
  stubAwsEnv(true);
});
afterEach(() => vi.unstubAllEnvs());

describe('--update-code', () => {
  it('checks the function, uploads the zip, waits for the update and returns the Function URL', async () => {
    lambdaApi.on(GetFunctionCommand).resolves(kilnFunction());
    lambdaApi
      .on(UpdateFunctionCodeCommand)
      .resolves({ FunctionName: FUNCTION, LastUpdateStatus: 'InProgress' });
    lambdaApi.on(GetFunctionUrlConfigCommand).resolves({ FunctionUrl: URL, AuthType: 'AWS_IAM' });

    const result = await deployLambda(request('happy'));

    // GetFunction (the checks), UpdateFunctionCode, GetFunction (the waiter), GetFunctionUrlConfig
    expect(sent()).toEqual([
      'GetFunctionCommand',
      'UpdateFunctionCodeCommand',
      'GetFunctionCommand',
      'GetFunctionUrlConfigCommand',
    ]);
    const [update] = lambdaApi.commandCalls(UpdateFunctionCodeCommand);
    const zip = new Uint8Array(await readFile(join(work, 'happy', 'lambda.zip')));
    expect(update.args[0].input).toEqual({ FunctionName: FUNCTION, ZipFile: zip, RevisionId: 'rev-1' });
    expect(result.endpoint).toBe(URL);
    expect(result.artifacts).toEqual([join(work, 'happy', 'lambda.zip')]);
    expect(result.plan[0]).toContain(`replace the code of function ${FUNCTION} in eu-west-1`);
    expect(warnings).toEqual([]);
  });

  it('refuses a function without the kiln:managed tag, and uploads nothing', async () => {
    lambdaApi.on(GetFunctionCommand).resolves({ ...kilnFunction(), Tags: { team: 'payments' } });
    await expect(deployLambda(request('foreign'))).rejects.toThrow(
      new DeployError(
        `function ${FUNCTION} is not a Kiln function (it lacks the tag kiln:managed=true); refusing to replace its code: deploy a Kiln stack with \`kiln deploy DIR --target lambda\``,
      ),
    );
    expect(sent()).toEqual(['GetFunctionCommand']);
  });

  it('refuses a Kiln-tagged function with another runtime, handler or too little memory', async () => {
    const cases: [Parameters<typeof kilnFunction>[0], string][] = [
      [{ Runtime: 'python3.12' }, 'runs python3.12, but the package needs Node.js 20 or newer'],
      [{ Runtime: 'nodejs18.x' }, 'runs nodejs18.x, but the package needs Node.js 20 or newer'],
      [{ Handler: 'app.main' }, "has handler app.main, but the package's is index.handler"],
      [{ MemorySize: 128 }, 'has 128 MB of memory, but these bundles need about 257 MB'],
    ];
    for (const [overrides, message] of cases) {
      lambdaApi.reset();
      lambdaApi.on(GetFunctionCommand).resolves(kilnFunction(overrides));
      await expect(deployLambda(request('mismatch'))).rejects.toThrow(`function ${FUNCTION} ${message}`);
      expect(sent()).toEqual(['GetFunctionCommand']);
    }
  });

  it('tells to deploy first when the function does not exist', async () => {
    lambdaApi
      .on(GetFunctionCommand)
      .rejects(new ResourceNotFoundException({ message: `Function not found: ${FUNCTION}`, $metadata: {} }));
    await expect(deployLambda(request('missing'))).rejects.toThrow(
      new DeployError(
        `function ${FUNCTION} does not exist in eu-west-1: deploy it first with \`kiln deploy DIR --target lambda\` (without --update-code)`,
      ),
    );
    expect(sent()).toEqual(['GetFunctionCommand']);
  });

  it('warns when the function has no Function URL of its own', async () => {
    lambdaApi.on(GetFunctionCommand).resolves(kilnFunction());
    lambdaApi.on(UpdateFunctionCodeCommand).resolves({});
    lambdaApi.on(GetFunctionUrlConfigCommand).rejects(
      new ResourceNotFoundException({
        message: 'The resource you requested does not exist.',
        $metadata: {},
      }),
    );
    const result = await deployLambda(request('no-url'));
    expect(result.endpoint).toBeUndefined();
    expect(warnings).toEqual([
      expect.stringContaining(`function ${FUNCTION} has no Function URL of its own`),
    ]);
  });

  it('without credentials: says how to provide them, builds nothing and sends nothing', async () => {
    stubAwsEnv(false);
    const outName = 'no-credentials';
    await expect(deployLambda(request(outName))).rejects.toThrow(
      /^no AWS credentials found \(.+\): set AWS_PROFILE \(run `aws sso login` first for an SSO profile\), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY$/,
    );
    expect(sent()).toEqual([]);
    await expect(readFile(join(work, outName, 'lambda.zip'))).rejects.toThrow(/ENOENT/);
  });

  it('without a region: says to pass --region', async () => {
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    await expect(deployLambda({ ...request('no-region'), region: undefined })).rejects.toThrow(
      new DeployError('no AWS region given: pass --region REGION or set AWS_REGION'),
    );
    expect(sent()).toEqual([]);
  });

  it('on a dry run: builds and checks, plans the update, and sends nothing', async () => {
    stubAwsEnv(false);
    const result = await deployLambda({ ...request('dry'), dryRun: true });
    expect(sent()).toEqual([]);
    expect(result.endpoint).toBeUndefined();
    expect(result.plan[0]).toBe(
      `replace the code of function ${FUNCTION} in eu-west-1 through the Lambda API (no CloudFormation), if it is tagged kiln:managed=true`,
    );
  });
});
