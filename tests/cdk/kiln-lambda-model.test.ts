/** KilnLambdaModel through the real synthesizer: defaults, every option, every error, and cdk-nag. */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KilnLambdaModel, type KilnLambdaModelProps } from '../../cdk/lib/index.js';
import { makeArtifacts, type Artifacts } from './fixtures.js';

const env = { account: '123456789012', region: 'us-east-1' };
let artifacts: Artifacts;
let checkedApp: App;
let defaults: Template;
let options: Template;
let openApi: Template;
let existingLogs: Template;
let nagError: unknown;

function model(app: App, id: string, props: (stack: Stack) => KilnLambdaModelProps): Stack {
  const stack = new Stack(app, id, { env });
  new KilnLambdaModel(stack, 'Model', props(stack));
  return stack;
}

beforeAll(() => {
  artifacts = makeArtifacts();
  checkedApp = new App();
  Validations.of(checkedApp).addPlugins(new AwsSolutionsChecks(checkedApp));
  const zip = { lambdaZipPath: artifacts.lambdaZip };
  const defaultStack = model(checkedApp, 'Defaults', () => zip);
  const optionsStack = model(checkedApp, 'Options', (stack) => {
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs() } },
    });
    return {
      code: lambda.Code.fromAsset(artifacts.lambdaZip),
      memorySize: 3008,
      timeout: Duration.seconds(60),
      environment: { KILN_API_KEY: 'secret' },
      httpApi: true,
      logGroupProps: { retention: logs.RetentionDays.ONE_WEEK },
      reservedConcurrentExecutions: 5,
      provisionedConcurrentExecutions: 2,
      existingVpc: vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [new ec2.SecurityGroup(stack, 'Sg', { vpc })],
      permissionsBoundary: iam.ManagedPolicy.fromManagedPolicyName(stack, 'Boundary', 'kiln-boundary'),
      durationAlarmThreshold: Duration.seconds(10),
    };
  });
  const openStack = model(checkedApp, 'OpenApi', () => ({
    ...zip,
    functionUrlAuthType: lambda.FunctionUrlAuthType.NONE,
    httpApi: true,
  }));
  const logsStack = model(checkedApp, 'ExistingLogs', (stack) => ({
    ...zip,
    existingLogGroup: new logs.LogGroup(stack, 'Shared', { retention: logs.RetentionDays.ONE_YEAR }),
  }));
  // synthesize (and so validate) before Template.fromStack caches the assembly
  try {
    checkedApp.synth();
  } catch (err) {
    nagError = err;
  }
  [defaults, options, openApi, existingLogs] = [defaultStack, optionsStack, openStack, logsStack].map((s) =>
    Template.fromStack(s),
  );
});
afterAll(() => artifacts?.cleanup());

describe('KilnLambdaModel defaults', () => {
  it('runs index.handler on arm64 Node.js with one vCPU of memory and a 30 s timeout', () => {
    defaults.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 1769,
      Timeout: 30,
      VpcConfig: Match.absent(),
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  it('is tagged kiln:managed=true, which --update-code requires', () => {
    defaults.hasResourceProperties('AWS::Lambda::Function', {
      Tags: Match.arrayWith([{ Key: 'kiln:managed', Value: 'true' }]),
    });
  });

  it('sizes memory from the memory plans of the bundles in the zip', () => {
    const stack = model(new App(), 'Big', () => ({ lambdaZipPath: artifacts.bigModelZip }));
    // 3 GiB of linear memory plus 256 MiB of headroom for Node.js and request bodies
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { MemorySize: 3 * 1024 + 256 });
  });

  it('has an IAM-authorized Function URL on the function itself, no alias and no HTTP API', () => {
    defaults.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', Qualifier: Match.absent() });
    defaults.resourceCountIs('AWS::Lambda::Alias', 0);
    defaults.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
  });

  it('logs to its own log group kept one month, and may write only there', () => {
    defaults.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    defaults.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('LogGroup'), 'Arn'] },
          },
        ],
      },
    });
    defaults.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: Match.absent(),
      PermissionsBoundary: Match.absent(),
    });
  });

  it('alarms on errors, throttles and p99 duration at 80% of the timeout', () => {
    defaults.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    defaults.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Threshold: 1 });
    defaults.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttles', Threshold: 1 });
    defaults.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Duration',
      ExtendedStatistic: 'p99',
      Threshold: 24_000,
    });
  });
});

describe('KilnLambdaModel options', () => {
  it('takes memory, timeout, environment and reserved concurrency', () => {
    options.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 3008,
      Timeout: 60,
      ReservedConcurrentExecutions: 5,
      Environment: { Variables: { KILN_API_KEY: 'secret' } },
    });
  });

  it('puts provisioned concurrency on a live alias that the URL and the HTTP API invoke', () => {
    options.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
    });
    options.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', Qualifier: 'live' });
    options.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationUri: { Ref: Match.stringLikeRegexp('LiveAlias') },
    });
  });

  it('places the function in the given VPC subnets with the given security group', () => {
    options.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Sg'), 'GroupId'] }],
        SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('PrivateSubnet') }]),
      },
    });
    options.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [
        Match.objectLike({
          'Fn::Join': Match.arrayWith([
            Match.arrayWith([Match.stringLikeRegexp('AWSLambdaVPCAccessExecutionRole')]),
          ]),
        }),
      ],
    });
  });

  it('applies the permissions boundary, the log group props and the duration threshold', () => {
    options.hasResourceProperties('AWS::IAM::Role', {
      PermissionsBoundary: {
        'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('policy/kiln-boundary')])],
      },
    });
    options.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    options.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', Threshold: 10_000 });
  });

  it('serves an IAM-authorized HTTP API with access logs when the URL uses IAM', () => {
    options.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$default',
      AuthorizationType: 'AWS_IAM',
    });
    options.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('LogGroup'), 'Arn'] } },
    });
  });

  it('opens both the URL and the HTTP API with auth type NONE', () => {
    openApi.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    openApi.hasResourceProperties('AWS::ApiGatewayV2::Route', { AuthorizationType: 'NONE' });
  });

  it('uses an existing log group instead of creating one', () => {
    existingLogs.resourceCountIs('AWS::Logs::LogGroup', 1);
    existingLogs.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    existingLogs.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^Shared') } },
    });
  });
});

describe('KilnLambdaModel errors', () => {
  const attempt = (props: (stack: Stack) => KilnLambdaModelProps) => () => model(new App(), 'S', props);
  const zip = () => artifacts.lambdaZip;

  it('needs exactly one of lambdaZipPath and code', () => {
    expect(attempt(() => ({}))).toThrow(
      'KilnLambdaModel: lambdaZipPath or code is required (build the zip with `kiln deploy BUNDLE_DIR --target lambda --dry-run --out OUT`: OUT/lambda.zip)',
    );
    expect(attempt(() => ({ lambdaZipPath: zip(), code: lambda.Code.fromAsset(zip()) }))).toThrow(
      'KilnLambdaModel: give either lambdaZipPath or code, not both',
    );
  });

  it('rejects existingLogGroup with logGroupProps', () => {
    expect(
      attempt((stack) => ({
        lambdaZipPath: zip(),
        existingLogGroup: new logs.LogGroup(stack, 'L'),
        logGroupProps: { retention: logs.RetentionDays.ONE_DAY },
      })),
    ).toThrow(
      'KilnLambdaModel: give either existingLogGroup or logGroupProps, not both (existingLogGroup is used as is; logGroupProps configures a new one)',
    );
  });

  it('rejects subnets or security groups without a VPC', () => {
    const message = 'KilnLambdaModel: vpcSubnets and securityGroups require existingVpc';
    expect(
      attempt(() => ({ lambdaZipPath: zip(), vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } })),
    ).toThrow(message);
    expect(
      attempt((stack) => ({
        lambdaZipPath: zip(),
        securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-12345678')],
      })),
    ).toThrow(message);
  });

  it('rejects provisioned concurrency below 1', () => {
    expect(attempt(() => ({ lambdaZipPath: zip(), provisionedConcurrentExecutions: 0 }))).toThrow(
      'KilnLambdaModel: provisionedConcurrentExecutions must be at least 1, got 0',
    );
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in any variant', () => {
    expect(nagError).toBeUndefined();
  });

  it('is live: an unacknowledged finding beside the model fails synthesis', () => {
    const app = new App();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = model(app, 'Leaky', () => ({ lambdaZipPath: artifacts.lambdaZip }));
    new iam.User(stack, 'User').addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::s3:\*\]/);
  });
});
