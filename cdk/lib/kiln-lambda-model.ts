/**
 * KilnLambdaModel: one Kiln deployment package (index.handler + models/) behind a Lambda Function URL
 * and, optionally, an HTTP API; with its log group, alarms, concurrency and network placement.
 */
import { Duration, RemovalPolicy, Tags, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { lambdaMemoryMb, memoryNeedsInZip, ONE_VCPU_MEMORY_MB } from '../../src/deploy/lambda-limits.js';
import { rejectBoth } from './props.js';

/** One full vCPU: Lambda allots CPU in proportion to memory, and inference is CPU-bound. */
export const DEFAULT_LAMBDA_MEMORY_MB = ONE_VCPU_MEMORY_MB;

/**
 * The tag on every function this construct creates: `kiln deploy --update-code` replaces the code of
 * tagged functions only.
 */
export const KILN_MANAGED_TAG = { key: 'kiln:managed', value: 'true' } as const;

export interface KilnLambdaModelProps {
  /**
   * Path of the deployment zip written by `kiln deploy BUNDLE_DIR --target lambda --dry-run --out OUT` (OUT/lambda.zip).
   * Exactly one of `lambdaZipPath` and `code` is required.
   */
  readonly lambdaZipPath?: string;
  /** Prebuilt code holding `index.mjs` (handler `index.handler`) and `models/<name>/`. */
  readonly code?: lambda.Code;
  /**
   * @default - what the bundles in `lambdaZipPath` need (their memory plans plus the runtime's headroom),
   * at least DEFAULT_LAMBDA_MEMORY_MB (1769 MB, one vCPU); with `code`, DEFAULT_LAMBDA_MEMORY_MB
   */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** Extra environment variables, e.g. `KILN_API_KEY`. @default - none */
  readonly environment?: Record<string, string>;
  /** @default lambda.FunctionUrlAuthType.AWS_IAM */
  readonly functionUrlAuthType?: lambda.FunctionUrlAuthType;
  /**
   * Also route every path of an HTTP API (API Gateway v2) to the function, authorized by IAM when the
   * Function URL is, with access logs in the function's log group.
   * @default false
   */
  readonly httpApi?: boolean;
  /** The function's log group. Give at most one of `existingLogGroup` and `logGroupProps`. */
  readonly existingLogGroup?: logs.ILogGroup;
  /** @default - retention one month, destroyed with the stack */
  readonly logGroupProps?: logs.LogGroupProps;
  /** @default - no reservation */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Keeps this many instances initialized, on a `live` alias that the Function URL and HTTP API then invoke.
   * @default - none, and no alias
   */
  readonly provisionedConcurrentExecutions?: number;
  /** Places the function in this VPC. @default - not in a VPC */
  readonly existingVpc?: ec2.IVpc;
  /** Requires `existingVpc`. @default - the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Requires `existingVpc`. @default - a new security group with all outbound traffic allowed */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** Applied to the function's role. @default - none */
  readonly permissionsBoundary?: iam.IManagedPolicy;
  /** Alarm when p99 duration exceeds this. @default - 80% of `timeout` */
  readonly durationAlarmThreshold?: Duration;
}

const HANDLER = 'index.handler';
const DEFAULT_TIMEOUT = Duration.seconds(30);

export class KilnLambdaModel extends Construct {
  public readonly function: lambda.Function;
  /** What the Function URL and HTTP API invoke: the `live` alias with provisioned concurrency, else the function. */
  public readonly target: lambda.IFunction;
  public readonly functionUrl: lambda.FunctionUrl;
  public readonly role: iam.Role;
  public readonly logGroup: logs.ILogGroup;
  public readonly alias?: lambda.Alias;
  public readonly httpApi?: apigw.HttpApi;
  public readonly errorsAlarm: cloudwatch.Alarm;
  public readonly throttlesAlarm: cloudwatch.Alarm;
  public readonly durationAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: KilnLambdaModelProps) {
    super(scope, id);
    checkProps(props);
    const timeout = props.timeout ?? DEFAULT_TIMEOUT;

    this.logGroup =
      props.existingLogGroup ??
      new logs.LogGroup(this, 'LogGroup', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
        ...props.logGroupProps,
      });
    this.role = this.createRole(props);

    this.function = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: HANDLER,
      code: props.code ?? lambda.Code.fromAsset(props.lambdaZipPath!),
      memorySize: props.memorySize ?? defaultMemorySize(props),
      timeout,
      environment: props.environment,
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      vpc: props.existingVpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
    });

    Tags.of(this.function).add(KILN_MANAGED_TAG.key, KILN_MANAGED_TAG.value);

    if (props.provisionedConcurrentExecutions !== undefined) {
      this.alias = new lambda.Alias(this, 'LiveAlias', {
        aliasName: 'live',
        version: this.function.currentVersion,
        provisionedConcurrentExecutions: props.provisionedConcurrentExecutions,
      });
    }
    this.target = this.alias ?? this.function;

    const authType = props.functionUrlAuthType ?? lambda.FunctionUrlAuthType.AWS_IAM;
    this.functionUrl = this.target.addFunctionUrl({ authType });
    if (props.httpApi) this.httpApi = this.createHttpApi(authType);

    const metricOptions = { period: Duration.minutes(1) };
    this.errorsAlarm = this.function.metricErrors(metricOptions).createAlarm(this, 'ErrorsAlarm', {
      threshold: 1,
      evaluationPeriods: 1,
      alarmDescription: 'The Kiln model function returned errors.',
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.throttlesAlarm = this.function.metricThrottles(metricOptions).createAlarm(this, 'ThrottlesAlarm', {
      threshold: 1,
      evaluationPeriods: 1,
      alarmDescription: 'Invocations of the Kiln model function were throttled.',
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const durationThreshold = props.durationAlarmThreshold ?? Duration.millis(timeout.toMilliseconds() * 0.8);
    this.durationAlarm = this.function
      .metricDuration({ ...metricOptions, statistic: 'p99' })
      .createAlarm(this, 'DurationAlarm', {
        threshold: durationThreshold.toMilliseconds(),
        evaluationPeriods: 3,
        alarmDescription: 'p99 duration of the Kiln model function is near its timeout.',
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
  }

  /** A role that may write to its own log group only (plus ENI management inside a VPC). */
  private createRole(props: KilnLambdaModelProps): iam.Role {
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      permissionsBoundary: props.permissionsBoundary,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    if (props.existingVpc) {
      role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'Lambda needs to create and delete network interfaces in the VPC; the AWS managed policy is the documented minimum for that.',
      });
    }
    // the log group ARN ends in ':*', which names the group's streams, not other groups
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5',
      reason:
        "Log writes are limited to this function's own log group; the ':*' suffix selects its log streams.",
    });
    return role;
  }

  private createHttpApi(authType: lambda.FunctionUrlAuthType): apigw.HttpApi {
    const iamAuth = authType === lambda.FunctionUrlAuthType.AWS_IAM;
    const api = new apigw.HttpApi(this, 'HttpApi', {
      createDefaultStage: false,
      defaultIntegration: new HttpLambdaIntegration('Model', this.target),
      defaultAuthorizer: iamAuth ? new HttpIamAuthorizer() : undefined,
    });
    api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(this.logGroup) },
    });
    if (!iamAuth) {
      Validations.of(api).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Open by choice (functionUrlAuthType NONE): the Kiln server checks its own API key (KILN_API_KEY) on inference routes.',
      });
    }
    return api;
  }
}

function defaultMemorySize(props: KilnLambdaModelProps): number {
  return props.lambdaZipPath === undefined
    ? DEFAULT_LAMBDA_MEMORY_MB
    : lambdaMemoryMb(memoryNeedsInZip(props.lambdaZipPath));
}

function checkProps(props: KilnLambdaModelProps): void {
  if (props.lambdaZipPath !== undefined && props.code !== undefined)
    throw new Error('KilnLambdaModel: give either lambdaZipPath or code, not both');
  if (props.lambdaZipPath === undefined && props.code === undefined)
    throw new Error(
      'KilnLambdaModel: lambdaZipPath or code is required (build the zip with `kiln deploy BUNDLE_DIR --target lambda --dry-run --out OUT`: OUT/lambda.zip)',
    );
  rejectBoth('KilnLambdaModel', props, 'existingLogGroup', 'logGroupProps');
  if (!props.existingVpc && (props.vpcSubnets || props.securityGroups))
    throw new Error('KilnLambdaModel: vpcSubnets and securityGroups require existingVpc');
  if (props.provisionedConcurrentExecutions !== undefined && props.provisionedConcurrentExecutions < 1)
    throw new Error(
      `KilnLambdaModel: provisionedConcurrentExecutions must be at least 1, got ${props.provisionedConcurrentExecutions}`,
    );
}
