/**
 * KilnGpuService: `kiln serve` on an Auto Scaling group of NVIDIA GPU instances behind an Application Load
 * Balancer, scaled on requests per instance. The server folder (a self-contained kiln-serve.mjs and the
 * bundles, written by `kiln deploy --target gpu`) travels as an S3 asset that each instance copies at boot.
 */
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { rejectBoth } from './props.js';
import { gpuUserData, type KilnGpuBatching } from './gpu-user-data.js';

/** The families with NVIDIA GPUs the WebGPU backend targets: A10G, L4, L40S. */
export const GPU_INSTANCE_FAMILIES = ['g5', 'g6', 'g6e'] as const;
/** Ubuntu 22.04 Deep Learning Base AMI with the NVIDIA driver, kept current by AWS. */
export const DEFAULT_GPU_AMI_PARAMETER =
  '/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id';
export const HEALTH_CHECK_PATH = '/v2/health/ready';

export interface KilnGpuServiceProps {
  /**
   * The server folder, uploaded as an S3 asset: kiln-serve.mjs and models/<name>/ (one compiled bundle
   * each), as `kiln deploy BUNDLE_DIR... --target gpu --dry-run --out OUT` writes it to OUT/gpu-server.
   */
  readonly serverDir: string;
  /** Give at most one of `existingVpc` and `vpcProps`. */
  readonly existingVpc?: ec2.IVpc;
  /** @default - two AZs, one NAT gateway, flow logs to CloudWatch Logs */
  readonly vpcProps?: ec2.VpcProps;
  /** A g5, g6 or g6e instance type. @default 'g5.xlarge' */
  readonly instanceType?: string;
  /** Give at most one of `machineImage` and `amiParameterName`. @default - from `amiParameterName` */
  readonly machineImage?: ec2.IMachineImage;
  /** SSM parameter holding the AMI id. @default DEFAULT_GPU_AMI_PARAMETER */
  readonly amiParameterName?: string;
  /** The port `kiln serve` listens on. @default 8080 */
  readonly port?: number;
  /** Root volume size in GiB (encrypted gp3). @default 100 */
  readonly volumeSizeGiB?: number;
  /** @default 1 */
  readonly minCapacity?: number;
  /** @default 2 */
  readonly maxCapacity?: number;
  /** Target tracking keeps requests per instance per minute near this. @default 600 */
  readonly targetRequestsPerInstance?: number;
  /** @default true */
  readonly internetFacing?: boolean;
  /** Bucket for the load balancer's access logs. Give at most one of `existingLogBucket` and `logBucketProps`. */
  readonly existingLogBucket?: s3.IBucket;
  /** @default - SSE-S3 encrypted, TLS only, public access blocked, retained */
  readonly logBucketProps?: s3.BucketProps;
  /** Topic told of every scaling event. @default - no notifications */
  readonly notificationsTopic?: sns.ITopic;
  /** Dynamic batching of concurrent requests (`kiln serve --max-batch`). @default - none: one request per run */
  readonly batching?: KilnGpuBatching;
}

export class KilnGpuService extends Construct {
  public readonly vpc: ec2.IVpc;
  public readonly role: iam.Role;
  public readonly launchTemplate: ec2.LaunchTemplate;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly logBucket: s3.IBucket;
  public readonly serverAsset: s3assets.Asset;

  constructor(scope: Construct, id: string, props: KilnGpuServiceProps) {
    super(scope, id);
    checkProps(props);
    const models = servedModels(props.serverDir);
    if (Token.isUnresolved(Stack.of(this).region))
      throw new Error(
        "KilnGpuService: the stack needs an explicit env.region (load balancer access logs are granted to that region's log delivery account)",
      );
    const port = props.port ?? 8080;

    this.vpc = props.existingVpc ?? this.createVpc(props.vpcProps);
    this.serverAsset = new s3assets.Asset(this, 'Server', { path: props.serverDir });
    this.role = this.createRole();

    const instanceSg = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: this.vpc,
      description: 'Kiln GPU instances: the model port, from the load balancer only',
    });
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      instanceType: new ec2.InstanceType(props.instanceType ?? 'g5.xlarge'),
      machineImage:
        props.machineImage ??
        ec2.MachineImage.fromSsmParameter(props.amiParameterName ?? DEFAULT_GPU_AMI_PARAMETER),
      role: this.role,
      securityGroup: instanceSg,
      requireImdsv2: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      detailedMonitoring: true,
      blockDevices: [
        {
          deviceName: '/dev/sda1',
          volume: ec2.BlockDeviceVolume.ebs(props.volumeSizeGiB ?? 100, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
      userData: gpuUserData({
        serverUrl: this.serverAsset.s3ObjectUrl,
        region: Stack.of(this).region,
        port,
        models,
        batching: props.batching,
      }),
    });

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'AutoScalingGroup', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: this.launchTemplate,
      minCapacity: props.minCapacity ?? 1,
      maxCapacity: props.maxCapacity ?? 2,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.minutes(10),
      }),
      notifications: props.notificationsTopic ? [{ topic: props.notificationsTopic }] : undefined,
    });
    if (!props.notificationsTopic) {
      Validations.of(this.autoScalingGroup).acknowledge({
        id: 'AwsSolutions-AS3',
        reason:
          'No notificationsTopic was given; scaling activity stays visible in the group activity history and EventBridge.',
      });
    }

    this.logBucket = props.existingLogBucket ?? this.createLogBucket(props.logBucketProps);
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: props.internetFacing ?? true,
      dropInvalidHeaderFields: true,
    });
    this.loadBalancer.logAccessLogs(this.logBucket, 'alb');
    const listener = this.loadBalancer.addListener('Http', { port: 80, open: true });
    this.targetGroup = listener.addTargets('Kiln', {
      port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.autoScalingGroup],
      healthCheck: { path: HEALTH_CHECK_PATH, healthyHttpCodes: '200', interval: Duration.seconds(15) },
      deregistrationDelay: Duration.seconds(30),
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'The load balancer is the public entry point of the model server; instances accept only its traffic.',
    });

    this.autoScalingGroup.scaleOnRequestCount('RequestsPerInstance', {
      targetRequestsPerMinute: props.targetRequestsPerInstance ?? 600,
    });
  }

  private createVpc(vpcProps: ec2.VpcProps | undefined): ec2.Vpc {
    return new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      flowLogs: { cloudwatch: { destination: ec2.FlowLogDestination.toCloudWatchLogs() } },
      ...vpcProps,
    });
  }

  /** SSM Session Manager for operators, and read access to exactly the server folder's object. */
  private createRole(): iam.Role {
    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.serverAsset.bucket.arnForObjects(this.serverAsset.s3ObjectKey)],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason:
        'Session Manager replaces SSH (no key pair, no port 22); the AWS managed policy is its documented minimum.',
    });
    return role;
  }

  private createLogBucket(bucketProps: s3.BucketProps | undefined): s3.Bucket {
    const bucket = new s3.Bucket(this, 'AccessLogs', {
      // ALB access logs accept SSE-S3 only, not KMS
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      removalPolicy: RemovalPolicy.RETAIN,
      ...bucketProps,
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is itself the access log destination; logging it would log the logs.',
    });
    return bucket;
  }
}

/** The bundle folders under serverDir/models, checked to be there with the server beside them. */
function servedModels(serverDir: string): string[] {
  const hint =
    'build it with `kiln deploy BUNDLE_DIR... --target gpu --dry-run --out OUT` and pass OUT/gpu-server';
  if (!existsSync(join(serverDir, 'kiln-serve.mjs')))
    throw new Error(`KilnGpuService: serverDir ${serverDir} has no kiln-serve.mjs; ${hint}`);
  const modelsDir = join(serverDir, 'models');
  const models = existsSync(modelsDir)
    ? readdirSync(modelsDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort()
    : [];
  if (models.length === 0)
    throw new Error(`KilnGpuService: serverDir ${serverDir} has no models/<name>/ bundle; ${hint}`);
  // the names become part of the systemd unit's command line
  const unsafe = models.find((name) => !/^[\w.-]+$/.test(name));
  if (unsafe !== undefined)
    throw new Error(
      `KilnGpuService: model folder name "${unsafe}" in ${serverDir}/models may hold only letters, digits, _ . -`,
    );
  return models;
}

function checkProps(props: KilnGpuServiceProps): void {
  rejectBoth('KilnGpuService', props, 'existingVpc', 'vpcProps');
  rejectBoth('KilnGpuService', props, 'machineImage', 'amiParameterName');
  rejectBoth('KilnGpuService', props, 'existingLogBucket', 'logBucketProps');
  const type = props.instanceType;
  if (type !== undefined) {
    const family = type.split('.')[0];
    if (
      !(GPU_INSTANCE_FAMILIES as readonly string[]).includes(family) ||
      !/^[a-z0-9]+\.[a-z0-9]+$/.test(type)
    )
      throw new Error(
        `KilnGpuService: instanceType must be a ${GPU_INSTANCE_FAMILIES.join(', ')} instance (e.g. g5.xlarge), got "${type}"`,
      );
  }
  const { batching } = props;
  if (batching !== undefined) {
    if (!Number.isInteger(batching.maxBatch) || batching.maxBatch < 1)
      throw new Error(
        `KilnGpuService: batching.maxBatch must be a whole number ≥ 1, got ${batching.maxBatch}`,
      );
    if (batching.delayMs !== undefined && (!Number.isInteger(batching.delayMs) || batching.delayMs < 0))
      throw new Error(`KilnGpuService: batching.delayMs must be a whole number ≥ 0, got ${batching.delayMs}`);
  }
  const min = props.minCapacity ?? 1;
  const max = props.maxCapacity ?? 2;
  if (min > max) throw new Error(`KilnGpuService: minCapacity (${min}) exceeds maxCapacity (${max})`);
}
